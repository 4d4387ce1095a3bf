//! Rewrites of catalog queries from drivers and BI tools that DataFusion
//! cannot plan as sent, applied before datafusion-postgres sees them.
//!
//! - `LIKE p ESCAPE 'c'`: DataFusion knows only the backslash escape, so
//!   the pattern is translated (`pg_like_escape(p, 'c')`). SQLAlchemy lists
//!   schemas with `NOT LIKE 'pg/_' || '%' ESCAPE '/'`.
//! - A query that reads, in an inner position, a catalog relation that is
//!   always empty here (ordergraph has no indexes, constraints, sequences,
//!   defaults or triggers) returns no rows whatever else it says, so it is
//!   answered by an empty result with its columns. Drivers' key and index
//!   look-ups (pgjdbc `getPrimaryKeys`/`getIndexInfo`, SQLAlchemy's
//!   `get_pk_constraint`/`get_indexes`, Metabase's foreign keys) use
//!   functions of PostgreSQL's catalog that DataFusion lacks
//!   (`_pg_expandarray`, `unnest` of an `int2vector`), and their correct
//!   answer is empty.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
    GroupByExpr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr, Statement,
    TableAlias, TableFactor, TableWithJoins, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Catalog relations with no rows in ordergraph.
const EMPTY_CATALOGS: &[&str] = &[
    "pg_index",
    "pg_constraint",
    "pg_sequence",
    "pg_attrdef",
    "pg_inherits",
    "pg_trigger",
    "pg_rewrite",
    "pg_partitioned_table",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
];

/// Aggregates, which turn no rows into one (`count(*)` is 0): a query
/// projecting one without GROUP BY is not empty.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
];

/// The text to run in place of a catalog query, or `None` to run it as is.
pub(crate) fn rewrite(sql: &str) -> Option<String> {
    // Only catalog queries: a user's own query runs as written or fails.
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("pg_") && !lower.contains("information_schema") {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let [Statement::Query(query)] = statements.as_mut_slice() else {
        return None;
    };
    if let Some(empty) = empty_answer(query) {
        return Some(empty);
    }
    let mut rewrites = Rewrites {
        changed: false,
        // Only where it is needed: datafusion-pg-catalog answers some
        // tools' queries over information_schema.columns by their text.
        pg_columns: PG_ONLY_COLUMNS.iter().any(|c| lower.contains(c)),
    };
    let _ = query.visit(&mut rewrites);
    rewrites.changed.then(|| query.to_string())
}

/// `SELECT NULL AS "a", ... WHERE false` for a query that surely returns
/// no rows and names its columns plainly.
fn empty_answer(query: &Query) -> Option<String> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if !surely_empty(select) {
        return None;
    }
    let names: Option<Vec<String>> = select.projection.iter().map(column_name).collect();
    let mut seen = std::collections::HashSet::new();
    let columns: Vec<String> = names?
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            // DataFusion wants distinct names where PostgreSQL would
            // repeat `?column?`.
            let name = if seen.insert(name.clone()) {
                name
            } else {
                format!("{name}_{i}")
            };
            format!("CAST(NULL AS TEXT) AS \"{}\"", name.replace('"', "\"\""))
        })
        .collect();
    // The client binds a value to each of the query's placeholders: they
    // stay, with their types, under a condition that is never true.
    let kept: String = placeholders(query)
        .iter()
        .map(|p| format!(" AND {p} IS NULL"))
        .collect();
    Some(format!("SELECT {} WHERE false{kept}", columns.join(", ")))
}

/// The placeholders (`$1`, or `$1::VARCHAR` where cast) of a query.
fn placeholders(query: &Query) -> Vec<Expr> {
    placeholders_of(|f| {
        let _ = datafusion::sql::sqlparser::ast::visit_expressions(query, |e| {
            f(e);
            ControlFlow::<()>::Continue(())
        });
    })
}

