//! One connection's queries: plain queries planned by DataFusion as sent,
//! everything else through datafusion-postgres's compatibility path, in the
//! session the login's role calls for, every answer held to the role's
//! limits.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser as SqlParser;
use datafusion_postgres::DfSessionService;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{FieldInfo, Response};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, Type};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use futures::{Sink, StreamExt};
use ordergraph_engine::QueryLimits;

use super::guard::{StatementGuard, refused, role_of, user_error};
use crate::access::{Caller, Gate, Refusal};

/// A query DataFusion runs as sent, or `None` for one that takes
/// datafusion-postgres's compatibility path.
///
/// That path rewrites every statement for PostgreSQL's catalog dialect
/// before planning, and one of its rewrites replaces a correlated scalar
/// subquery in a SELECT list with NULL: a silently wrong answer
/// (`SELECT (SELECT count(*) FROM orders i WHERE i.mcid = o.mcid) FROM
/// orders o` gives NULLs there). So a single query that reads nothing of the
/// Postgres catalog (see [`reads_catalog`]) is planned by DataFusion from
/// the text as sent; catalog queries from psql and BI tools, and whatever
/// DataFusion cannot plan, still take the compatibility path.
fn direct_query(sql: &str) -> Option<Statement> {
    let mut statements = SqlParser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let statement = statements.pop()?;
    let direct = statements.is_empty()
        && matches!(statement, Statement::Query(_))
        && !reads_catalog(&statement);
    direct.then_some(statement)
}

