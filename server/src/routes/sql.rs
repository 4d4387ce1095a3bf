//! `POST /v1/sql`: the body is SQL text, or JSON `{"sql": "..."}`; the
//! answer is JSON, CSV or an Arrow IPC stream by `Accept`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

use crate::encode::{Encoding, encode};
use crate::{ApiError, AppState};

/// The query text and, optionally, the report time to run it at.
fn sql_text(headers: &HeaderMap, body: &[u8]) -> Result<(String, Option<String>), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "body is not UTF-8"))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let (sql, now) = if is_json || text.trim_start().starts_with('{') {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Request {
            sql: String,
            now: Option<String>,
        }
        let r = serde_json::from_str::<Request>(text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("expected {{\"sql\": \"...\", \"now\": optional RFC 3339 time}}: {e}"),
            )
        })?;
        (r.sql, r.now)
    } else {
        (text.to_string(), None)
    };
    // The report clock: the body's `now`, else the `X-Report-Now` header.
    let now = now.or_else(|| {
        headers
            .get("x-report-now")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    if sql.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "no SQL in the request body",
        ));
    }
    Ok((sql, now))
}

/// Runs one read-only query.
pub(crate) async fn sql(
    State(state): State<AppState>,
    caller: Option<axum::Extension<crate::auth::Caller>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let encoding =
        Encoding::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))?;
    let (sql, now) = sql_text(&headers, &body)?;
    let now = now
        .map(|n| ordergraph_engine::decode::parse_timestamp(&n))
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("now: {e}")))?;
    let restricted = caller.is_some_and(|c| c.restricted());
    let (schema, batches) = collect_as(&state, &sql, now, restricted).await?;
    let body = encode(encoding, &schema, &batches).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, encoding.content_type())], body).into_response())
}

/// Runs one read-only query to completion within the query timeout (408
/// beyond it).
pub(crate) async fn collect(
    state: &AppState,
    sql: &str,
    now: Option<i64>,
) -> Result<(SchemaRef, Vec<RecordBatch>), ApiError> {
    collect_as(state, sql, now, false).await
}

/// [`collect`] in a session with contact details masked if `restricted`.
pub(crate) async fn collect_as(
    state: &AppState,
    sql: &str,
    now: Option<i64>,
    restricted: bool,
) -> Result<(SchemaRef, Vec<RecordBatch>), ApiError> {
    let run = async {
        let df = state.engine.query_as(sql, now, restricted).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.map_err(ordergraph_engine::Error::from)?;
        Ok::<_, ApiError>((schema, batches))
    };
    tokio::time::timeout(state.query_timeout, run)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("query ran longer than {:?}", state.query_timeout),
            )
        })?
}