/// The placeholders among the expressions `walk` shows: each once, with
/// its cast where it has one (clients bind by the declared type).
fn placeholders_of(walk: impl FnOnce(&mut dyn FnMut(&Expr))) -> Vec<Expr> {
    let name = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => Some(p.clone()),
            _ => None,
        },
        _ => None,
    };
    let mut cast: Vec<(String, Expr)> = Vec::new();
    let mut bare: Vec<(String, Expr)> = Vec::new();
    walk(&mut |e| match e {
        Expr::Cast { expr, .. } if name(expr).is_some() => {
            cast.push((name(expr).unwrap_or_default(), e.clone()));
        }
        _ => {
            if let Some(n) = name(e) {
                bare.push((n, e.clone()));
            }
        }
    });
    let mut found: Vec<(String, Expr)> = Vec::new();
    for (n, e) in cast.into_iter().chain(bare) {
        if !found.iter().any(|(f, _)| *f == n) {
            found.push((n, e));
        }
    }
    found.into_iter().map(|(_, e)| e).collect()
}

/// NULL, in an expression that still names `placeholders`, so the values a
/// client binds to them have somewhere to go.
fn keeping(placeholders: Vec<Expr>) -> Expr {
    use datafusion::sql::sqlparser::ast::CaseWhen;
    use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: Expr::value(Value::Boolean(false)),
            result: call("concat", placeholders),
        }],
        else_result: None,
    }
}

fn surely_empty(select: &Select) -> bool {
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    if !grouped && (select.projection.iter().any(aggregates) || select.having.is_some()) {
        return false;
    }
    select.from.iter().any(reads_empty)
}

/// Whether a FROM item reads an always-empty relation where its emptiness
/// empties the join: the first table, or one joined by an inner join.
fn reads_empty(from: &TableWithJoins) -> bool {
    use datafusion::sql::sqlparser::ast::JoinOperator as J;
    let inner_joined = from.joins.iter().filter_map(|join| {
        matches!(
            join.join_operator,
            J::Join(_) | J::Inner(_) | J::CrossJoin(_) | J::Semi(_) | J::LeftSemi(_)
        )
        .then_some(&join.relation)
    });
    std::iter::once(&from.relation)
        .chain(inner_joined)
        .any(|relation| match relation {
            TableFactor::Table { name, .. } => name
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .is_some_and(|i| EMPTY_CATALOGS.contains(&i.value.to_lowercase().as_str())),
            TableFactor::Derived { subquery, .. } => match subquery.body.as_ref() {
                SetExpr::Select(inner) => surely_empty(inner),
                _ => false,
            },
            _ => false,
        })
}

