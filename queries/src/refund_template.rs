//! The view `refund_template_nodes(refund_id, position, node)`: the nodes of
//! the refund lifecycle template that apply to each refund. The template is
//! configuration (`refund_template.toml` in the data directory, handed to
//! every session as a config extension), so the view is generated from it:
//! one branch per enabled node, filtered by the node's condition, over
//! `refund_requests` (each refund as last sent).

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
    let branches: Vec<String> = template
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.enabled)
        .map(|(i, n)| {
            let condition = n.condition.as_deref().unwrap_or("TRUE");
            format!(
                "SELECT refund_id, CAST({} AS BIGINT) AS position, '{}' AS node \
                 FROM refund_requests WHERE coalesce(CAST(({condition}) AS BOOLEAN), FALSE)",
                i + 1,
                n.name.replace('\'', "''"),
            )
        })
        .collect();
    let body = if branches.is_empty() {
        "SELECT refund_id, CAST(NULL AS BIGINT) AS position, CAST(NULL AS VARCHAR) AS node \
         FROM refund_requests WHERE FALSE"
            .to_string()
    } else {
        branches.join(" UNION ALL ")
    };
    format!("CREATE VIEW refund_template_nodes AS {body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_applies_customs_only_to_cross_border_refunds() {
        let sql = view_sql(&RefundTemplate::default());
        assert!(
            sql.contains(
                "CAST(5 AS BIGINT) AS position, 'customs_filing' AS node FROM refund_requests \
                 WHERE coalesce(CAST((cross_border) AS BOOLEAN), FALSE)"
            ),
            "{sql}"
        );
        assert_eq!(sql.matches(" UNION ALL ").count(), 5, "{sql}");
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
        assert!(view_sql(&template).contains("'boss''s review' AS node"));
    }
}
