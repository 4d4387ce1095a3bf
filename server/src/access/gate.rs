//! The admission gate of SQL. HTTP `/v1/sql`, the Postgres protocol and
//! Flight SQL each hand it a caller's role and a statement; it decides
//! whether the statement may run and plans it in the role's session:
//!
//! 1. the role may run SQL at all ([`Role::may_query`]);
//! 2. the statement names only tables and views the role may read
//!    ([`first_unreadable`]), judged on the statement as written;
//! 3. it plans, in a session whose contact details are masked if the role
//!    sees them so, with the role's memory cap on its queries;
//! 4. the plan is read-only ([`read_only`]): no DDL, DML, `COPY` or `SET`.
//!
//! What it hands back carries the role's [`QueryLimits`]; each protocol
//! holds the rows it streams to their timeout and row cap, and turns a
//! [`Refusal`] into its own kind of error.

use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use ordergraph_engine::{Engine, QueryLimits, Role, SessionOptions, cap_query_memory, read_only};

use super::roles::{first_unreadable, role_may_read};

/// Why the gate refused a statement.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The role may not run SQL at all.
    #[error("role {} may not run SQL", .0.as_str())]
    MayNotQuery(Role),
    /// The statement names a table or view the role may not read.
    #[error("role {} may not read {table}", .role.as_str())]
    MayNotRead { role: Role, table: String },
    /// The statement would write, or change settings.
    #[error("{0}")]
    NotReadOnly(#[source] DataFusionError),
    /// The statement does not parse or plan: the caller's SQL is wrong.
    #[error("{0}")]
    Sql(#[source] DataFusionError),
    /// The role's session could not be made.
    #[error(transparent)]
    Engine(#[from] ordergraph_engine::Error),
}

impl Refusal {
    /// The kind of refusal, as metrics label it.
    pub fn class(&self) -> &'static str {
        match self {
            Refusal::MayNotQuery(_) => "may_not_query",
            Refusal::MayNotRead { .. } => "may_not_read",
            Refusal::NotReadOnly(_) => "not_read_only",
            Refusal::Sql(_) => "sql",
            Refusal::Engine(_) => "engine",
        }
    }
}

/// A statement the gate let through, planned, with the limits its run is
/// held to.
#[derive(Debug)]
pub struct Admitted {
    /// The planned statement, ready to run.
    pub frame: DataFrame,
    /// The timeout and row cap to hold its rows to (its memory cap is set
    /// on its session already).
    pub limits: QueryLimits,
}

/// The gate in front of one engine. `role` is the caller's role, or
/// `None` on a server that checks no logins: every table, contact
/// details clear, the `[limits]` defaults.
#[derive(Debug, Clone)]
pub struct Gate {
    engine: Arc<Engine>,
}

impl Gate {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    /// The limits of a query by `role` (`[limits]`, `[limits.roles.*]`).
    pub fn limits(&self, role: Option<Role>) -> QueryLimits {
        self.engine.config().limits.for_role(role)
    }

    /// Refuses a role that may not run SQL.
    pub fn may_query(role: Option<Role>) -> Result<(), Refusal> {
        match role {
            Some(role) if !role.may_query() => Err(Refusal::MayNotQuery(role)),
            _ => Ok(()),
        }
    }

    /// Whether `role` may read `table`: for listings of the catalog.
    pub fn may_read(role: Option<Role>, table: &datafusion::common::TableReference) -> bool {
        role.is_none_or(|role| role_may_read(role, table))
    }

    /// Whether `role` sees phones and emails masked.
    pub fn masked(role: Option<Role>) -> bool {
        role.is_some_and(Role::sees_contacts_masked)
    }

    /// Sets `role`'s memory cap on a session that outlives one statement
    /// (a Postgres connection's) for its next statement, and answers the
    /// limits its rows are held to.
    pub fn limit_session(&self, role: Option<Role>, session: &SessionContext) -> QueryLimits {
        let limits = self.limits(role);
        cap_query_memory(session, limits.memory);
        limits
    }

    /// Admits `sql` (exactly one statement) for `role`, planned in a new
    /// session of the role reporting as of `now`.
    pub async fn admit(
        &self,
        role: Option<Role>,
        sql: &str,
        now: Option<i64>,
    ) -> Result<Admitted, Refusal> {
        Self::may_query(role)?;
        let limits = self.limits(role);
        let session = self.engine.session_with(SessionOptions {
            now,
            masked: Self::masked(role),
            memory_cap: limits.memory,
            ..SessionOptions::default()
        })?;
        Self::admit_in(role, sql, &session, limits).await
    }

    /// Admits `sql` (exactly one statement) for `role`, planned in
    /// `session`, to be held to `limits`.
    pub async fn admit_in(
        role: Option<Role>,
        sql: &str,
        session: &SessionContext,
        limits: QueryLimits,
    ) -> Result<Admitted, Refusal> {
        Self::may_query(role)?;
        let state = session.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state
            .sql_to_statement(sql, &dialect)
            .map_err(Refusal::Sql)?;
        let plan = Self::plan(role, statement, &state).await?;
        let frame = session
            .execute_logical_plan(plan)
            .await
            .map_err(Refusal::Sql)?;
        Ok(Admitted { frame, limits })
    }

    /// Admits a parsed statement for `role` and plans it in `state`, a
    /// session the caller keeps (a Postgres connection's, whose memory cap
    /// [`Gate::limit_session`] sets).
    pub async fn plan(
        role: Option<Role>,
        statement: DfStatement,
        state: &SessionState,
    ) -> Result<LogicalPlan, Refusal> {
        Self::may_query(role)?;
        if let Some(role) = role
            && let Some(table) = first_unreadable(role, &statement)
        {
            return Err(Refusal::MayNotRead { role, table });
        }
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(Refusal::Sql)?;
        read_only()
            .verify_plan(&plan)
            .map_err(Refusal::NotReadOnly)?;
        Ok(plan)
    }
}
