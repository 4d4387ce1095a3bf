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
use datafusion::prelude::SessionContext;
use ordergraph_engine::Role;
use ordergraph_engine::SessionOptions;
use serde_json::Value;

use crate::access::Gate;
use crate::encode::{Encoding, StreamEncoder, encode};
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
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body is not UTF-8"))?;
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
            ApiError::bad_request(
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
        return Err(ApiError::bad_request("no SQL in the request body"));
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

/// Runs one read-only query, streaming its result.
pub(crate) async fn sql(
    State(state): State<AppState>,
    caller: Option<axum::Extension<crate::access::Caller>>,
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
        .map_err(|e| ApiError::bad_request(format!("now: {e}")))?;
    let role = caller.map(|c| c.role);
    let admitted = if on_cluster(&headers)? {
        let session = cluster_session(&state, role, now).await?;
        Gate::admit_in(role, &sql, &session, state.gate().limits(role)).await
    } else {
        state.gate().admit(role, &sql, now).await
    };
    crate::metrics::count_query("http", role, &admitted);
    let admitted = admitted?;
    let timer = crate::metrics::QueryTimer::start("http", role);
    let (df, limits) = (admitted.frame, admitted.limits);
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let values = param_values(&df, &params)?;
    let df = if values.is_empty() {
        df
    } else {
        df.with_param_values(values)?
    };
    let stream = tokio::time::timeout_at(deadline, df.execute_stream())
        .await
        .map_err(|_| timed_out(limits.timeout))??;
    let mut result = Streaming {
        encoder: Some(StreamEncoder::new(encoding, stream.schema()).map_err(ApiError::internal)?),
        stream,
        encoding,
        rows: 0,
        max_rows: limits.max_rows,
        deadline,
        timeout: limits.timeout,
        _timer: timer,
    };
    // Errors up to the first bytes are ordinary error answers.
    let first = result.next_chunk().await?;
    use futures::StreamExt;
    let body = futures::stream::once(async move { Ok(Bytes::from(first.unwrap_or_default())) })
        .chain(futures::stream::unfold(result, Streaming::next_body_chunk));
    Ok((
        [(header::CONTENT_TYPE, encoding.content_type())],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Whether the caller asks for the cluster: `X-Ordergraph-Engine: cluster`
/// (`local`, or no header, runs the query here).
fn on_cluster(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get("x-ordergraph-engine").map(|v| v.to_str()) {
        None => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("local") => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("cluster") => Ok(true),
        _ => Err(ApiError::bad_request(
            "X-Ordergraph-Engine: give local or cluster",
        )),
    }
}

/// A session of the cluster (`[cluster]`) over the tables of the last
/// export, for a caller who may see them.
async fn cluster_session(
    state: &AppState,
    role: Option<Role>,
    now: Option<i64>,
) -> Result<SessionContext, ApiError> {
    let cluster = state.cluster.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "X-Ordergraph-Engine: cluster needs [cluster] scheduler in ordergraph.toml",
        )
    })?;
    if now.is_some() {
        return Err(ApiError::bad_request(
            "the cluster reports as of its export's clock: \"now\" is not taken there",
        ));
    }
    Gate::may_query(role)?;
    if Gate::masked(role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the cluster reads the exported tables, whose contact details are not masked; this role sees them masked, so it queries the server itself",
        ));
    }
    cluster.session().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_unavailable",
            format!("{e:#}"),
        )
    })
}

fn timed_out(timeout: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "timeout",
        format!("query ran longer than {timeout:?}"),
    )
}

/// A result being streamed: a batch is encoded and sent as soon as it is
/// computed, so memory stays at about one batch however large the result.
///
/// After the first bytes the status (200) cannot change any more, so an
/// error then (the query fails, runs past the timeout, or exceeds
/// `max_result_rows`) ends the answer unmistakably: NDJSON ends with the
/// line `{"error": ..., "message": ...}` (a reader checks the last line);
/// JSON, CSV and Arrow are cut off without
/// their end (the chunked transfer is aborted), which HTTP clients report
/// as an incomplete body, never as a complete, shorter result.
struct Streaming {
    stream: datafusion::physical_plan::SendableRecordBatchStream,
    /// `None` once the closing bytes are out.
    encoder: Option<StreamEncoder>,
    encoding: Encoding,
    rows: u64,
    max_rows: Option<u64>,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
    /// Records the query's time when the answer is done with.
    _timer: crate::metrics::QueryTimer,
}

impl Streaming {
    /// The next bytes of the answer; `None` after the closing bytes.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        use futures::StreamExt;
        loop {
            let Some(encoder) = self.encoder.as_mut() else {
                return Ok(None);
            };
            let next = tokio::time::timeout_at(self.deadline, self.stream.next())
                .await
                .map_err(|_| timed_out(self.timeout))?;
            let Some(batch) = next.transpose()? else {
                let encoder = self.encoder.take().expect("checked above");
                return encoder.finish().map(Some).map_err(ApiError::internal);
            };
            self.rows += batch.num_rows() as u64;
            if let Some(max) = self.max_rows
                && self.rows > max
            {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "too_many_rows",
                    format!(
                        "the result has more than max_result_rows ({max}) rows: add a LIMIT or narrow the query"
                    ),
                ));
            }
            let bytes = encoder.batch(&batch).map_err(ApiError::internal)?;
            if !bytes.is_empty() {
                return Ok(Some(bytes));
            }
        }
    }

    /// [`Streaming::next_chunk`] as a body stream, ending in an error
    /// record (NDJSON) or an abort on failure.
    async fn next_body_chunk(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        match self.next_chunk().await {
            Ok(Some(bytes)) => Some((Ok(Bytes::from(bytes)), self)),
            Ok(None) => None,
            Err(e) => {
                let record = e.to_json();
                tracing::warn!(error = %record, rows_sent = self.rows, "query failed while its result was streaming; the answer is cut off");
                // Nothing follows: the next poll ends the body.
                self.encoder = None;
                if self.encoding == Encoding::Ndjson {
                    Some((Ok(Bytes::from(format!("{record}\n"))), self))
                } else {
                    Some((Err(std::io::Error::other(record.to_string())), self))
                }
            }
        }
    }
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
        let df = state
            .engine
            .query_with(
                sql,
                SessionOptions {
                    now,
                    masked: restricted,
                    memory_cap: None,
                    ..SessionOptions::default()
                },
            )
            .await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.map_err(ordergraph_engine::Error::from)?;
        Ok::<_, ApiError>((schema, batches))
    };
    tokio::time::timeout(state.query_timeout, run)
        .await
        .map_err(|_| timed_out(state.query_timeout))?
}

/// The rows of a query as JSON objects, with contacts masked if `restricted`.
pub(crate) async fn rows_as(
    state: &AppState,
    sql: &str,
    restricted: bool,
) -> Result<Vec<Value>, ApiError> {
    let (schema, batches) = collect_as(state, sql, None, restricted).await?;
    let body = encode(Encoding::Json, &schema, &batches).map_err(ApiError::internal)?;
    match serde_json::from_slice(&body).map_err(ApiError::internal)? {
        Value::Array(rows) => Ok(rows),
        other => Err(ApiError::internal(format!("expected rows, got {other}"))),
    }
}

/// The rows of a query as JSON objects.
pub(crate) async fn rows(state: &AppState, sql: &str) -> Result<Vec<Value>, ApiError> {
    rows_as(state, sql, false).await
}
