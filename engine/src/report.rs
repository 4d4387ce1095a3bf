//! Report settings: every threshold the analytics views use, in one place,
//! and the report clock ("now"), which a test or a user back-dating a report
//! can set. Views read them from the one-row table `report_config`.

use std::any::Any;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::error::DataFusionError;
use serde::Deserialize;

use crate::table::timestamp_type;

mod inline;

pub(crate) use inline::InlineReportConfig;

/// The report time of a session (microseconds since the epoch, UTC), kept
/// in its configuration options so that sessions sharing planned views each
/// keep their own clock, and the optimizer sees it (see [`inline`]).
/// Unset, a query reports as of its start.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReportClock {
    pub(crate) now: Option<i64>,
}

impl ReportClock {
    pub(crate) fn at(now: i64) -> Self {
        Self { now: Some(now) }
    }

    /// The report time of a query planned with `options`: the session's
    /// clock, else `configured` (`report.now`), else the query's start.
    pub(crate) fn now_of(
        options: &datafusion::common::config::ConfigOptions,
        configured: Option<i64>,
        query_start: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Option<i64> {
        options
            .extensions
            .get::<Self>()
            .and_then(|clock| clock.now)
            .or(configured)
            .or_else(|| query_start.map(|t| t.timestamp_micros()))
    }
}

impl ConfigExtension for ReportClock {
    const PREFIX: &'static str = "ordergraph_report";
}

impl ExtensionOptions for ReportClock {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(*self)
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::error::Result<()> {
        match key {
            "now" => {
                self.now = Some(value.parse().map_err(|_| {
                    DataFusionError::Configuration(format!(
                        "ordergraph_report.now: {value:?} is not microseconds since the epoch"
                    ))
                })?);
                Ok(())
            }
            _ => Err(DataFusionError::Configuration(format!(
                "no setting ordergraph_report.{key}"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: format!("{}.now", Self::PREFIX),
            value: self.now.map(|n| n.to_string()),
            description: "Report time of the views, microseconds since the epoch (UTC)",
        }]
    }
}

/// `[report]` in `ordergraph.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// A fixed report time (RFC 3339); unset means the wall clock.
    pub now: Option<String>,
    /// The business time zone: where the views cut days, weeks and months
    /// (`business_time`). An IANA name or an offset.
    pub timezone: String,
    /// Systems whose times differ by more than this have drifted.
    pub drift_tolerance_seconds: i64,
    /// Share of a system's orders of the last hour that drifted above
    /// which the drift alert fires.
    pub drift_alert_rate: f64,
    /// Orders a system must have updated in the last hour for its drift
    /// rate to count.
    pub drift_alert_min_orders: i64,
    /// A refund stuck this long at a node goes to the group lead.
    pub escalate_group_lead_hours: i64,
    /// ... to the finance director.
    pub escalate_director_hours: i64,
    /// ... becomes a ticket.
    pub escalate_ticket_hours: i64,
    /// Window for high-value prospects.
    pub prospect_window_days: i64,
    /// Orders within the window that make a prospect.
    pub prospect_min_orders: i64,
    /// Orders from one IP within an hour above which a scalper is suspected.
    pub scalper_orders_per_hour: i64,
    /// Distinct ship addresses that, with the above, make a scalper.
    pub scalper_min_addresses: i64,
    /// A new account's first order above this (CNY) is high value.
    pub high_value_amount: i64,
    /// An account younger than this is new.
    pub new_account_hours: i64,
    /// Weight of today's sales in the velocity.
    pub velocity_weight_today: f64,
    /// Weight of yesterday's sales.
    pub velocity_weight_yesterday: f64,
    /// Weight of each of the five days before.
    pub velocity_weight_earlier: f64,
    /// Days of cover kept on top of the supplier's lead time.
    pub safety_days: i64,
    /// Hours an unpaid order holds its stock before the platform cancels it.
    pub unpaid_hold_hours: i64,
    /// Hours a supplier has to confirm a purchase request.
    pub supplier_confirm_hours: i64,
    /// A credential expiring sooner than this is critical.
    pub credential_critical_hours: i64,
    /// Coupon codes only a new customer may use (compared trimmed and
    /// case-insensitively).
    pub new_customer_coupons: Vec<String>,
    /// The `order_risk` rules that hold an order not shipped yet for
    /// review (the others only flag it).
    pub hold_rules: Vec<String>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            now: None,
            timezone: "Asia/Shanghai".into(),
            drift_tolerance_seconds: 3,
            drift_alert_rate: 0.05,
            drift_alert_min_orders: 20,
            escalate_group_lead_hours: 2,
            escalate_director_hours: 4,
            escalate_ticket_hours: 24,
            prospect_window_days: 90,
            prospect_min_orders: 3,
            scalper_orders_per_hour: 5,
            scalper_min_addresses: 3,
            high_value_amount: 5000,
            new_account_hours: 24,
            velocity_weight_today: 1.5,
            velocity_weight_yesterday: 1.2,
            velocity_weight_earlier: 1.0,
            safety_days: 3,
            unpaid_hold_hours: 24,
            supplier_confirm_hours: 48,
            credential_critical_hours: 2,
            new_customer_coupons: ["NEWCUST", "NEWUSER", "FIRSTORDER", "新人券", "首单立减"]
                .map(String::from)
                .to_vec(),
            hold_rules: ["scalper", "new_account_high_value"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Schema of `report_config`.
pub(crate) fn report_config_schema() -> SchemaRef {
    let int = |n: &str| Field::new(n, DataType::Int64, false);
    let float = |n: &str| Field::new(n, DataType::Float64, false);
    Arc::new(Schema::new(vec![
        Field::new("now", timestamp_type(), false),
        Field::new("timezone", DataType::Utf8, false),
        int("drift_tolerance_seconds"),
        float("drift_alert_rate"),
        int("drift_alert_min_orders"),
        int("escalate_group_lead_hours"),
        int("escalate_director_hours"),
        int("escalate_ticket_hours"),
        int("prospect_window_days"),
        int("prospect_min_orders"),
        int("scalper_orders_per_hour"),
        int("scalper_min_addresses"),
        Field::new("high_value_amount", DataType::Decimal128(12, 2), false),
        int("new_account_hours"),
        float("velocity_weight_today"),
        float("velocity_weight_yesterday"),
        float("velocity_weight_earlier"),
        int("safety_days"),
        int("unpaid_hold_hours"),
        int("supplier_confirm_hours"),
        int("credential_critical_hours"),
        Field::new(
            "new_customer_coupons",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            false,
        ),
        Field::new(
            "hold_rules",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            false,
        ),
    ]))
}

/// The one row of `report_config` at report time `now` (microseconds).
pub(crate) fn report_config_row(
    s: &ReportSettings,
    now: i64,
) -> datafusion::error::Result<RecordBatch> {
    let int = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    let float = |v: f64| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
    let columns = vec![
        Arc::new(TimestampMicrosecondArray::from(vec![now]).with_timezone("UTC")) as ArrayRef,
        Arc::new(StringArray::from(vec![s.timezone.as_str()])) as ArrayRef,
        int(s.drift_tolerance_seconds),
        float(s.drift_alert_rate),
        int(s.drift_alert_min_orders),
        int(s.escalate_group_lead_hours),
        int(s.escalate_director_hours),
        int(s.escalate_ticket_hours),
        int(s.prospect_window_days),
        int(s.prospect_min_orders),
        int(s.scalper_orders_per_hour),
        int(s.scalper_min_addresses),
        Arc::new(
            Decimal128Array::from(vec![i128::from(s.high_value_amount) * 100])
                .with_precision_and_scale(12, 2)?,
        ),
        int(s.new_account_hours),
        float(s.velocity_weight_today),
        float(s.velocity_weight_yesterday),
        float(s.velocity_weight_earlier),
        int(s.safety_days),
        int(s.unpaid_hold_hours),
        int(s.supplier_confirm_hours),
        int(s.credential_critical_hours),
        // Coupons are compared trimmed and upper-cased.
        text_list(
            s.new_customer_coupons
                .iter()
                .map(|c| c.trim().to_uppercase()),
        ),
        text_list(s.hold_rules.iter().cloned()),
    ];
    Ok(RecordBatch::try_new(report_config_schema(), columns)?)
}

/// `values` as a one-row list.
fn text_list(values: impl Iterator<Item = String>) -> ArrayRef {
    let mut list = ListBuilder::new(StringBuilder::new());
    for value in values {
        list.values().append_value(value);
    }
    list.append(true);
    Arc::new(list.finish())
}
