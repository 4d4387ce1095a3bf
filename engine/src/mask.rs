//! Restricted sessions: the tables a reader who may not see contact
//! details scans. Every `phone` and `email` column, and the `value` of
//! phone and email identifiers, comes out through `mask_phone` /
//! `mask_email`, below every view and every query, so no query shape
//! (joins, UDFs, casts, the catalog) reaches a clear value.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::Column;
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, ScalarUDF, cast, col, lit, when};
use ordergraph_udfs::{MaskEmailFunc, MaskPhoneFunc};

/// `provider` as a restricted reader sees it: itself when it holds no
/// contact details, else a view over it (the provider is not registered
/// under any name such a session can reach).
pub(crate) fn restricted(
    name: &str,
    provider: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = provider.schema();
    let has_kind = schema.field_with_name("kind").is_ok();
    let masked = |field: &str| matches!(field, "phone" | "email") || (has_kind && field == "value");
    if !schema.fields().iter().any(|f| masked(f.name())) {
        return Ok(provider);
    }
    let phone = ScalarUDF::from(MaskPhoneFunc::new());
    let email = ScalarUDF::from(MaskEmailFunc::new());
    let column = |field: &str| Expr::Column(Column::new(Some(name), field));
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| {
            let field = f.name().as_str();
            let shown = match field {
                "phone" => phone.call(vec![column(field)]),
                "email" => email.call(vec![column(field)]),
                "value" if has_kind => when(
                    col("kind").eq(lit("phone")),
                    phone.call(vec![column(field)]),
                )
                .when(
                    col("kind").eq(lit("email")),
                    email.call(vec![column(field)]),
                )
                .otherwise(column(field))?,
                _ => return Ok(column(field)),
            };
            // Same type as the clear column, so views plan alike.
            Ok(cast(shown, f.data_type().clone()).alias(field))
        })
        .collect::<Result<_>>()?;
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(provider), None)?
        .project(exprs)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}