fn aggregates(item: &SelectItem) -> bool {
    let expr = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return false,
    };
    let mut found = false;
    let _ = datafusion::sql::sqlparser::ast::visit_expressions(expr, |e| {
        if let Expr::Function(f) = e
            && f.over.is_none()
            && f.name
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .is_some_and(|i| AGGREGATES.contains(&i.value.to_lowercase().as_str()))
        {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// The name PostgreSQL gives a projected column, or `None` for `*`.
fn column_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
        SelectItem::UnnamedExpr(expr) => Some(match expr {
            Expr::Identifier(i) => i.value.clone(),
            Expr::CompoundIdentifier(parts) => parts.last()?.value.clone(),
            Expr::Function(f) => f
                .name
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .map_or("?column?".to_string(), |i| i.value.clone()),
            _ => "?column?".to_string(),
        }),
        _ => None,
    }
}

/// Replaces `ESCAPE 'c'` (c not a backslash) in LIKE and ILIKE, and
/// aggregates the value of scalar subqueries: DataFusion refuses correlated
/// scalar subqueries that are not aggregated (SQLAlchemy's column defaults
/// and identities, Npgsql's type loading).
struct Rewrites {
    changed: bool,
    /// Whether information_schema.columns needs PostgreSQL's own columns.
    pg_columns: bool,
}

impl VisitorMut for Rewrites {
    type Break = ();

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        // A derived table with no rows, wherever it is joined: its columns,
        // empty (Metabase's primary-key look-up over
        // information_schema.table_constraints, left-joined).
        if let TableFactor::Derived { subquery, .. } = factor
            && let Some(empty) = empty_answer(subquery)
            && let Ok(mut parsed) = Parser::parse_sql(&PostgreSqlDialect {}, &empty)
            && let Some(Statement::Query(query)) = parsed.pop()
        {
            *subquery = query;
            self.changed = true;
        }
        // information_schema.columns with PostgreSQL's columns that
        // DataFusion's lacks (udt_name, is_identity, ...).
        if let TableFactor::Table { name, alias, .. } = factor
            && self.pg_columns
            && is_information_schema_columns(name)
            && let Ok(mut parsed) = Parser::parse_sql(&PostgreSqlDialect {}, PG_COLUMNS)
            && let Some(Statement::Query(query)) = parsed.pop()
        {
            let alias = alias.clone().unwrap_or_else(|| TableAlias {
                explicit: true,
                name: Ident::new("columns"),
                columns: vec![],
                at: None,
            });
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: query,
                alias: Some(alias),
                sample: None,
            };
            self.changed = true;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Subquery(subquery) = expr
            && let SetExpr::Select(select) = subquery.body.as_ref()
            && surely_empty(select)
        {
            // No rows: NULL, what PostgreSQL gives (the correlations of
            // such look-ups, e.g. SQLAlchemy's column defaults and
            // identities, are more than DataFusion decorrelates).
            let placeholders = placeholders(subquery);
            *expr = if placeholders.is_empty() {
                Expr::value(Value::Null)
            } else {
                keeping(placeholders)
            };
            self.changed = true;
            return ControlFlow::Continue(());
        }
        if let Expr::Subquery(subquery) = expr
            && let SetExpr::Select(select) = subquery.body.as_mut()
            && let [item] = select.projection.as_mut_slice()
            && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
            && !aggregates(item)
            && let SelectItem::UnnamedExpr(inner) | SelectItem::ExprWithAlias { expr: inner, .. } =
                item
        {
            // At most one row, as PostgreSQL requires of a scalar subquery
            // (it would fail on more): max() of one row is that row.
            *inner = call("max", vec![inner.clone()]);
            self.changed = true;
            return ControlFlow::Continue(());
        }
        // Nothing has a comment: the call is NULL whatever its arguments
        // (Metabase's cast a formatted name to regclass, which the catalog
        // emulation cannot).
        if let Expr::Function(f) = expr
            && f.name
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .is_some_and(|i| COMMENT_FUNCTIONS.contains(&i.value.to_lowercase().as_str()))
        {
            let found = placeholders_of(|visit| {
                let _ = datafusion::sql::sqlparser::ast::visit_expressions(&*f, |e| {
                    visit(e);
                    ControlFlow::<()>::Continue(())
                });
            });
            *expr = if found.is_empty() {
                Expr::value(Value::Null)
            } else {
                keeping(found)
            };
            self.changed = true;
            return ControlFlow::Continue(());
        }
        if let Expr::BinaryOp { left, op, right } = expr
            && *op == datafusion::sql::sqlparser::ast::BinaryOperator::Eq
        {
            self.changed |= regproc_by_name(left, right) || regproc_by_name(right, left);
        }
        let (Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        }) = expr
        else {
            return ControlFlow::Continue(());
        };
        let Some(escape) = escape_char.as_ref() else {
            return ControlFlow::Continue(());
        };
        let Value::SingleQuotedString(c) = &escape.value else {
            return ControlFlow::Continue(());
        };
        if c == "\\" {
            return ControlFlow::Continue(());
        }
        let escape_text = Expr::value(Value::SingleQuotedString(c.clone()));
        **pattern = call("pg_like_escape", vec![(**pattern).clone(), escape_text]);
        *escape_char = None;
        self.changed = true;
        ControlFlow::Continue(())
    }
}

