//! Arrow Flight SQL: columnar clients (ADBC, JDBC/ODBC Flight SQL drivers)
//! query over gRPC and receive Arrow record batches as they are computed.
//!
//! Same users, roles, masking and limits as HTTP and Postgres: every call
//! carries `authorization` (the handshake answers with the caller's own
//! verified `Basic` credentials, which clients send on every later call;
//! the keyed cache of [`Logins`] makes them cheap to check), every query
//! is one read-only statement whose tables the role may read, planned in
//! the role's (masked or clear) session.
//!
//! The catalog calls (GetCatalogs, GetDbSchemas, GetTables, GetTableTypes)
//! list only what the caller's role may read.
//!
//! Stateless: a prepared statement's handle and a ticket carry the SQL and
//! its bound parameters (Arrow IPC), and are checked again, with the
//! caller's role, whenever they are used; a forged handle is only SQL its
//! bearer could have sent anyway.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket,
};
use base64::Engine as _;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::common::ScalarValue;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use futures::{Stream, StreamExt, TryStreamExt};
use ordergraph_engine::{Engine, QueryLimits, Role};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::access::{Gate, Logins, Refusal, Refused, gate::Admitted};

/// The Flight SQL service of one engine.
pub struct FlightServer {
    engine: Arc<Engine>,
    gate: Gate,
    logins: Arc<Logins>,
    tls: Option<tonic::transport::ServerTlsConfig>,
}

impl std::fmt::Debug for FlightServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightServer").finish_non_exhaustive()
    }
}

/// A statement as handles and tickets carry it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Handle {
    sql: String,
    /// The bound parameter row, as an Arrow IPC stream (base64).
    params: Option<String>,
}

impl Handle {
    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a handle serializes")
    }

    fn decode(bytes: &[u8]) -> Result<Self, Status> {
        serde_json::from_slice(bytes)
            .map_err(|_| Status::invalid_argument("not a statement handle of this server"))
    }

    /// The bound values of `$1`, `$2`, ...
    fn values(&self) -> Result<Vec<ScalarValue>, Status> {
        let Some(params) = &self.params else {
            return Ok(Vec::new());
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(params)
            .map_err(|_| Status::invalid_argument("bad parameters in the handle"))?;
        let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
            std::io::Cursor::new(bytes),
            None,
        )
        .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
        let mut values = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
            if batch.num_rows() == 0 {
                continue;
            }
            for column in batch.columns() {
                values.push(
                    ScalarValue::try_from_array(column, 0)
                        .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?,
                );
            }
            break;
        }
        Ok(values)
    }
}

/// `?` placeholders (the ADBC and JDBC style) as `$1`, `$2`, ... in text
/// order; a `?` inside a string literal is part of the literal.
fn numbered_placeholders(sql: &str) -> Result<String, Status> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let mut n = 0;
    let mut out = String::with_capacity(sql.len());
    for token in tokens {
        match token {
            Token::Placeholder(p) if p == "?" => {
                n += 1;
                out.push_str(&format!("${n}"));
            }
            other => out.push_str(&other.to_string()),
        }
    }
    Ok(out)
}

fn status_of(e: ordergraph_engine::Error) -> Status {
    if e.is_user_error() {
        Status::invalid_argument(e.to_string())
    } else {
        tracing::error!(error = %e, "flight query failed");
        Status::internal("internal error")
    }
}

fn datafusion_status(e: datafusion::error::DataFusionError) -> Status {
    if let datafusion::error::DataFusionError::ResourcesExhausted(message) = e.find_root() {
        // The query's own cap (a smaller query will do) or the shared pool.
        let limit = if message.starts_with(ordergraph_engine::QUERY_CAP_EXCEEDED) {
            "[limits] query_memory_mib of the role"
        } else {
            "[limits] memory_limit_mib, shared by all queries"
        };
        return Status::resource_exhausted(format!("{message} ({limit})"));
    }
    status_of(ordergraph_engine::Error::from(e))
}

/// A statement the [`Gate`] refused, as a gRPC status.
fn refused(refusal: Refusal) -> Status {
    match refusal {
        Refusal::MayNotQuery(_) | Refusal::MayNotRead { .. } => {
            Status::permission_denied(refusal.to_string())
        }
        Refusal::NotReadOnly(e) | Refusal::Sql(e) => status_of(e.into()),
        Refusal::Engine(e) => status_of(e),
    }
}

