//! Inlines `report_config`'s one row into the plan as literals.
//!
//! Views read the report clock and thresholds by joining the one-row
//! `report_config` (`FROM order_line_demand d CROSS JOIN report_config c
//! WHERE d.ordered_at >= c.now - ..`). To the optimizer such a predicate is
//! a join filter, so every row is computed before the join and filtered
//! after it. This rule knows the row at planning time (the settings and the
//! session's clock), replaces every column read from it by its value, and
//! drops the join with it, so the predicate only reads the other side and
//! `PushDownFilter` takes it down to the scans.
//!
//! Values are followed through projections (a literal, or an expression of
//! literals that folds to one), aliases, filters, sorts, limits, windows,
//! inner joins and the preserved side of outer and semi joins.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, NullEquality, Result, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, Filter, JoinType, LogicalPlan, Projection, lit};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::{ReportClock, ReportSettings, report_config_row};

/// The table this rule inlines.
const TABLE: &str = "report_config";

/// The optimizer rule (see the module's documentation).
#[derive(Debug)]
pub(crate) struct InlineReportConfig {
    settings: ReportSettings,
    /// `report.now` from the configuration.
    configured_now: Option<i64>,
}

impl InlineReportConfig {
    pub(crate) fn new(settings: ReportSettings, configured_now: Option<i64>) -> Self {
        Self {
            settings,
            configured_now,
        }
    }

    /// `report_config`'s row for this query, by column name.
    fn row(&self, config: &dyn OptimizerConfig) -> Result<HashMap<String, ScalarValue>> {
        let Some(now) = ReportClock::now_of(
            &config.options(),
            self.configured_now,
            config.query_execution_start_time(),
        ) else {
            return Ok(HashMap::new());
        };
        let row = report_config_row(&self.settings, now)?;
        let schema = row.schema();
        schema
            .fields()
            .iter()
            .zip(row.columns())
            .map(|(field, column)| {
                Ok((
                    field.name().clone(),
                    ScalarValue::try_from_array(column, 0)?,
                ))
            })
            .collect()
    }
}

impl OptimizerRule for InlineReportConfig {
    fn name(&self) -> &str {
        "inline_report_config"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        if !reads_table(&plan)? {
            return Ok(Transformed::no(plan));
        }
        let row = self.row(config)?;
        if row.is_empty() {
            return Ok(Transformed::no(plan));
        }
        let (plan, _) = inline(plan, &row)?;
        Ok(Transformed::yes(plan))
    }
}

/// Whether `plan` scans `report_config` anywhere.
fn reads_table(plan: &LogicalPlan) -> Result<bool> {
    plan.exists(|node| {
        Ok(matches!(node, LogicalPlan::TableScan(scan) if scan.table_name.table() == TABLE))
    })
}

/// The columns of a plan's output known to hold one value on every row, and
/// whether the plan has exactly one row.
#[derive(Default)]
struct Known {
    values: HashMap<Column, ScalarValue>,
    one_row: bool,
}

impl Known {
    /// Whether every output column of `plan` is known.
    fn covers(&self, plan: &LogicalPlan) -> bool {
        plan.schema()
            .columns()
            .iter()
            .all(|c| self.values.contains_key(c))
    }
}

