//! `POST /v1/sql`: the body is SQL text, or JSON `{"sql": "...", "params":
//! [...], "now": "..."}`; the answer is JSON, CSV or an Arrow IPC stream by
//! `Accept`. Parameters fill `$1`, `$2`, ... as values, never as SQL text.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use serde_json::Value;

use crate::encode::{Encoding, encode};
use crate::{ApiError, AppState};

/// A query as the request gives it.
struct SqlRequest {
    sql: String,
    /// The report time to run it at.
    now: Option<String>,
    /// Values of `$1`, `$2`, ...
    params: Vec<Value>,
}

/// The query text, its parameters and, optionally, the report time.
fn sql_text(headers: &HeaderMap, body: &[u8]) -> Result<SqlRequest, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "body is not UTF-8"))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let (sql, now, params) = if is_json || text.trim_start().starts_with('{') {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Request {
            sql: String,
            now: Option<String>,
            #[serde(default)]
            params: Vec<Value>,
        }
        let r = serde_json::from_str::<Request>(text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("expected {{\"sql\": \"...\", \"params\": optional [values of $1, $2, ...], \"now\": optional RFC 3339 time}}: {e}"),
            )
        })?;
        (r.sql, r.now, r.params)
    } else {
        (text.to_string(), None, Vec::new())
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
    Ok(SqlRequest { sql, now, params })
}

fn bad_param(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_params", message)
}

/// JSON parameters as the values of `$1`, `$2`, ...: each cast to the type
/// the query gives its placeholder where it gives one, so a bad value is
/// named here rather than failing somewhere in the plan.
fn param_values(df: &DataFrame, params: &[Value]) -> Result<Vec<ScalarValue>, ApiError> {
    let types = df.logical_plan().get_parameter_types()?;
    let mut count = 0;
    for id in types.keys() {
        let n = id
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad_param(format!("parameter {id}: use $1, $2, ... with \"params\"")))?;
        count = count.max(n);
    }
    if count != params.len() {
        return Err(bad_param(format!(
            "the query uses {count} parameter(s), {} given in \"params\"",
            params.len()
        )));
    }
    params
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let id = format!("${}", i + 1);
            let value = match v {
                Value::Null => ScalarValue::Null,
                Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => ScalarValue::Int64(Some(i)),
                    None => ScalarValue::Float64(n.as_f64()),
                },
                Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
                Value::Array(_) | Value::Object(_) => {
                    return Err(bad_param(format!(
                        "parameter {id}: give a string, number, boolean or null"
                    )));
                }
            };
            match types.get(&id).cloned().flatten() {
                Some(t) if !value.is_null() => value
                    .cast_to(&t)
                    .map_err(|e| bad_param(format!("parameter {id} ({v}) as {t}: {e}"))),
                _ => Ok(value),
            }
        })
        .collect()
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
    let SqlRequest { sql, now, params } = sql_text(&headers, &body)?;
    let now = now
        .map(|n| ordergraph_engine::decode::parse_timestamp(&n))
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("now: {e}")))?;
    let restricted = caller.is_some_and(|c| c.restricted());
    let (schema, batches) = collect_with(&state, &sql, now, restricted, &params).await?;
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
    collect_with(state, sql, now, restricted, &[]).await
}

/// [`collect_as`] with values for the query's `$1`, `$2`, ...
async fn collect_with(
    state: &AppState,
    sql: &str,
    now: Option<i64>,
    restricted: bool,
    params: &[Value],
) -> Result<(SchemaRef, Vec<RecordBatch>), ApiError> {
    let run = async {
        let df = state.engine.query_as(sql, now, restricted).await?;
        let values = param_values(&df, params)?;
        let df = if values.is_empty() {
            df
        } else {
            df.with_param_values(values)?
        };
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
