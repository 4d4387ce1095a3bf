//! The SQL views of ordergraph. Each view is one `views/<name>.sql` file
//! holding one `CREATE VIEW`; [`register`] creates them all on a session,
//! and [`hook`] makes the engine do so on every session it builds.
//!
//! Every view is tested against a real engine session in one of the
//! `slt/*.slt` files, grouped by topic (`refund_lifecycle.slt` holds the
//! refund views).

use std::sync::Arc;

pub mod alerts;
mod leading_comments;
mod refund_template;

use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use ordergraph_engine::SessionHook;

/// A view: its name and the SQL that creates it.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// The view's name, also its file's and its test's.
    pub name: &'static str,
    /// The `CREATE VIEW` statement.
    pub sql: &'static str,
}

/// How a view is maintained (see [`ordergraph_engine::maintain_view`]),
/// as its header states it: `-- Maintained by: <key columns>`, and for a
/// view that ages with the report clock, `-- Refreshed every: <duration>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// The columns a commit's changes are followed by.
    pub key: Vec<String>,
    /// How often it is rebuilt whole as the report clock moves.
    pub refreshed_every: Option<std::time::Duration>,
}

impl View {
    /// How the view is maintained; `None` if it is a plain view.
    pub fn maintenance(&self) -> Result<Option<Maintenance>> {
        let Some(key) = leading_comments::leading_setting(self.sql, "Maintained by") else {
            return Ok(None);
        };
        let refreshed_every = leading_comments::leading_setting(self.sql, "Refreshed every")
            .map(|every| {
                let every = every.split_whitespace().next().unwrap_or_default();
                alerts::parse_duration(every).map_err(|e| {
                    DataFusionError::Plan(format!("view {}: Refreshed every: {e}", self.name))
                })
            })
            .transpose()?;
        Ok(Some(Maintenance {
            key: key.split(',').map(|k| k.trim().to_string()).collect(),
            refreshed_every,
        }))
    }
}

macro_rules! view {
    ($name:literal) => {
        View {
            name: $name,
            sql: include_str!(concat!("../views/", $name, ".sql")),
        }
    };
}

/// Every view, in dependency order.
pub const VIEWS: &[View] = &[
    view!("customers"),
    view!("identity_links"),
    view!("identity_evidence"),
    view!("status_consistency"),
    view!("drift_rate_monthly"),
    view!("drift_scenarios_monthly"),
    view!("refund_requests"),
    view!("refund_paths"),
    view!("refund_node_dwell"),
    view!("refund_heatmap"),
    view!("refund_escalations"),
    view!("refund_cycle_time"),
    view!("inventory_latest"),
    view!("order_line_demand"),
    view!("sku_velocity"),
    view!("stock_forecast"),
    view!("purchase_requests"),
    view!("purchase_escalations"),
    view!("customer_contacts"),
    view!("high_value_prospects"),
    view!("new_customer_coupon_abuse"),
    view!("mcid_health_tasks"),
    view!("order_risk"),
    view!("order_holds"),
    view!("credential_health"),
    view!("fulfillment_promise"),
    view!("order_snapshots"),
    view!("product_catalog"),
    view!("mcid_writeback"),
    view!("sync_command_status"),
    view!("alert_deliveries"),
    view!("erasures"),
    view!("audit_log"),
];

/// A segment: a view of customers (one row per `mcid`) that marketing
/// exports through `GET /v1/segments/{name}`.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// The view.
    pub name: &'static str,
    /// What its members have in common.
    pub description: &'static str,
    /// The column holding when a customer entered the segment (`?since=`).
    pub entered_at: &'static str,
    /// Whether the view carries `phone`, `email` and `wechat_unionid`
    /// itself; if not, the export joins `customer_contacts`.
    pub has_contacts: bool,
}

include!(concat!(env!("OUT_DIR"), "/segments.rs"));

/// The segment views: the two built in, then those of `segments/*.sql`.
pub fn segments() -> impl Iterator<Item = &'static Segment> {
    BUILT_IN_SEGMENTS.iter().chain(FILE_SEGMENTS)
}

/// Every view: [`VIEWS`], then the segment files' views.
pub fn all_views() -> impl Iterator<Item = &'static View> {
    VIEWS.iter().chain(SEGMENT_VIEWS)
}

const BUILT_IN_SEGMENTS: &[Segment] = &[
    Segment {
        name: "high_value_prospects",
        description: "customers with at least prospect_min_orders orders inside one prospect_window_days window",
        entered_at: "qualified_at",
        has_contacts: true,
    },
    Segment {
        name: "new_customer_coupon_abuse",
        description: "customers who used a new-customer coupon more than once, across channels and accounts",
        entered_at: "flagged_at",
        has_contacts: false,
    },
];

/// Creates every view on `ctx`, with the refund template's generated view
/// right after `refund_requests`, which it reads and the later refund views
/// build on.
pub async fn register(ctx: &SessionContext) -> Result<()> {
    for v in all_views() {
        ctx.sql(v.sql).await?;
        if let Some(m) = v.maintenance()? {
            let key: Vec<&str> = m.key.iter().map(String::as_str).collect();
            ordergraph_engine::maintain_view(ctx, v.name, &key, m.refreshed_every).await?;
        }
        if v.name == "refund_requests" {
            refund_template::register(ctx).await?;
        }
    }
    Ok(())
}

/// A session hook that registers every view, for [`ordergraph_engine::Engine::open`].
pub fn hook() -> SessionHook {
    Arc::new(|ctx: &SessionContext| {
        // View creation only plans; it never waits on I/O, so polling it to
        // completion here does not block a runtime thread for long.
        futures::executor::block_on(register(ctx))
    })
}