/// `plan` with the known columns of its inputs replaced by their values, and
/// what is known of its own output.
fn inline(plan: LogicalPlan, row: &HashMap<String, ScalarValue>) -> Result<(LogicalPlan, Known)> {
    if let LogicalPlan::TableScan(scan) = &plan
        && scan.table_name.table() == TABLE
        && scan.filters.is_empty()
    {
        let values = plan
            .schema()
            .columns()
            .into_iter()
            .filter_map(|c| row.get(&c.name).map(|v| (c, v.clone())))
            .collect();
        let one_row = scan.fetch.is_none_or(|f| f > 0);
        return Ok((plan, Known { values, one_row }));
    }
    // Inputs first, each with what is known of it.
    let mut known_inputs = Vec::new();
    let plan = plan
        .map_children(|child| {
            let (child, known) = inline(child, row)?;
            known_inputs.push(known);
            Ok(Transformed::yes(child))
        })?
        .data;
    let mut values: HashMap<Column, ScalarValue> = HashMap::new();
    let preserved: Vec<bool> = match &plan {
        LogicalPlan::Join(join) => match join.join_type {
            JoinType::Inner => vec![true, true],
            JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => {
                vec![true, false]
            }
            JoinType::Right | JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => {
                vec![false, true]
            }
            JoinType::Full => vec![false, false],
        },
        _ => vec![true; known_inputs.len()],
    };
    for (known, keep) in known_inputs.iter().zip(&preserved) {
        if *keep {
            values.extend(known.values.iter().map(|(c, v)| (c.clone(), v.clone())));
        }
    }
    if let LogicalPlan::Join(join) = &plan
        && join.join_type == JoinType::Inner
        && (join.on.is_empty() || join.null_equality == NullEquality::NullEqualsNothing)
    {
        // An inner join with a known row is the other side with the row's
        // values as columns, filtered by the join's condition.
        let inputs = [&join.left, &join.right];
        for (side, known) in known_inputs.iter().enumerate() {
            if !(known.one_row && known.covers(inputs[side])) {
                continue;
            }
            let exprs = plan
                .schema()
                .iter()
                .map(|(qualifier, field)| {
                    let column = Column::new(qualifier.cloned(), field.name());
                    match known.values.get(&column) {
                        Some(value) if inputs[side].schema().has_column(&column) => {
                            lit(value.clone()).alias_qualified(qualifier.cloned(), field.name())
                        }
                        _ => Expr::Column(column),
                    }
                })
                .collect();
            let other = Arc::clone(inputs[1 - side]);
            let condition = join
                .on
                .iter()
                .map(|(l, r)| l.clone().eq(r.clone()))
                .chain(join.filter.clone())
                .reduce(Expr::and);
            let mut plan = LogicalPlan::Projection(Projection::try_new(exprs, other)?);
            if let Some(condition) = condition {
                let condition = replace_columns_in(condition, &values)?;
                plan = LogicalPlan::Filter(Filter::try_new(condition, Arc::new(plan))?);
            }
            let one_row =
                known_inputs[1 - side].one_row && join.on.is_empty() && join.filter.is_none();
            return Ok((plan, Known { values, one_row }));
        }
    }
    if values.is_empty() {
        return Ok((plan, Known::default()));
    }
    let plan = replace_columns(plan, &values)?;
    let known = match &plan {
        LogicalPlan::Projection(projection) => {
            let simplifier = simplifier(projection.input.schema());
            let mut out = HashMap::new();
            for (expr, column) in projection.expr.iter().zip(plan.schema().columns()) {
                let expr = match expr {
                    Expr::Alias(alias) => alias.expr.as_ref().clone(),
                    expr => expr.clone(),
                };
                if let Ok(Expr::Literal(value, _)) = simplifier.simplify(expr) {
                    out.insert(column, value);
                }
            }
            Known {
                values: out,
                one_row: known_inputs[0].one_row,
            }
        }
        LogicalPlan::Aggregate(aggregate)
            if !aggregate
                .group_expr
                .iter()
                .any(|e| matches!(e, Expr::GroupingSet(_))) =>
        {
            // A group key that is a value is that value on every row.
            let mut out = HashMap::new();
            for (expr, column) in aggregate.group_expr.iter().zip(plan.schema().columns()) {
                if let Expr::Literal(value, _) = expr.clone().unalias() {
                    out.insert(column, value);
                }
            }
            Known {
                values: out,
                one_row: false,
            }
        }
        LogicalPlan::SubqueryAlias(_) => {
            // The same columns under the alias, by position.
            let input = plan.inputs()[0].schema().columns();
            let values = input
                .into_iter()
                .zip(plan.schema().columns())
                .filter_map(|(from, to)| values.get(&from).map(|v| (to, v.clone())))
                .collect();
            Known {
                values,
                one_row: known_inputs[0].one_row,
            }
        }
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Join(_) => Known {
            values,
            one_row: false,
        },
        _ => Known::default(),
    };
    Ok((plan, known))
}

/// `plan` with every column in `values` read as its value, output names
/// kept.
fn replace_columns(
    plan: LogicalPlan,
    values: &HashMap<Column, ScalarValue>,
) -> Result<LogicalPlan> {
    if let LogicalPlan::Join(mut join) = plan {
        // Join keys stay columns; the filter reads values.
        join.filter = join
            .filter
            .map(|f| replace_columns_in(f, values))
            .transpose()?;
        return Ok(LogicalPlan::Join(join));
    }
    let names = NamePreserver::new(&plan);
    Ok(plan
        .map_expressions(|expr| {
            let name = names.save(&expr);
            Ok(Transformed::yes(
                name.restore(replace_columns_in(expr, values)?),
            ))
        })?
        .data)
}

