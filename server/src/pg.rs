//! The Postgres wire protocol: psql, BI tools and drivers connect to
//! ordergraph as to a read-only database.
//!
//! datafusion-postgres turns statements into DataFusion plans, Arrow into
//! Postgres rows, and provides `pg_catalog`. This module adds what it leaves
//! to the embedder: password logins checked against Argon2 hashes, one
//! session per connection on the engine's planned tables and views with the
//! report clock set per statement, and a guard in front of every statement
//! so that no statement writes, reads files or changes engine settings.

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser as SqlParser;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{
    DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, METADATA_USER, PgWireConnectionState,
    PgWireServerHandlers, PidSecretKeyGenerator, RandomPidSecretKeyGenerator, Type,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls;
use datafusion_postgres::pgwire::tokio::{TlsAcceptor, process_socket};
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::{Sink, SinkExt, StreamExt};
use ordergraph_engine::{Engine, QueryLimits, Role};

use crate::access::{Gate, Logins, Refusal, Refused};
use crate::pg_compat::fixed_setting;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The server version clients see: a real PostgreSQL version, because
/// drivers and BI tools parse it to pick their SQL dialect.
pub const SERVER_VERSION: &str = "16.6";

/// Who is logged in on a connection (kept in its session extensions).
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: String,
    pub role: Role,
}

/// Everything the listener shares between connections.
pub struct PgServer {
    engine: Arc<Engine>,
    /// Sessions with `pg_catalog` and the Postgres functions, clear and
    /// with contact details masked; each connection gets a copy of both
    /// and uses the one its login's role calls for.
    base: SessionContext,
    restricted_base: SessionContext,
    logins: Arc<Logins>,
    connections: Arc<ConnectionManager>,
    tls: Option<TlsAcceptor>,
    slots: Arc<Semaphore>,
}

impl Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// Whether connections may use TLS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The Postgres side of `serve`, configured by `[postgres]` and
    /// `[[users]]`, checking logins with `logins`.
    pub fn new(engine: Arc<Engine>, logins: Arc<Logins>) -> anyhow::Result<Self> {
        let config = engine.config().clone();
        let postgres_session = |restricted: bool| -> anyhow::Result<SessionContext> {
            let session = engine.session_as(None, restricted)?;
            setup_pg_catalog(&session, "ordergraph", EmptyContextProvider).map_err(|e| *e)?;
            crate::pg_compat::register(&session);
            Ok(session)
        };
        let base = postgres_session(false)?;
        let restricted_base = postgres_session(true)?;
        let tls = match (&config.postgres.tls_cert, &config.postgres.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(
                &engine.dir().join(cert),
                &engine.dir().join(key),
            )?),
            _ => None,
        };
        Ok(Self {
            base,
            restricted_base,
            logins,
            connections: Arc::new(ConnectionManager::new()),
            tls,
            slots: Arc::new(Semaphore::new(config.postgres.max_connections.max(1))),
            engine,
        })
    }

    /// Serves connections from `listener` until `stopped` turns true.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, mut stopped: watch::Receiver<bool>) {
        loop {
            let (socket, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "postgres accept failed");
                        continue;
                    }
                },
                _ = stopped.changed() => break,
            };
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "postgres connection refused: max_connections reached");
                continue;
            };
            let handlers = match self.connection_handlers() {
                Ok(handlers) => handlers,
                Err(error) => {
                    tracing::error!(%peer, %error, "postgres connection refused");
                    continue;
                }
            };
            let tls = self.tls.clone();
            tokio::spawn(async move {
                // pgwire 0.41's decoder panics on some malformed messages (a
                // Bind whose parameter claims more bytes than the message
                // has, found by fuzz/): that ends this connection only.
                let served = std::panic::AssertUnwindSafe(process_socket(socket, tls, handlers));
                match futures::FutureExt::catch_unwind(served).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::debug!(%peer, %error, "postgres connection ended with an error");
                    }
                    Err(_) => tracing::warn!(
                        %peer,
                        "postgres connection closed: the client sent a message the protocol decoder could not read"
                    ),
                }
                drop(slot);
            });
        }
    }

    /// The handlers of one connection, with its own session.
    fn connection_handlers(&self) -> anyhow::Result<ConnectionHandlers> {
        let guard = Arc::new(StatementGuard {
            engine: self.engine.clone(),
            gate: Gate::new(self.engine.clone()),
        });
        let lane = |base: &SessionContext| -> anyhow::Result<Lane> {
            // Its own memory pool, so a per-query cap holds its statements.
            let state = self.engine.with_own_memory(base.state())?;
            let session = Arc::new(SessionContext::new_with_state(state));
            let hooks: Vec<Arc<dyn QueryHook>> = vec![
                guard.clone(),
                Arc::new(SetShowHook),
                Arc::new(TransactionStatementHook),
            ];
            let service = Arc::new(DfSessionService::new_with_hooks(session.clone(), hooks));
            Ok(Lane {
                parser: service.query_parser(),
                service,
                session,
            })
        };
        let lanes = Arc::new(Lanes {
            clear: lane(&self.base)?,
            restricted: lane(&self.restricted_base)?,
        });
        Ok(ConnectionHandlers {
            service: Arc::new(Service {
                parser: Arc::new(DirectFirstParser {
                    lanes: lanes.clone(),
                }),
                lanes,
                guard,
            }),
            startup: Arc::new(PasswordStartup {
                logins: self.logins.clone(),
                connections: self.connections.clone(),
                parameters: server_parameters(),
                require_tls: self.engine.config().postgres.require_tls,
            }),
            cancel: Arc::new(DefaultCancelHandler::new(self.connections.clone())),
        })
    }
}

