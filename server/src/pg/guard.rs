//! The first hook of every statement datafusion-postgres runs: sets the
//! report clock, admits the statement through the [`Gate`], and answers
//! the session statements (`SET`, `SHOW`, savepoints) BI tools send that
//! DataFusion does not know.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::results::{
    DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use datafusion_postgres::pgwire::api::{ClientInfo, Type};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use ordergraph_engine::{Engine, QueryLimits, Role};

use super::compat::fixed_setting;
use crate::access::Caller;
use crate::access::{Gate, Refusal};

enum Verdict {
    /// Let the next hook or DataFusion answer it.
    Pass,
    /// Answer it here.
    Answer(Response),
    /// Refuse it.
    Refuse(PgWireError),
}

pub(super) fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message,
    )))
}

fn refusal(code: &str, message: String) -> Verdict {
    Verdict::Refuse(user_error(code, message))
}

/// Client settings that datafusion-postgres's SET hook keeps per
/// connection; other `SET`s are acknowledged and ignored, except the
/// engine's own (`datafusion.*`), which would change limits shared by all.
const CLIENT_SETTINGS: &[&str] = &[
    "statement_timeout",
    "datestyle",
    "bytea_output",
    "intervalstyle",
    "application_name",
    "extra_float_digits",
    "search_path",
];

/// First hook of every statement: sets the report clock, refuses what the
/// role may not run and anything that is not read-only, and answers the
/// session statements BI tools send that DataFusion does not know.
pub(super) struct StatementGuard {
    pub(super) engine: Arc<Engine>,
    pub(super) gate: Gate,
}

/// The role of the client's login.
pub(super) fn role_of(client: &(dyn ClientInfo + Send + Sync)) -> PgWireResult<Role> {
    client
        .session_extensions()
        .get::<Caller>()
        .map(|who| who.role)
        .ok_or_else(|| user_error("42501", "not logged in".into()))
}

/// A statement the [`Gate`] refused, with PostgreSQL's code for why.
pub(super) fn refused(refusal: Refusal) -> PgWireError {
    match refusal {
        Refusal::MayNotQuery(_) | Refusal::MayNotRead { .. } => {
            user_error("42501", refusal.to_string())
        }
        Refusal::NotReadOnly(e) => {
            user_error("25006", format!("ordergraph is read-only over SQL: {e}"))
        }
        Refusal::Sql(e) => user_error("42601", e.to_string()),
        Refusal::Engine(e) => PgWireError::ApiError(Box::new(e)),
    }
}

impl StatementGuard {
    /// Sets the memory cap of the client's role on `session` for the next
    /// statement; the limits its rows are held to.
    pub(super) fn limit(
        &self,
        session: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> QueryLimits {
        let role = client
            .session_extensions()
            .get::<Caller>()
            .map(|who| who.role);
        self.gate.limit_session(role, session)
    }

    async fn judge(
        &self,
        statement: &Statement,
        session: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> Verdict {
        if let Err(e) =
            role_of(client).and_then(|role| Gate::may_query(Some(role)).map_err(refused))
        {
            return Verdict::Refuse(e);
        }
        match statement {
            Statement::Set(set) => judge_set(set),
            Statement::Rollback {
                savepoint: Some(_), ..
            } => Verdict::Answer(Response::Execution(Tag::new("ROLLBACK"))),
            Statement::ShowVariable { variable } => match fixed_setting(&setting_name(variable)) {
                Some((name, value)) => match show_response(name, &value) {
                    Ok(response) => Verdict::Answer(response),
                    Err(e) => Verdict::Refuse(e),
                },
                None => Verdict::Pass,
            },
            Statement::ShowCatalogs { .. }
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. } => Verdict::Pass,
            Statement::Discard { .. } => {
                Verdict::Answer(Response::Execution(Tag::new("DISCARD ALL")))
            }
            // Nothing a read-only session does needs undoing: drivers that
            // wrap catalog look-ups in savepoints (psycopg) get them as no-ops.
            Statement::Savepoint { .. } => {
                Verdict::Answer(Response::Execution(Tag::new("SAVEPOINT")))
            }
            Statement::ReleaseSavepoint { .. } => {
                Verdict::Answer(Response::Execution(Tag::new("RELEASE")))
            }
            Statement::Deallocate { .. } => {
                Verdict::Answer(Response::Execution(Tag::new("DEALLOCATE")))
            }
            Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. } => {
                refusal(
                    "0A000",
                    "cursors are not supported; results are streamed as they are produced".into(),
                )
            }
            // Planned from the text, as the statement will run: the
            // simple path hands DataFusion the text (whose parser knows
            // COPY ... TO and CREATE EXTERNAL TABLE), so a statement is
            // judged by the plan DataFusion would execute.
            _ => match plan_text(statement, session, client).await {
                Ok(_) => Verdict::Pass,
                Err(e) => Verdict::Refuse(e),
            },
        }
    }
}