/// `expr` with every column in `values` read as its value.
fn replace_columns_in(expr: Expr, values: &HashMap<Column, ScalarValue>) -> Result<Expr> {
    expr.transform_up(|e| match &e {
        Expr::Column(c) => match values.get(c) {
            Some(v) => Ok(Transformed::yes(lit(v.clone()))),
            None => Ok(Transformed::no(e)),
        },
        _ => Ok(Transformed::no(e)),
    })
    .map(|t| t.data)
}

/// Folds expressions of literals over `schema`.
fn simplifier(schema: &Arc<DFSchema>) -> ExprSimplifier {
    ExprSimplifier::new(
        SimplifyContext::builder()
            .with_schema(Arc::clone(schema))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};

    use crate::{Engine, Format};

    /// 2026-01-10T00:00:00Z.
    const NOW: i64 = 1_768_003_200_000_000;

    fn engine() -> (tempfile::TempDir, std::sync::Arc<Engine>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), vec![]).unwrap();
        let csv = "order_id,channel,ordered_at\n\
                   1,jd,2026-01-01T00:00:00Z\n\
                   2,jd,2026-01-08T00:00:00Z\n\
                   3,jd,2026-01-09T12:00:00Z\n";
        engine
            .ingest("orders", Format::Csv, "o.csv", Bytes::from(csv))
            .unwrap();
        (dir, engine)
    }

    /// The optimized plan of `sql` and its one value, as of `NOW`.
    async fn plan_and_value(engine: &std::sync::Arc<Engine>, sql: &str) -> (String, Option<i64>) {
        let frame = engine.query_at(sql, Some(NOW)).await.unwrap();
        let plan = frame.clone().into_optimized_plan().unwrap();
        let batches = frame.collect().await.unwrap();
        let column = batches[0].column(0);
        let value = (!column.is_null(0)).then(|| column.as_primitive::<Int64Type>().value(0));
        (plan.display_indent().to_string(), value)
    }

    #[tokio::test]
    async fn a_filter_on_the_report_row_reads_only_the_other_side() {
        let (_dir, engine) = engine();
        for sql in [
            "SELECT count(*) FROM orders o CROSS JOIN report_config c \
             WHERE o.ordered_at >= c.now - INTERVAL '2 days'",
            // Through a CTE's expression and a comma join.
            "WITH cfg AS (SELECT now - INTERVAL '2 days' AS since FROM report_config) \
             SELECT count(*) FROM orders o, cfg WHERE o.ordered_at >= cfg.since",
            // Report row on the left, threshold from a second column.
            "SELECT count(*) FROM report_config c JOIN orders o \
             ON o.ordered_at >= c.now - CAST(CAST(c.safety_days - 1 AS VARCHAR) || ' days' AS INTERVAL)",
        ] {
            let (plan, count) = plan_and_value(&engine, sql).await;
            assert_eq!(count, Some(2), "{sql}");
            assert!(!plan.contains("report_config"), "{sql}\n{plan}");
        }
    }

    #[tokio::test]
    async fn the_row_stays_a_row_where_it_may_be_missing() {
        let (_dir, engine) = engine();
        // Outer-joined and not matched: its columns are NULL, not values.
        let (_, value) = plan_and_value(
            &engine,
            "SELECT c.safety_days FROM (VALUES (1)) v(x) \
             LEFT JOIN report_config c ON v.x = 2",
        )
        .await;
        assert_eq!(value, None);
        // Filtered away: no row.
        let frame = engine
            .query_at(
                "SELECT count(*) FROM orders o CROSS JOIN \
                 (SELECT * FROM report_config WHERE safety_days > 100) c",
                Some(NOW),
            )
            .await
            .unwrap();
        let batches = frame.collect().await.unwrap();
        assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 0);
    }

    #[tokio::test]
    async fn the_table_reads_the_session_clock() {
        let (_dir, engine) = engine();
        for now in [NOW, NOW + 3_600_000_000] {
            let batches = engine
                .query_at("SELECT now FROM report_config", Some(now))
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let column = batches[0]
                .column(0)
                .as_primitive::<TimestampMicrosecondType>();
            assert_eq!(column.value(0), now);
        }
    }
}