/// information_schema.columns as PostgreSQL has it: DataFusion's, plus the
/// columns tools read that it lacks.
const PG_COLUMNS: &str = "SELECT table_catalog, table_schema, table_name, column_name, \
    ordinal_position, column_default, is_nullable, data_type, character_maximum_length, \
    character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, \
    datetime_precision, interval_type, 'pg_catalog' AS udt_schema, \
    pg_udt_name(data_type) AS udt_name, 'NO' AS is_identity, 'NEVER' AS is_generated, \
    table_catalog AS udt_catalog FROM information_schema.columns";

/// Columns of PostgreSQL's information_schema.columns that DataFusion's
/// lacks.
const PG_ONLY_COLUMNS: &[&str] = &[
    "udt_name",
    "udt_schema",
    "udt_catalog",
    "is_identity",
    "is_generated",
];

fn is_information_schema_columns(name: &ObjectName) -> bool {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(ObjectNamePart::as_ident)
        .map(|i| i.value.to_lowercase())
        .collect();
    matches!(
        parts
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        [.., "information_schema", "columns"]
    )
}

/// Functions answering an object's comment.
const COMMENT_FUNCTIONS: &[&str] = &["col_description", "obj_description", "shobj_description"];

/// Columns of type `regproc` (a function, shown by name): the catalog
/// emulation holds their names, not their oids.
const REGPROC_COLUMNS: &[&str] = &[
    "typinput",
    "typoutput",
    "typreceive",
    "typsend",
    "typmodin",
    "typmodout",
    "typanalyze",
];

/// `proc.oid = t.typreceive` compares an oid with a regproc: joined on the
/// function's name instead (`proc.proname = t.typreceive`), as Npgsql
/// (Power BI) loads its types. Returns whether `function` was changed.
fn regproc_by_name(function: &mut Expr, regproc: &Expr) -> bool {
    let Expr::CompoundIdentifier(regproc) = regproc else {
        return false;
    };
    let Expr::CompoundIdentifier(parts) = function else {
        return false;
    };
    let is_regproc = regproc
        .last()
        .is_some_and(|c| REGPROC_COLUMNS.contains(&c.value.to_lowercase().as_str()));
    match parts.last_mut() {
        Some(oid) if is_regproc && oid.value.eq_ignore_ascii_case("oid") => {
            *oid = Ident::new("proname");
            true
        }
        _ => false,
    }
}