/// Whether `statement` reads the Postgres catalog: names a relation of
/// `pg_catalog` or `information_schema` or one called `pg_*`, or casts to
/// an OID alias type (`'orders'::regclass`), which looks the name up there.
/// Decided on the parsed statement, so a literal or an alias that contains
/// `pg_` does not count.
fn reads_catalog(statement: &Statement) -> bool {
    use datafusion::sql::sqlparser::ast::{Expr, visit_expressions, visit_relations};
    use std::ops::ControlFlow;
    let relation = visit_relations(statement, |name| {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.to_ascii_lowercase()))
            .collect();
        let catalog = parts
            .iter()
            .any(|p| p == "pg_catalog" || p == "information_schema")
            || parts.last().is_some_and(|p| p.starts_with("pg_"));
        if catalog {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let oid_cast = visit_expressions(statement, |expr| {
        let Expr::Cast { data_type, .. } = expr else {
            return ControlFlow::Continue(());
        };
        let target = data_type.to_string().to_ascii_lowercase();
        // Only the OID alias types are named reg* (regclass, regtype...).
        if target.trim_start_matches("pg_catalog.").starts_with("reg") {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    relation.is_break() || oid_cast.is_break()
}

/// A query of [`direct_query`] admitted through the [`Gate`] and planned
/// by DataFusion as sent; `None` if DataFusion cannot plan it, for the
/// compatibility path to take.
async fn plan_direct(
    statement: &Statement,
    session: &SessionContext,
    client: &(dyn ClientInfo + Send + Sync),
) -> PgWireResult<Option<LogicalPlan>> {
    let role = role_of(client)?;
    let statement = DfStatement::Statement(Box::new(statement.clone()));
    let planned = Gate::plan(Some(role), statement, &session.state()).await;
    // SQL this planner cannot read goes on to the compatibility path.
    if !matches!(planned, Err(Refusal::Sql(_))) {
        crate::metrics::count_query("postgres", Some(role), &planned);
    }
    match planned {
        Ok(plan) => Ok(Some(plan)),
        Err(Refusal::Sql(_)) => Ok(None),
        Err(refusal) => Err(refused(refusal)),
    }
}

fn api_error(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

/// A query refused for memory, with PostgreSQL's code for it: 54000 when
/// it needs more than its role's `query_memory_mib` (a smaller query will
/// do), 53200 when the shared pool is used up (later may do); other errors
/// as they are.
fn memory_error(error: PgWireError) -> PgWireError {
    let PgWireError::ApiError(inner) = &error else {
        return error;
    };
    let Some(DataFusionError::ResourcesExhausted(message)) = inner
        .downcast_ref::<DataFusionError>()
        .map(DataFusionError::find_root)
    else {
        return error;
    };
    if message.starts_with(ordergraph_engine::QUERY_CAP_EXCEEDED) {
        user_error(
            "54000",
            format!("{message} ([limits] query_memory_mib of the role)"),
        )
    } else {
        user_error(
            "53200",
            format!("{message} ([limits] memory_limit_mib, shared by all queries)"),
        )
    }
}

/// One session of a connection and datafusion-postgres's service on it.
pub(super) struct Lane {
    pub(super) service: Arc<DfSessionService>,
    pub(super) parser: Arc<datafusion_postgres::Parser>,
    pub(super) session: Arc<SessionContext>,
}

/// A connection's two sessions: clear, and with contact details masked.
pub(super) struct Lanes {
    pub(super) clear: Lane,
    pub(super) restricted: Lane,
}

impl Lanes {
    /// The session a client's role calls for; masked unless the login's
    /// role may see contact details.
    fn of(&self, client: &(dyn ClientInfo + Send + Sync)) -> &Lane {
        let clear = client
            .session_extensions()
            .get::<Caller>()
            .is_some_and(|who| !Gate::masked(Some(who.role)));
        if clear { &self.clear } else { &self.restricted }
    }
}

/// One connection's query service: plain queries straight to DataFusion
/// (see [`direct_query`]), everything else through datafusion-postgres, in
/// the session the login's role calls for.
pub(super) struct Service {
    pub(super) lanes: Arc<Lanes>,
    pub(super) parser: Arc<DirectFirstParser>,
    pub(super) guard: Arc<StatementGuard>,
}

#[async_trait]
impl SimpleQueryHandler for Service {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let started = tokio::time::Instant::now();
        let lane = self.lanes.of(&*client);
        let limits = self.guard.limit(&lane.session, &*client);
        let compatible = async |client: &mut C| {
            // Catalog queries in a form DataFusion can plan (see `super::rewrite`).
            let rewritten = crate::pg::rewrite::rewrite(query);
            let query = rewritten.as_deref().unwrap_or(query);
            let responses =
                SimpleQueryHandler::do_query(lane.service.as_ref(), client, query).await?;
            Ok(responses
                .into_iter()
                .map(|r| bounded(r, limits, started))
                .collect())
        };
        let Some(statement) = direct_query(query) else {
            return compatible(client).await;
        };
        let Some(plan) = plan_direct(&statement, &lane.session, &*client).await? else {
            return compatible(client).await;
        };
        self.guard.engine.restamp_clock(&lane.session, None);
        let frame = lane
            .session
            .execute_logical_plan(plan)
            .await
            .map_err(api_error)?;
        let format = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let rows = encode_dataframe(frame, &Format::UnifiedText, Some(format)).await?;
        Ok(vec![bounded(Response::Query(rows), limits, started)])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Service {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;
    type QueryParser = DirectFirstParser;

    fn query_parser(&self) -> Arc<DirectFirstParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // The portal holds the plan the parser below made; execution is
        // datafusion-postgres's (parameters, hooks, encoding).
        let started = tokio::time::Instant::now();
        let lane = self.lanes.of(&*client);
        let limits = self.guard.limit(&lane.session, &*client);
        let response =
            ExtendedQueryHandler::do_query(lane.service.as_ref(), client, portal, max_rows).await?;
        Ok(bounded(response, limits, started))
    }
}

/// The extended protocol's parser: plain queries planned by DataFusion as
/// sent (see [`direct_query`]), the rest by datafusion-postgres's parser.
pub(super) struct DirectFirstParser {
    pub(super) lanes: Arc<Lanes>,
}

#[async_trait]
impl QueryParser for DirectFirstParser {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let lane = self.lanes.of(client);
        if let Some(statement) = direct_query(sql)
            && let Some(plan) = plan_direct(&statement, &lane.session, client).await?
        {
            return Ok(Some((sql.to_string(), Some((statement, plan)))));
        }
        let rewritten = crate::pg::rewrite::rewrite(sql);
        let sql = rewritten.as_deref().unwrap_or(sql);
        lane.parser.parse_sql(client, sql, types).await
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        // Derived from the plan alone: either lane's parser answers alike.
        self.lanes.clear.parser.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.lanes.clear.parser.get_result_schema(statement, format)
    }
}

/// A query's answer held to the `[limits]`: rows stop with an error once
/// `query_timeout_seconds` have passed since the statement started (the
/// work happens while rows are pulled, so this bounds the whole query), or
/// after `max_result_rows`. The error follows the rows already sent, which
/// the protocol makes unambiguous (an ErrorResponse, no CommandComplete).
fn bounded(response: Response, limits: QueryLimits, started: tokio::time::Instant) -> Response {
    let Response::Query(mut query) = response else {
        return response;
    };
    let deadline = started + limits.timeout;
    let max_rows = limits.max_rows;
    let timeout_seconds = limits.timeout.as_secs();
    let rows = std::mem::replace(&mut query.data_rows, Box::pin(futures::stream::empty()));
    // One timer for the whole stream, not one per row; the rows end (None)
    // after an error.
    let timer = Box::pin(tokio::time::sleep_until(deadline));
    let limited = futures::stream::unfold(
        (Some(rows), 0u64, timer),
        move |(mut rows, sent, mut timer)| async move {
            let stream = rows.as_mut()?;
            let refuse = |code: &str, message: String, timer| {
                Some((Err(user_error(code, message)), (None, sent, timer)))
            };
            let next = tokio::select! {
                biased;
                _ = timer.as_mut() => return refuse(
                    "57014",
                    format!(
                        "canceling statement: it ran longer than query_timeout_seconds ({timeout_seconds} s)"
                    ),
                    timer,
                ),
                next = stream.next() => next,
            };
            match next {
                None => None,
                Some(Ok(_)) if max_rows.is_some_and(|max| sent >= max) => refuse(
                    "54000",
                    format!(
                        "the result has more than max_result_rows ({}) rows",
                        max_rows.unwrap_or(0)
                    ),
                    timer,
                ),
                Some(Err(e)) => Some((Err(memory_error(e)), (None, sent, timer))),
                Some(row) => Some((row, (rows, sent + 1, timer))),
            }
        },
    );
    query.data_rows = Box::pin(limited);
    Response::Query(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries_reading_the_catalog_take_the_compatibility_path() {
        for sql in [
            "SELECT 'x.jpg_1'",
            "SELECT 1 AS pg_count",
            "SELECT order_id AS \"information_schema\" FROM orders WHERE status <> 'pg_class'",
            "SELECT (SELECT count(*) FROM orders i WHERE i.mcid = o.mcid) AS pg_n FROM orders o",
            "SELECT CAST(amount AS REAL) FROM orders",
        ] {
            assert!(direct_query(sql).is_some(), "{sql}");
        }
        for sql in [
            "SELECT relname FROM pg_catalog.pg_class",
            "SELECT relname FROM pg_class",
            "SELECT \"relname\" FROM \"pg_class\"",
            "SELECT o.order_id FROM orders o JOIN PG_CATALOG.PG_NAMESPACE n ON n.oid = 1",
            "SELECT table_name FROM information_schema.tables",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_namespace)",
            "SELECT 'orders'::regclass",
            "SELECT 'orders'::pg_catalog.regclass",
            // Not a single query.
            "SELECT 1; SELECT 2",
            "SHOW search_path",
        ] {
            assert!(direct_query(sql).is_none(), "{sql}");
        }
    }
}