/// A table or view a caller may read.
struct Readable {
    catalog: String,
    schema: String,
    name: String,
    table: Arc<dyn datafusion::catalog::TableProvider>,
}

/// A logged-in caller.
struct Caller {
    role: Role,
    /// The `authorization` value that admitted it.
    authorization: String,
}

impl FlightServer {
    /// The service over `engine`, checking callers against `logins`, with
    /// TLS if `[flight]` names a certificate and key: a pair that does not
    /// load stops start-up rather than falling back to plain text.
    pub fn new(engine: Arc<Engine>, logins: Arc<Logins>) -> anyhow::Result<Self> {
        use anyhow::Context;
        let settings = &engine.config().flight;
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => {
                let read = |path: &std::path::Path, what: &str| {
                    let path = engine.dir().join(path);
                    std::fs::read(&path)
                        .with_context(|| format!("reading [flight] {what} {}", path.display()))
                };
                let identity = tonic::transport::Identity::from_pem(
                    read(cert, "tls_cert")?,
                    read(key, "tls_key")?,
                );
                let config = tonic::transport::ServerTlsConfig::new().identity(identity);
                // Checked now, so a bad pair stops start-up.
                tonic::transport::Server::builder()
                    .tls_config(config.clone())
                    .context("[flight] tls_cert and tls_key do not form a usable pair")?;
                Some(config)
            }
            _ => None,
        };
        Ok(Self {
            gate: Gate::new(engine.clone()),
            engine,
            logins,
            tls,
        })
    }

    /// Whether callers connect with TLS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves Flight SQL on `listener` until `stopped` turns true.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = self.tls.clone() {
            builder = match builder.tls_config(tls) {
                Ok(builder) => builder,
                Err(e) => {
                    tracing::error!(error = %e, "[flight] tls_cert and tls_key do not form a usable pair");
                    return;
                }
            };
        }
        let served = builder
            .add_service(FlightServiceServer::from_arc(self))
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = stopped.changed().await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the Flight SQL listener stopped");
        }
    }

    /// The caller of a request, if its credentials admit a role that may
    /// run SQL.
    async fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        // Like Postgres: passwords are mandatory outside --dev.
        if !self.logins.dev() && !self.logins.has_users() {
            return Err(Status::unauthenticated(
                "no [[users]] in ordergraph.toml: Flight SQL logins are refused (--dev admits anyone)",
            ));
        }
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let from = request
            .remote_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |a: SocketAddr| a.ip());
        let (_, role) = self
            .logins
            .admit(authorization.as_deref(), from)
            .await
            .map_err(|refused| match refused {
                Refused::Throttled => Status::resource_exhausted(
                    "too many failed logins from this address; try again in a minute",
                ),
                _ => Status::unauthenticated("log in with a user name and password"),
            })?;
        Gate::may_query(Some(role)).map_err(refused)?;
        Ok(Caller {
            role,
            authorization: authorization.unwrap_or_default(),
        })
    }

    /// Plans a statement for `caller` through the [`Gate`], with its
    /// parameters bound.
    async fn plan(&self, caller: &Caller, handle: &Handle) -> Result<Admitted, Status> {
        let sql = numbered_placeholders(&handle.sql)?;
        let admitted = self
            .gate
            .admit(Some(caller.role), &sql, None)
            .await
            .map_err(refused)?;
        let values = handle.values()?;
        if values.is_empty() {
            return Ok(admitted);
        }
        let frame = admitted
            .frame
            .with_param_values(values)
            .map_err(datafusion_status)?;
        Ok(Admitted { frame, ..admitted })
    }

    /// Every table and view the caller's role may read, in the role's
    /// session.
    async fn readable(&self, caller: &Caller) -> Result<Vec<Readable>, Status> {
        let session = self
            .engine
            .session_as(None, Gate::masked(Some(caller.role)))
            .map_err(status_of)?;
        let mut found = Vec::new();
        for catalog_name in session.catalog_names() {
            let Some(catalog) = session.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                let mut names = schema.table_names();
                names.sort();
                for name in names {
                    let reference = datafusion::common::TableReference::partial(
                        schema_name.as_str(),
                        name.as_str(),
                    );
                    if !Gate::may_read(Some(caller.role), &reference) {
                        continue;
                    }
                    if let Some(table) = schema.table(&name).await.map_err(datafusion_status)? {
                        found.push(Readable {
                            catalog: catalog_name.clone(),
                            schema: schema_name.clone(),
                            name,
                            table,
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    /// The FlightInfo of a statement: its schema and one ticket to fetch
    /// it from this server.
    async fn info(
        &self,
        caller: &Caller,
        handle: Handle,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema: SchemaRef = self
            .plan(caller, &handle)
            .await?
            .frame
            .schema()
            .inner()
            .clone();
        let ticket = TicketStatementQuery {
            statement_handle: handle.encode().into(),
        };
        let info = FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(
                FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec())),
            )
            .with_descriptor(descriptor)
            .with_total_records(-1);
        Ok(Response::new(info))
    }
}

/// A DataFusion stream within the role's limits: one deadline for the
/// whole stream, and an error after the rows sent once there are more
/// than `max_rows`.
fn limited(
    stream: datafusion::physical_plan::SendableRecordBatchStream,
    limits: QueryLimits,
) -> impl Stream<Item = Result<RecordBatch, FlightError>> + Send {
    let deadline = tokio::time::Instant::now() + limits.timeout;
    futures::stream::unfold((Some(stream), 0u64), move |(stream, rows)| async move {
        let mut stream = stream?;
        let next = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => Err(Status::deadline_exceeded(format!(
                "the query ran longer than its {:?} limit",
                limits.timeout
            ))),
            Ok(None) => return None,
            Ok(Some(Err(e))) => Err(datafusion_status(e)),
            Ok(Some(Ok(batch))) => {
                let rows = rows + batch.num_rows() as u64;
                match limits.max_rows {
                    Some(max) if rows > max => Err(Status::resource_exhausted(format!(
                        "the result has more than max_result_rows ({max}) rows"
                    ))),
                    _ => return Some((Ok(batch), (Some(stream), rows))),
                }
            }
        };
        Some((next.map_err(FlightError::from), (None, rows)))
    })
}

type HandshakeStream = Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>;

#[tonic::async_trait]
impl FlightSqlService for FlightServer {
    type FlightService = FlightServer;

    /// Checks the `Basic` credentials and answers with them as the
    /// `authorization` to send on every later call.
    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<HandshakeStream>, Status> {
        let caller = self.caller(&request).await?;
        tracing::info!(role = caller.role.as_str(), "flight login");
        let answer = HandshakeResponse {
            protocol_version: 0,
            payload: Default::default(),
        };
        let mut response: Response<HandshakeStream> =
            Response::new(Box::pin(futures::stream::iter([Ok(answer)])));
        if let Ok(value) = caller.authorization.parse() {
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let caller = self.caller(&request).await?;
        let handle = Handle {
            sql: query.query,
            params: None,
        };
        self.info(&caller, handle, request.into_inner()).await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let caller = self.caller(&request).await?;
        let handle = Handle::decode(&query.prepared_statement_handle)?;
        self.info(&caller, handle, request.into_inner()).await
    }

    /// Streams a result batch by batch as DataFusion computes it.
    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let caller = self.caller(&request).await?;
        let handle = Handle::decode(&ticket.statement_handle)?;
        let Admitted { frame, limits } = self.plan(&caller, &handle).await?;
        let schema: SchemaRef = frame.schema().inner().clone();
        let stream = frame.execute_stream().await.map_err(datafusion_status)?;
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(limited(stream, limits))
            .map_err(Status::from);
        Ok(Response::new(Box::pin(flight)))
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let ticket = TicketStatementQuery {
            statement_handle: query.prepared_statement_handle,
        };
        self.do_get_statement(ticket, request).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let caller = self.caller(&request).await?;
        let handle = Handle {
            sql: query.query,
            params: None,
        };
        let schema: SchemaRef = self
            .plan(&caller, &handle)
            .await?
            .frame
            .schema()
            .inner()
            .clone();
        let IpcMessage(dataset_schema) = SchemaAsIpc::new(&schema, &IpcWriteOptions::default())
            .try_into()
            .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.encode().into(),
            dataset_schema,
            ..Default::default()
        })
    }

    /// Binds one row of parameters: the answer is a new handle carrying them.
    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        self.caller(&request).await?;
        let mut handle = Handle::decode(&query.prepared_statement_handle)?;
        let batches: Vec<RecordBatch> =
            arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
                request.into_inner().map_err(FlightError::from),
            )
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows > 1 {
            return Err(Status::invalid_argument(
                "bind one row of parameters per execution",
            ));
        }
        if let Some(batch) = batches.into_iter().find(|b| b.num_rows() == 1) {
            let mut ipc = Vec::new();
            let mut writer =
                datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut ipc, &batch.schema())
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
            writer
                .write(&batch)
                .and_then(|_| writer.finish())
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            drop(writer);
            handle.params = Some(base64::engine::general_purpose::STANDARD.encode(ipc));
        }
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle.encode().into()),
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        // Handles are stateless: nothing to free.
        Ok(())
    }

    async fn do_get_fallback(
        &self,
        _request: Request<Ticket>,
        message: Any,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Err(Status::unimplemented(format!(
            "{} is not supported",
            message.type_url
        )))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(&request).await?;
        let schema = query.clone().into_builder(sql_info()).schema();
        metadata_info(&query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.caller(&request).await?;
        let builder = query.into_builder(sql_info());
        metadata_stream(builder.schema(), builder.build())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(&request).await?;
        let schema = query.into_builder().schema();
        metadata_info(&query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let caller = self.caller(&request).await?;
        let mut builder = query.into_builder();
        let mut seen = std::collections::BTreeSet::new();
        for r in self.readable(&caller).await? {
            if seen.insert(r.catalog.clone()) {
                builder.append(r.catalog);
            }
        }
        metadata_stream(builder.schema(), builder.build())
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(&request).await?;
        let schema = query.clone().into_builder().schema();
        metadata_info(&query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let caller = self.caller(&request).await?;
        let mut builder = query.into_builder();
        let mut seen = std::collections::BTreeSet::new();
        for r in self.readable(&caller).await? {
            if seen.insert((r.catalog.clone(), r.schema.clone())) {
                builder.append(r.catalog, r.schema);
            }
        }
        metadata_stream(builder.schema(), builder.build())
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(&request).await?;
        let schema = query.clone().into_builder().schema();
        metadata_info(&query.as_any(), &schema, request.into_inner())
    }

    /// The tables and views the caller's role may read, with their
    /// schemas if asked (as the role sees them: masked columns included).
    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let caller = self.caller(&request).await?;
        let mut builder = query.into_builder();
        for r in self.readable(&caller).await? {
            let kind = match r.table.table_type() {
                datafusion::datasource::TableType::View => "VIEW",
                _ => "TABLE",
            };
            builder
                .append(&r.catalog, &r.schema, &r.name, kind, &r.table.schema())
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        metadata_stream(builder.schema(), builder.build())
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(&request).await?;
        let schema = query.into_builder().schema();
        metadata_info(&query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.caller(&request).await?;
        let mut builder = query.into_builder();
        builder.append("TABLE");
        builder.append("VIEW");
        metadata_stream(builder.schema(), builder.build())
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// What this server says of itself (GetSqlInfo).
fn sql_info() -> &'static SqlInfoData {
    static INFO: std::sync::OnceLock<SqlInfoData> = std::sync::OnceLock::new();
    INFO.get_or_init(|| {
        let mut builder = SqlInfoDataBuilder::new();
        builder.append(SqlInfo::FlightSqlServerName, "ordergraph");
        builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        builder.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
        builder.append(SqlInfo::FlightSqlServerReadOnly, true);
        builder.append(SqlInfo::FlightSqlServerSql, true);
        builder.append(SqlInfo::FlightSqlServerSubstrait, false);
        builder.build().expect("a valid SqlInfo table")
    })
}

/// The FlightInfo of a metadata command: its schema and one ticket (the
/// command itself) to fetch it from this server.
fn metadata_info(
    command: &Any,
    schema: &datafusion::arrow::datatypes::Schema,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(command.encode_to_vec())))
        .with_descriptor(descriptor);
    Ok(Response::new(info))
}

/// One metadata batch as a DoGet stream.
fn metadata_stream<E: std::fmt::Display>(
    schema: SchemaRef,
    batch: Result<RecordBatch, E>,
) -> Result<Response<<FlightServer as FlightService>::DoGetStream>, Status> {
    let batch = batch.map_err(|e| Status::internal(e.to_string()))?;
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async { Ok(batch) }))
        .map_err(Status::from);
    Ok(Response::new(Box::pin(stream)))
}
