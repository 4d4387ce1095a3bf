//! The refund lifecycle template: the ordered nodes a refund passes through,
//! each with a timeout, an approver role and an optional condition (a SQL
//! boolean expression over `refunds` columns). It is configuration, read
//! from `refund_template.toml` in the data directory, with the built-in
//! default below when there is none.
//!
//! The template is visible as the table `refund_nodes`, and is a session
//! config extension, from which `queries/` generates the view
//! `refund_template_nodes(refund_id, position, node)` applying it to every
//! refund.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use serde::Deserialize;

use crate::{Error, Result};

/// Name of the template file in the data directory.
pub const TEMPLATE_FILE: &str = "refund_template.toml";

/// One node of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundNode {
    /// Node name, as `refund_events.node` writes it.
    pub name: String,
    /// A disabled node applies to no refund.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Hours a refund may stay at the node before it is late.
    pub timeout_hours: i64,
    /// Who approves at this node.
    pub approver_role: String,
    /// SQL boolean expression over `refunds` columns; unset means always.
    /// NULL counts as false.
    #[serde(default)]
    pub condition: Option<String>,
}

fn enabled() -> bool {
    true
}

/// The ordered nodes of the refund lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundTemplate {
    /// Nodes in lifecycle order.
    #[serde(rename = "node")]
    pub nodes: Vec<RefundNode>,
}

impl Default for RefundTemplate {
    fn default() -> Self {
        let node = |name: &str, timeout_hours, role: &str, condition: Option<&str>| RefundNode {
            name: name.into(),
            enabled: true,
            timeout_hours,
            approver_role: role.into(),
            condition: condition.map(Into::into),
        };
        Self {
            nodes: vec![
                node("apply", 24, "customer_service", None),
                node("risk_review", 4, "risk_officer", None),
                node("warehouse_inspection", 48, "warehouse_clerk", None),
                node("finance_review", 24, "finance", None),
                node("customs_filing", 72, "customs_broker", Some("cross_border")),
                node("payout", 24, "finance", None),
            ],
        }
    }
}

impl RefundTemplate {
    /// Reads `refund_template.toml` from `dir`, or the default if there is
    /// none. Node names must be unique and non-empty, timeouts positive, and
    /// each condition exactly one SQL expression.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(TEMPLATE_FILE);
        let template = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::Config {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        Self::validate(template).map_err(|reason| Error::Config { path, reason })
    }

    fn validate(mut self) -> std::result::Result<Self, String> {
        if self.nodes.is_empty() {
            return Err("the template has no [[node]]".into());
        }
        let mut seen = std::collections::HashSet::new();
        for node in &mut self.nodes {
            let name = node.name.trim();
            if name.is_empty() {
                return Err("a node has an empty name".into());
            }
            if !seen.insert(name.to_string()) {
                return Err(format!("node '{name}' appears twice"));
            }
            if node.timeout_hours <= 0 {
                return Err(format!("node '{name}': timeout_hours must be positive"));
            }
            if let Some(condition) = &node.condition {
                node.condition = Some(
                    canonical_expression(condition)
                        .map_err(|e| format!("node '{name}': condition: {e}"))?,
                );
            }
            node.name = name.to_string();
        }
        Ok(self)
    }
}

/// Parses `text` as exactly one SQL expression and prints it back, so that
/// nothing but an expression is ever spliced into the generated view.
fn canonical_expression(text: &str) -> std::result::Result<String, String> {
    let mut parser = Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .map_err(|e| e.to_string())?;
    let expr = parser.parse_expr().map_err(|e| e.to_string())?;
    let rest = parser.peek_token();
    if rest.token != datafusion::sql::sqlparser::tokenizer::Token::EOF {
        return Err(format!("unexpected '{rest}' after the expression"));
    }
    Ok(expr.to_string())
}

/// Schema of `refund_nodes`.
pub(crate) fn refund_nodes_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("position", DataType::Int64, false),
        Field::new("node", DataType::Utf8, false),
        Field::new("enabled", DataType::Boolean, false),
        Field::new("timeout_hours", DataType::Int64, false),
        Field::new("approver_role", DataType::Utf8, false),
        Field::new("condition", DataType::Utf8, true),
    ]))
}

/// The rows of `refund_nodes`.
pub(crate) fn refund_nodes_batch(t: &RefundTemplate) -> datafusion::error::Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=t.nodes.len() as i64)),
        Arc::new(StringArray::from_iter_values(
            t.nodes.iter().map(|n| &n.name),
        )),
        Arc::new(BooleanArray::from_iter(
            t.nodes.iter().map(|n| Some(n.enabled)),
        )),
        Arc::new(Int64Array::from_iter_values(
            t.nodes.iter().map(|n| n.timeout_hours),
        )),
        Arc::new(StringArray::from_iter_values(
            t.nodes.iter().map(|n| &n.approver_role),
        )),
        Arc::new(StringArray::from_iter(
            t.nodes.iter().map(|n| n.condition.as_deref()),
        )),
    ];
    Ok(RecordBatch::try_new(refund_nodes_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<RefundTemplate, String> {
        let t: RefundTemplate = toml::from_str(text).map_err(|e| e.to_string())?;
        t.validate()
    }

    #[test]
    fn the_default_template_has_six_nodes_in_order() {
        let t = RefundTemplate::default();
        let names: Vec<&str> = t.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "apply",
                "risk_review",
                "warehouse_inspection",
                "finance_review",
                "customs_filing",
                "payout"
            ]
        );
    }

    #[test]
    fn conditions_are_single_expressions() {
        let ok = parse(
            "[[node]]\nname = 'a'\ntimeout_hours = 1\napprover_role = 'r'\ncondition = \"amount > 100 AND member_level = '金卡'\"\n",
        )
        .unwrap();
        assert_eq!(
            ok.nodes[0].condition.as_deref(),
            Some("amount > 100 AND member_level = '金卡'")
        );
        let injected = parse(
            "[[node]]\nname = 'a'\ntimeout_hours = 1\napprover_role = 'r'\ncondition = 'true) UNION SELECT 1 --'\n",
        )
        .unwrap_err();
        assert!(injected.contains("node 'a': condition"), "{injected}");
        let trailing = parse(
            "[[node]]\nname = 'a'\ntimeout_hours = 1\napprover_role = 'r'\ncondition = 'true; DROP VIEW x'\n",
        )
        .unwrap_err();
        assert!(trailing.contains("unexpected"), "{trailing}");
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let twice = parse(
            "[[node]]\nname = 'a'\ntimeout_hours = 1\napprover_role = 'r'\n[[node]]\nname = 'a'\ntimeout_hours = 1\napprover_role = 'r'\n",
        )
        .unwrap_err();
        assert!(twice.contains("'a' appears twice"), "{twice}");
        let timeout =
            parse("[[node]]\nname = 'a'\ntimeout_hours = 0\napprover_role = 'r'\n").unwrap_err();
        assert!(
            timeout.contains("timeout_hours must be positive"),
            "{timeout}"
        );
        assert!(parse("node = []\n").unwrap_err().contains("no [[node]]"));
    }
}
