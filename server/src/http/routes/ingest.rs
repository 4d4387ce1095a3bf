//! `POST /v1/ingest/{table}`: CSV, NDJSON or Parquet by `Content-Type`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use ordergraph_engine::{Format, IngestReport};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// Ingests the body; the whole request is applied or, on a bad row, none of it.
pub(crate) async fn ingest(
    State(state): State<AppState>,
    Path(table): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = Format::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_format",
            format!("Content-Type '{content_type}' is not supported: use text/csv, application/x-ndjson or application/vnd.apache.parquet"),
        )
    })?;
    let engine = state.engine.clone();
    let report: IngestReport =
        tokio::task::spawn_blocking(move || engine.ingest(&table, format, "request body", body))
            .await
            .map_err(ApiError::internal)??;
    Ok(Json(json!(report)))
}
