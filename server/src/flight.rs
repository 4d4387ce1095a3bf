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
use futures::{Stream, StreamExt, TryStreamExt};
use ordergraph_engine::{Engine, QueryLimits, Role};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::access::{Gate, Logins, Refusal, Refused, gate::Admitted};
use crate::settings::FlightSettings;
use catalog::{metadata_info, metadata_stream, sql_info};
use handle::{Handle, numbered_placeholders};

mod catalog;
mod handle;

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
    pub fn new(
        engine: Arc<Engine>,
        settings: &FlightSettings,
        logins: Arc<Logins>,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let pem = crate::tls::configured(
            engine.dir(),
            "flight",
            settings.tls_cert.as_deref(),
            settings.tls_key.as_deref(),
        )?;
        let tls = match pem {
            Some(pem) => {
                let identity = tonic::transport::Identity::from_pem(pem.cert, pem.key);
                let config = tonic::transport::ServerTlsConfig::new().identity(identity);
                // Checked now, so a bad pair stops start-up.
                tonic::transport::Server::builder()
                    .tls_config(config.clone())
                    .context("[flight] tls_cert and tls_key do not form a usable pair")?;
                Some(config)
            }
            None => None,
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
        let admitted = self.gate.admit(Some(caller.role), &sql, None).await;
        crate::metrics::count_query("flight", Some(caller.role), &admitted);
        let admitted = admitted.map_err(refused)?;
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
        let timer = crate::metrics::QueryTimer::start("flight", Some(caller.role));
        let Admitted { frame, limits } = self.plan(&caller, &handle).await?;
        let schema: SchemaRef = frame.schema().inner().clone();
        let stream = frame.execute_stream().await.map_err(datafusion_status)?;
        // The timer goes with the stream: it records when the stream ends.
        let timed = limited(stream, limits).inspect(move |_| {
            let _ = &timer;
        });
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(timed)
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