fn server_parameters() -> DefaultServerParameterProvider {
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.server_version = SERVER_VERSION.to_string();
    parameters.default_transaction_read_only = true;
    parameters.is_superuser = false;
    parameters
}

/// A TLS acceptor from PEM files; a certificate that does not load stops
/// the server rather than falling back to plain text.
fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading [postgres] tls_cert {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading [postgres] tls_key {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("[postgres] tls_cert and tls_key do not form a usable pair")?;
    // For clients that open with TLS directly (sslnegotiation=direct).
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The handlers pgwire asks for once per connection.
struct ConnectionHandlers {
    service: Arc<Service>,
    startup: Arc<PasswordStartup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// Login: asks for the password (in clear, so it can be checked against an
/// Argon2 hash; TLS protects it on the wire) unless the server runs with
/// `--dev`.
struct PasswordStartup {
    logins: Arc<Logins>,
    connections: Arc<ConnectionManager>,
    parameters: DefaultServerParameterProvider,
    /// Refuse logins over connections without TLS.
    require_tls: bool,
}

fn auth_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message,
    )))
}

fn throttled() -> PgWireError {
    auth_error(
        "28000",
        "too many failed logins from this address; try again in a minute".into(),
    )
}

impl PasswordStartup {
    async fn admit<C>(&self, client: &mut C, who: LoggedIn) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret) = RandomPidSecretKeyGenerator::default().generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        // Registered so a CancelRequest from the client reaches the query.
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        tracing::info!(user = %who.user, role = who.role.as_str(), peer = %client.socket_addr(), "postgres login");
        client.session_extensions().insert(who);
        finish_authentication(client, &self.parameters).await
    }
}

#[async_trait]
impl StartupHandler for PasswordStartup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                if self.logins.dev() {
                    return self
                        .admit(
                            client,
                            LoggedIn {
                                user,
                                role: Role::Admin,
                            },
                        )
                        .await;
                }
                if self.logins.throttled(client.socket_addr().ip()) {
                    return Err(throttled());
                }
                // Passwords travel in the clear without TLS: refused before
                // one is asked for.
                if self.require_tls && !client.is_secure() {
                    return Err(auth_error(
                        "28000",
                        "this server requires TLS ([postgres] require_tls); connect with sslmode=require".into(),
                    ));
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::CleartextPassword,
                    ))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let password = password.into_password()?.password;
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                let peer = client.socket_addr();
                let role = match self.logins.login(peer.ip(), &user, &password).await {
                    Ok(role) => role,
                    Err(Refused::Throttled) => return Err(throttled()),
                    Err(_) => {
                        tracing::warn!(%user, %peer, "postgres login failed");
                        return Err(PgWireError::InvalidPassword(user));
                    }
                };
                self.admit(client, LoggedIn { user, role }).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// What the guard decides about a statement.
enum Verdict {
    /// Let the next hook or DataFusion answer it.
    Pass,
    /// Answer it here.
    Answer(Response),
    /// Refuse it.
    Refuse(PgWireError),
}

fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message,
    )))
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
struct StatementGuard {
    engine: Arc<Engine>,
    gate: Gate,
}

/// The role of the client's login.
fn role_of(client: &(dyn ClientInfo + Send + Sync)) -> PgWireResult<Role> {
    client
        .session_extensions()
        .get::<LoggedIn>()
        .map(|who| who.role)
        .ok_or_else(|| user_error("42501", "not logged in".into()))
}

/// A statement the [`Gate`] refused, with PostgreSQL's code for why.
fn refused(refusal: Refusal) -> PgWireError {
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
    fn limit(
        &self,
        session: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> QueryLimits {
        let role = client
            .session_extensions()
            .get::<LoggedIn>()
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
    match Gate::plan(Some(role), statement, &session.state()).await {
        Ok(plan) => Ok(Some(plan)),
        Err(Refusal::Sql(_)) => Ok(None),
        Err(refusal) => Err(refused(refusal)),
    }
}

fn api_error(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

/// One session of a connection and datafusion-postgres's service on it.
struct Lane {
    service: Arc<DfSessionService>,
    parser: Arc<datafusion_postgres::Parser>,
    session: Arc<SessionContext>,
}

/// A connection's two sessions: clear, and with contact details masked.
struct Lanes {
    clear: Lane,
    restricted: Lane,
}

impl Lanes {
    /// The session a client's role calls for; masked unless the login's
    /// role may see contact details.
    fn of(&self, client: &(dyn ClientInfo + Send + Sync)) -> &Lane {
        let clear = client
            .session_extensions()
            .get::<LoggedIn>()
            .is_some_and(|who| !who.role.sees_contacts_masked());
        if clear { &self.clear } else { &self.restricted }
    }
}

/// One connection's query service: plain queries straight to DataFusion
/// (see [`direct_query`]), everything else through datafusion-postgres, in
/// the session the login's role calls for.
struct Service {
    lanes: Arc<Lanes>,
    parser: Arc<DirectFirstParser>,
    guard: Arc<StatementGuard>,
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
            // Catalog queries in a form DataFusion can plan (see pg_rewrite).
            let rewritten = crate::pg_rewrite::rewrite(query);
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
struct DirectFirstParser {
    lanes: Arc<Lanes>,
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
        let rewritten = crate::pg_rewrite::rewrite(sql);
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