/// `name(args...)`.
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// A LIKE pattern with escape character `escape`, written for the
/// backslash escape: `pg/_%` with `/` becomes `pg\_%`.
pub(crate) fn like_with_backslash(pattern: &str, escape: char) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            out.push('\\');
            if let Some(next) = chars.next() {
                if next == '\\' {
                    out.push('\\');
                }
                out.push(next);
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_characters_become_backslashes() {
        assert_eq!(like_with_backslash("pg/_%", '/'), "pg\\_%");
        // An escaped escape character is itself, literally.
        assert_eq!(like_with_backslash("a//b", '/'), "a\\/b");
        assert_eq!(like_with_backslash("a\\b/%", '/'), "a\\\\b\\%");
        let sql =
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg/_' || '%' ESCAPE '/'";
        let rewritten = rewrite(sql).unwrap();
        assert!(
            rewritten.contains("pg_like_escape('pg/_' || '%', '/')"),
            "{rewritten}"
        );
        assert!(!rewritten.contains("ESCAPE"), "{rewritten}");
        assert_eq!(rewrite("SELECT 1 WHERE 'a' LIKE 'a' ESCAPE '\\'"), None);
    }

    #[test]
    fn reads_of_empty_catalogs_in_inner_positions_are_empty() {
        let empty = |sql: &str| rewrite(sql).filter(|r| r.ends_with("WHERE false"));
        let pk = "SELECT a.attname AS column_name, i.indisprimary FROM pg_class c \
                  JOIN pg_index i ON i.indrelid = c.oid JOIN pg_attribute a ON a.attrelid = c.oid";
        assert_eq!(
            empty(pk).as_deref(),
            Some(
                "SELECT CAST(NULL AS TEXT) AS \"column_name\", CAST(NULL AS TEXT) AS \"indisprimary\" WHERE false"
            )
        );
        // Inside a derived table, as pgjdbc writes it.
        let nested = "SELECT r.k AS \"KEY_SEQ\" FROM (SELECT i.indkey AS k FROM pg_class c \
                      JOIN pg_catalog.pg_index i ON c.oid = i.indrelid) r WHERE r.k > 0";
        assert!(empty(nested).is_some());
        // The nullable side of an outer join, an aggregate without GROUP BY
        // and a union keep their rows.
        let outer = "SELECT c.relname FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid";
        assert_eq!(empty(outer), None);
        assert_eq!(empty("SELECT count(*) FROM pg_constraint"), None);
        assert!(empty("SELECT conname, count(*) FROM pg_constraint GROUP BY conname").is_some());
        assert_eq!(empty("SELECT 1 FROM pg_index UNION SELECT 2"), None);
        assert_eq!(empty("SELECT relname FROM pg_class"), None);
        assert_eq!(empty("SELECT * FROM pg_index"), None);
        let twice = empty("SELECT 1, 2 FROM pg_index").unwrap();
        assert!(twice.contains("\"?column?_1\""), "{twice}");
    }

    #[test]
    fn scalar_subqueries_are_aggregated_and_placeholders_kept() {
        let empty = "SELECT a.attname, CASE WHEN a.atthasdef THEN (SELECT pg_get_expr(d.adbin, d.adrelid) \
                     FROM pg_attrdef d WHERE a.atthasdef AND d.adrelid = a.attrelid) END AS dflt, \
                     (SELECT json_build_object($1::VARCHAR, s.seqstart) FROM pg_sequence s \
                     WHERE s.seqrelid = a.attrelid) AS ident FROM pg_attribute a";
        assert_eq!(
            rewrite(empty).as_deref(),
            Some(
                "SELECT a.attname, CASE WHEN a.atthasdef THEN NULL END AS dflt, \
                 CASE WHEN false THEN concat($1::VARCHAR) END AS ident FROM pg_attribute a"
            )
        );
        let sql = "SELECT a.attname, (SELECT t.typcollation FROM pg_type t \
                   WHERE t.oid = a.atttypid) AS c FROM pg_attribute a";
        assert_eq!(
            rewrite(sql).as_deref(),
            Some(
                "SELECT a.attname, (SELECT max(t.typcollation) FROM pg_type t \
                 WHERE t.oid = a.atttypid) AS c FROM pg_attribute a"
            )
        );
        let keyed = "SELECT i.indkey AS k FROM pg_index i WHERE i.indrelid = $1::OID AND i.x = $2";
        let answer = rewrite(keyed).unwrap();
        assert!(
            answer.ends_with("WHERE false AND $1::OID IS NULL AND $2 IS NULL"),
            "{answer}"
        );
        assert_eq!(
            rewrite("SELECT (SELECT 1) AS one"),
            None,
            "not a catalog query"
        );
    }

    #[test]
    fn regproc_columns_join_on_the_function_name() {
        let sql = "SELECT a.typname FROM pg_type AS a JOIN pg_proc ON pg_proc.oid = a.typreceive";
        assert_eq!(
            rewrite(sql).as_deref(),
            Some(
                "SELECT a.typname FROM pg_type AS a JOIN pg_proc ON pg_proc.proname = a.typreceive"
            )
        );
        let other = "SELECT c.relname FROM pg_class c JOIN pg_type t ON t.oid = c.reltype";
        assert_eq!(rewrite(other), None);
    }
}
