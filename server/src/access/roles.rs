//! What each role may reach: which HTTP paths, and which tables and views
//! over SQL. [`super::Gate`] applies the table rules to every statement.

use std::ops::ControlFlow;

use datafusion::common::TableReference;
use datafusion::sql::parser::{CopyToSource, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{ObjectName, Visit, visit_relations};
use ordergraph_engine::Role;

/// Which API paths a role may call. `/healthz` is open to all.
pub fn role_allows(role: Role, path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    match role {
        Role::Admin => true,
        // Connectors: orders in, MCIDs and sync commands out.
        Role::Ingest => under("/v1/ingest") || under("/v1/writeback") || under("/v1/sync-commands"),
        Role::Analyst => under("/v1/sql") || under("/v1/reports"),
        Role::Marketing => under("/v1/segments"),
        // Support agents answer customers and correct who they are, push
        // an order's true status, and review held orders.
        // Erasing a customer is for admins alone.
        Role::Support => {
            (under("/v1/customers") && !path.ends_with("/erase"))
                || under("/v1/identifiers")
                || under("/v1/corrections")
                || under("/v1/holds")
                || (path.starts_with("/v1/orders/") && path.ends_with("/force-sync"))
        }
    }
}

/// Tables and views the support role reads on SQL: a customer's orders,
/// identifiers and after-sale records.
const SUPPORT_READS: &[&str] = &[
    "customers",
    "customer_contacts",
    "identity_links",
    "identity_evidence",
    "order_identifiers",
    "mcid_aliases",
    "identity_corrections",
    "erasures",
    "erasure_steps",
    "orders",
    "order_versions",
    "order_lines",
    "order_snapshots",
    "status_consistency",
    "order_risk",
    "refunds",
    "refund_requests",
    "refund_paths",
    "refund_node_dwell",
    "fulfillment_promise",
    "report_config",
];

/// Whether `role` may read `table` on SQL. The catalogs
/// (`information_schema`, `pg_catalog`) are open to every role that may
/// query, so tools can connect and list what there is; marketing reads the
/// segment views and contacts, support the customer records above.
pub fn role_may_read(role: Role, table: &TableReference) -> bool {
    if matches!(table.schema(), Some("information_schema" | "pg_catalog")) {
        return role.may_query();
    }
    let name = table.table();
    match role {
        Role::Admin | Role::Analyst => true,
        Role::Ingest => false,
        Role::Marketing => {
            name == "customer_contacts"
                || name == "report_config"
                || ordergraph_queries::segments().any(|s| s.name == name)
        }
        Role::Support => SUPPORT_READS.contains(&name),
    }
}

/// The first table or view `statement` names that `role` may not read
/// (see [`role_may_read`]). Checked on the statement as written, not the
/// plan: views are inlined into plans, so a plan of an allowed view shows
/// the tables under it.
pub fn first_unreadable(role: Role, statement: &DfStatement) -> Option<String> {
    match statement {
        DfStatement::Statement(statement) => first_unreadable_in(role, statement.as_ref()),
        DfStatement::Explain(explain) => first_unreadable(role, &explain.statement),
        DfStatement::CopyTo(copy) => match &copy.source {
            CopyToSource::Relation(name) => unreadable(role, name),
            CopyToSource::Query(query) => first_unreadable_in(role, query.as_ref()),
        },
        DfStatement::CreateExternalTable(_) | DfStatement::Reset(_) => None,
    }
}

/// [`first_unreadable`] of every relation a piece of SQL names.
fn first_unreadable_in<V: Visit>(role: Role, sql: &V) -> Option<String> {
    let found = visit_relations(sql, |name| match unreadable(role, name) {
        Some(table) => ControlFlow::Break(table),
        None => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(table) => Some(table),
        ControlFlow::Continue(()) => None,
    }
}

/// The name of relation `name` if `role` may not read it.
fn unreadable(role: Role, name: &ObjectName) -> Option<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.to_lowercase()))
        .collect();
    let table = match parts.as_slice() {
        [.., schema, table] => TableReference::partial(schema.as_str(), table.as_str()),
        [table] => TableReference::bare(table.as_str()),
        [] => return None,
    };
    (!role_may_read(role, &table)).then(|| table.to_string())
}
