//! `system_statuses(reports) -> struct`: each system's latest report of one
//! order's status, one field triple per system of [`STATUS_SYSTEMS`].
//!
//! The same pick written as SQL groups the reports by order and system and
//! takes two ordered `first_value` aggregates per group; over millions of
//! orders DataFusion keeps each group's ordering as scalar values and
//! spends most of the view's time there. Here the reports are collected
//! per order with `array_agg` (a grouped accumulator) and picked in one
//! pass.

use std::cmp::Reverse;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, StringBuilder, StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimestampMicrosecondType};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::status_episodes::STATUS_SYSTEMS;
use crate::strings::{struct_field, utc_micros};

/// One system's report: its status, when the system changed it, and when
/// it was confirmed (if ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusReport<'a> {
    pub status: &'a str,
    pub updated_at: i64,
    pub confirmed_at: Option<i64>,
}

impl StatusReport<'_> {
    /// Larger is later: the latest `updated_at`, then the latest
    /// `confirmed_at` (a missing one before any), then the smaller status.
    fn recency(&self) -> (i64, Option<i64>, Reverse<&str>) {
        (self.updated_at, self.confirmed_at, Reverse(self.status))
    }
}

/// Folds `report` of system `system` (an index of [`STATUS_SYSTEMS`]) into
/// `latest`, keeping each system's latest report. The result does not
/// depend on the order reports are folded in.
pub fn keep_latest<'a>(
    latest: &mut [Option<StatusReport<'a>>; 4],
    system: usize,
    report: StatusReport<'a>,
) {
    match &latest[system] {
        Some(kept) if kept.recency() >= report.recency() => {}
        _ => latest[system] = Some(report),
    }
}

#[user_doc(
    doc_section(label = "Status Functions"),
    description = "Picks each system's latest report among one order's status reports (a list of structs with fields `system`, `status`, `updated_at` and `confirmed_at`, as collected by `array_agg(named_struct(...))`): the one with the latest `updated_at`, then the latest `confirmed_at` (a missing one counts as earliest), then the smallest status. Returns a struct with, for each system of platform, erp, wms and crm, the fields `<system>_status`, `<system>_updated_at` and `<system>_confirmed_at`, all NULL for a system that did not report. Reports of other systems, or without a status or `updated_at`, are ignored.",
    syntax_example = "system_statuses(reports)",
    sql_example = r#"```sql
> select channel, order_id, system_statuses(array_agg(named_struct('system', system, 'status', lower(trim(status_code)), 'updated_at', updated_at, 'confirmed_at', confirmed_at)))['erp_status'] from status_events group by channel, order_id;
```"#,
    argument(
        name = "reports",
        description = "List of structs with a string `system`, a string `status` and timestamps `updated_at` and `confirmed_at`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SystemStatusesFunc {
    signature: Signature,
}

impl Default for SystemStatusesFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemStatusesFunc {
    /// A `system_statuses` taking one list of report structs.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// The returned struct's fields: status, updated_at and confirmed_at of
/// each system in turn.
fn result_fields() -> Fields {
    let ts = utc_micros();
    STATUS_SYSTEMS
        .iter()
        .flat_map(|system| {
            [
                Field::new(format!("{system}_status"), DataType::Utf8, true),
                Field::new(format!("{system}_updated_at"), ts.clone(), true),
                Field::new(format!("{system}_confirmed_at"), ts.clone(), true),
            ]
        })
        .collect()
}

impl ScalarUDFImpl for SystemStatusesFunc {
    fn name(&self) -> &str {
        "system_statuses"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            DataType::List(item) if matches!(item.data_type(), DataType::Struct(_)) => {
                Ok(DataType::Struct(result_fields()))
            }
            other => plan_err!(
                "system_statuses expects a list of structs (system, status, updated_at, confirmed_at), got {other}"
            ),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let lists = args.args[0].to_array(rows)?;
        let lists = lists.as_list::<i32>();
        let reports = lists.values().as_struct();
        let column = |name, to: &DataType| {
            struct_field(reports, name, to, "system_statuses: the report struct")
        };
        let systems = column("system", &DataType::Utf8)?;
        let statuses = column("status", &DataType::Utf8)?;
        let updated = column("updated_at", &utc_micros())?;
        let confirmed = column("confirmed_at", &utc_micros())?;
        let (systems, statuses) = (systems.as_string::<i32>(), statuses.as_string::<i32>());
        let updated = updated.as_primitive::<TimestampMicrosecondType>();
        let confirmed = confirmed.as_primitive::<TimestampMicrosecondType>();

        let mut out: [SystemColumns; 4] = Default::default();
        for row in 0..lists.len() {
            let mut latest = [None; 4];
            if lists.is_valid(row) {
                let offsets = lists.value_offsets();
                for i in offsets[row] as usize..offsets[row + 1] as usize {
                    if systems.is_null(i) || statuses.is_null(i) || updated.is_null(i) {
                        continue;
                    }
                    let Some(system) = STATUS_SYSTEMS.iter().position(|s| *s == systems.value(i))
                    else {
                        continue;
                    };
                    let report = StatusReport {
                        status: statuses.value(i),
                        updated_at: updated.value(i),
                        confirmed_at: confirmed.is_valid(i).then(|| confirmed.value(i)),
                    };
                    keep_latest(&mut latest, system, report);
                }
            }
            for (columns, report) in out.iter_mut().zip(latest) {
                columns.push(report);
            }
        }
        let columns: Vec<ArrayRef> = out.into_iter().flat_map(SystemColumns::finish).collect();
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            result_fields(),
            columns,
            lists.nulls().cloned(),
        )?)))
    }
}

/// Column builders for one system's fields.
#[derive(Default)]
struct SystemColumns {
    status: StringBuilder,
    updated_at: Vec<Option<i64>>,
    confirmed_at: Vec<Option<i64>>,
}

impl SystemColumns {
    fn push(&mut self, report: Option<StatusReport>) {
        self.status.append_option(report.map(|r| r.status));
        self.updated_at.push(report.map(|r| r.updated_at));
        self.confirmed_at.push(report.and_then(|r| r.confirmed_at));
    }

    fn finish(mut self) -> [ArrayRef; 3] {
        let ts = |values: Vec<Option<i64>>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
        };
        [
            Arc::new(self.status.finish()),
            ts(self.updated_at),
            ts(self.confirmed_at),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: &str, updated_at: i64, confirmed_at: Option<i64>) -> StatusReport<'_> {
        StatusReport {
            status,
            updated_at,
            confirmed_at,
        }
    }

    /// Every order of folding gives the same pick: later update, then
    /// later confirmation (none is earliest), then the smaller status.
    #[test]
    fn the_pick_does_not_depend_on_the_order_of_reports() {
        let reports = [
            report("paid", 10, Some(11)),
            report("shipped", 20, None),
            report("signed", 20, Some(5)),
            report("refunded", 20, Some(5)),
            report("created", 5, Some(30)),
        ];
        let mut order: Vec<usize> = (0..reports.len()).collect();
        let mut picks = std::collections::HashSet::new();
        // Every rotation and its reverse.
        for _ in 0..reports.len() {
            order.rotate_left(1);
            for reversed in [false, true] {
                let mut latest = [None; 4];
                let mut seq = order.clone();
                if reversed {
                    seq.reverse();
                }
                for i in seq {
                    keep_latest(&mut latest, 1, reports[i]);
                }
                picks.insert(latest[1]);
            }
        }
        assert_eq!(
            picks.into_iter().collect::<Vec<_>>(),
            vec![Some(report("refunded", 20, Some(5)))]
        );
    }
}
