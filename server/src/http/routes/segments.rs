//! `GET /v1/segments` and `GET /v1/segments/{name}`: the customer segments
//! marketing pulls into its campaign tools, with their contacts, in a
//! stable order (by MCID), a page at a time.
//!
//! A segment is computed when it is asked for, on the current MCIDs, so a
//! merge or split of customers shows in the next export.
//! `GET /v1/segments/{name}/sizes` counts its members by the month they
//! entered.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ordergraph_queries::segments;
use serde::Deserialize;

use super::mcid_shaped;
use crate::encode::{Encoding, encode};
use crate::{ApiError, AppState};

/// Rows per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: usize = 1_000;
const MAX_LIMIT: usize = 100_000;

/// Lists the segments.
pub(crate) async fn list() -> Json<serde_json::Value> {
    let segments: Vec<_> = segments()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "description": s.description,
                "entered_at_column": s.entered_at,
                "href": format!("/v1/segments/{}", s.name),
                "sizes": format!("/v1/segments/{}/sizes", s.name),
            })
        })
        .collect();
    Json(serde_json::json!({ "segments": segments }))
}

/// The segment named `name`, or a 404 that says where the names are.
fn named(name: &str) -> Result<&'static ordergraph_queries::Segment, ApiError> {
    segments().find(|s| s.name == name).ok_or_else(|| {
        ApiError::not_found(format!("no segment '{name}'; GET /v1/segments lists them"))
    })
}

/// Today's members of a segment by the business month they entered
/// (`entered`), and how many of them had entered by the month's end
/// (`members`), oldest month first.
pub(crate) async fn sizes(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let segment = named(&name)?;
    let months = super::sql::rows(&state, &crate::exports::segment_sizes_sql(segment)).await?;
    Ok(Json(serde_json::json!({
        "segment": segment.name,
        "timezone": state.engine.config().report.timezone,
        "months": months,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    /// Only members who entered at or after this time (RFC 3339).
    since: Option<String>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<usize>,
}

/// The rows per page a request asks for: [`DEFAULT_LIMIT`] unless it says,
/// at most [`MAX_LIMIT`].
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

/// Exports one page of a segment as JSON, CSV or Arrow (by `Accept`). The
/// next page's cursor is in `X-Next-Cursor` and a `Link: rel="next"`
/// header, absent on the last page.
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(name): Path<String>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let segment = named(&name)?;
    let encoding =
        Encoding::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))?;
    let limit = page_limit(page.limit)?;
    let since = page
        .since
        .as_deref()
        .map(ordergraph_engine::decode::parse_timestamp)
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("since: {e}")))?;
    // A cursor is an MCID, quoted into the query.
    if let Some(cursor) = &page.cursor
        && mcid_shaped(cursor).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "cursor '{cursor}' is not one this API gave out"
        )));
    }

    // One row more than the page tells whether there is a next page.
    let sql = crate::exports::segment_sql(segment, since, page.cursor.as_deref(), Some(limit + 1));
    let (schema, batches) = super::sql::collect(&state, &sql, None).await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let (batches, next) = if rows > limit {
        let all = datafusion::arrow::compute::concat_batches(&schema, &batches)
            .map_err(ApiError::internal)?;
        let mcids = datafusion::arrow::compute::cast(
            all.column_by_name("mcid").expect("segments have an mcid"),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .map_err(ApiError::internal)?;
        let next = datafusion::arrow::array::AsArray::as_string::<i32>(&mcids)
            .value(limit - 1)
            .to_string();
        (vec![all.slice(0, limit)], Some(next))
    } else {
        (batches, None)
    };
    let body = encode(encoding, &schema, &batches).map_err(ApiError::internal)?;
    let mut response = ([(header::CONTENT_TYPE, encoding.content_type())], body).into_response();
    if let Some(next) = next {
        let mut link = format!("/v1/segments/{name}?cursor={next}&limit={limit}");
        if let Some(since) = &page.since {
            link.push_str(&format!("&since={}", urlencode(since)));
        }
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&next) {
            headers.insert("x-next-cursor", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("<{link}>; rel=\"next\"")) {
            headers.insert(header::LINK, v);
        }
    }
    Ok(response)
}

/// Percent-encodes the characters of an RFC 3339 time that a query string
/// would misread.
fn urlencode(text: &str) -> String {
    text.replace('%', "%25")
        .replace('+', "%2B")
        .replace(':', "%3A")
}
