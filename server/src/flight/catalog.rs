//! What Flight SQL clients learn of the server without running SQL: the
//! catalogs, schemas, tables and views the caller's role may read, and
//! what the server says of itself (GetSqlInfo).

use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::{Any, SqlInfo};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, Ticket};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use futures::TryStreamExt;
use ordergraph_engine::SessionOptions;
use prost::Message;
use tonic::{Response, Status};

use super::{Caller, FlightServer, datafusion_status, status_of};
use crate::access::Gate;

/// A table or view a caller may read.
pub(super) struct Readable {
    pub(super) catalog: String,
    pub(super) schema: String,
    pub(super) name: String,
    pub(super) table: Arc<dyn datafusion::catalog::TableProvider>,
}

impl FlightServer {
    /// Every table and view the caller's role may read, in the role's
    /// session.
    pub(super) async fn readable(&self, caller: &Caller) -> Result<Vec<Readable>, Status> {
        let session = self
            .engine
            .session_with(SessionOptions {
                masked: Gate::masked(Some(caller.role)),
                ..SessionOptions::default()
            })
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
}

/// What this server says of itself (GetSqlInfo).
pub(super) fn sql_info() -> &'static SqlInfoData {
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
pub(super) fn metadata_info(
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
pub(super) fn metadata_stream<E: std::fmt::Display>(
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