/// The name `SHOW` was given, as [`fixed_setting`] looks it up.
fn setting_name(variable: &[datafusion::sql::sqlparser::ast::Ident]) -> String {
    let words: Vec<String> = variable.iter().map(|i| i.value.to_lowercase()).collect();
    words.join(" ")
}

/// The one-row answer of `SHOW name`.
fn show_response(name: &str, value: &str) -> PgWireResult<Response> {
    let fields = Arc::new(vec![FieldInfo::new(
        name.to_string(),
        None,
        None,
        Type::TEXT,
        FieldFormat::Text,
    )]);
    let mut encoder = DataRowEncoder::new(fields.clone());
    encoder.encode_field(&Some(value))?;
    let row = encoder.take_row();
    Ok(Response::Query(QueryResponse::new(
        fields,
        Box::pin(futures::stream::once(async move { Ok(row) })),
    )))
}

/// Admits `statement` through the [`Gate`] as the simple path will run
/// it: DataFusion planning its text, whose parser knows `COPY ... TO` and
/// `CREATE EXTERNAL TABLE`.
async fn plan_text(
    statement: &Statement,
    session: &SessionContext,
    client: &(dyn ClientInfo + Send + Sync),
) -> PgWireResult<LogicalPlan> {
    let role = role_of(client)?;
    let state = session.state();
    let dialect = state.config().options().sql_parser.dialect;
    let parsed = state
        .sql_to_statement(&statement.to_string(), &dialect)
        .map_err(|e| refused(Refusal::Sql(e)))?;
    Gate::plan(Some(role), parsed, &state)
        .await
        .map_err(refused)
}

fn judge_set(set: &Set) -> Verdict {
    let variable = match set {
        Set::SingleAssignment { variable, .. } => variable.to_string().to_lowercase(),
        Set::SetTimeZone { .. } => return Verdict::Pass,
        _ => String::new(),
    };
    if variable.starts_with("datafusion") {
        refusal(
            "42501",
            format!("engine setting {variable} cannot be changed over SQL; see ordergraph.toml"),
        )
    } else if CLIENT_SETTINGS.contains(&variable.as_str()) {
        Verdict::Pass
    } else {
        Verdict::Answer(Response::Execution(Tag::new("SET")))
    }
}

#[async_trait]
impl QueryHook for StatementGuard {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.engine.restamp_clock(session, None);
        match self.judge(statement, session, client).await {
            Verdict::Pass => None,
            Verdict::Answer(response) => Some(Ok(response)),
            Verdict::Refuse(error) => Some(Err(error)),
        }
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        session: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        match self.judge(statement, session, client).await {
            Verdict::Refuse(error) => Some(Err(error)),
            Verdict::Pass | Verdict::Answer(_) => None,
        }
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        session: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.engine.restamp_clock(session, None);
        if let Statement::ShowVariable { variable } = statement {
            let (name, value) = fixed_setting(&setting_name(variable))?;
            return Some(show_response(name, &value));
        }
        None
    }
}
