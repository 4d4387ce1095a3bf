//! The view `refund_template_nodes(refund_id, position, node)`: the nodes of
//! the refund lifecycle template that apply to each refund. The template is
//! configuration (`refund_template.toml` in the data directory, handed to
//! every session as a config extension), so the view is generated from it:
//! one pass over `refund_requests` (each refund as last sent) evaluates
//! every enabled node's condition, and a join with the list of nodes keeps
//! a row for each one that holds.

use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use ordergraph_engine::{RefundTemplate, TEMPLATE_FILE};

/// Creates the view on `ctx` from the session's template (the default
/// template when the session has none). A condition naming a column
/// `refunds` lacks fails here, naming the template file.
pub(crate) async fn register(ctx: &SessionContext) -> Result<()> {
    let template = ctx
        .state()
        .config()
        .get_extension::<RefundTemplate>()
        .unwrap_or_default();
    ctx.sql(&view_sql(&template))
        .await
        .map_err(|e| DataFusionError::Configuration(format!("{TEMPLATE_FILE}: {e}")))?;
    Ok(())
}

/// The `CREATE VIEW` statement for `template`. Conditions are spliced in as
/// the template loader printed them back: each one parsed as exactly one
/// SQL expression.
pub(crate) fn view_sql(template: &RefundTemplate) -> String {
    let enabled: Vec<(usize, &str, &str)> = template
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.enabled)
        .map(|(i, n)| {
            (
                i + 1,
                n.name.as_str(),
                n.condition.as_deref().unwrap_or("TRUE"),
            )
        })
        .collect();
    if enabled.is_empty() {
        return "CREATE VIEW refund_template_nodes AS \
                SELECT refund_id, CAST(NULL AS BIGINT) AS position, CAST(NULL AS VARCHAR) AS node \
                FROM refund_requests WHERE FALSE"
            .to_string();
    }
    let applies: Vec<String> = enabled
        .iter()
        .map(|(position, _, condition)| {
            format!("coalesce(CAST(({condition}) AS BOOLEAN), FALSE) AS applies_{position}")
        })
        .collect();
    let nodes: Vec<String> = enabled
        .iter()
        .map(|(position, name, _)| {
            format!(
                "(CAST({position} AS BIGINT), '{}')",
                name.replace('\'', "''")
            )
        })
        .collect();
    let pick: Vec<String> = enabled
        .iter()
        .map(|(position, _, _)| format!("WHEN {position} THEN a.applies_{position}"))
        .collect();
    format!(
        "CREATE VIEW refund_template_nodes AS \
         SELECT a.refund_id, t.position, t.node \
         FROM (SELECT refund_id, {} FROM refund_requests) a \
         CROSS JOIN (VALUES {}) AS t(position, node) \
         WHERE CASE t.position {} END",
        applies.join(", "),
        nodes.join(", "),
        pick.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_applies_customs_only_to_cross_border_refunds() {
        let sql = view_sql(&RefundTemplate::default());
        assert!(
            sql.contains("coalesce(CAST((cross_border) AS BOOLEAN), FALSE) AS applies_5"),
            "{sql}"
        );
        assert!(
            sql.contains("(CAST(5 AS BIGINT), 'customs_filing')"),
            "{sql}"
        );
        assert!(sql.contains("WHEN 5 THEN a.applies_5"), "{sql}");
        assert_eq!(sql.matches(" AS applies_").count(), 6, "{sql}");
    }

    #[test]
    fn disabled_nodes_apply_to_nothing() {
        let mut template = RefundTemplate::default();
        for n in &mut template.nodes {
            n.enabled = false;
        }
        assert!(view_sql(&template).contains("WHERE FALSE"));
    }

    #[test]
    fn a_quote_in_a_node_name_stays_inside_its_literal() {
        let mut template = RefundTemplate::default();
        template.nodes.truncate(1);
        template.nodes[0].name = "boss's review".into();
        assert!(view_sql(&template).contains("'boss''s review')"));
    }
}
