//! `GET /v1/customers/{mcid}/lineage` (JSON or PDF) and
//! `GET /v1/customers?phone=...`: what support needs to answer "what has
//! this person bought from us, anywhere" in one look (see
//! [`crate::lineage`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::rows;
use super::{literal, mcid_shaped};
use crate::lineage::Lineage;
use crate::{ApiError, AppState};

/// An MCID as typed by a person (see [`mcid_shaped`]), upper-cased.
fn clean_mcid(text: &str) -> Result<String, ApiError> {
    mcid_shaped(text.trim())
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| ApiError::bad_request(format!("'{text}' is not an MCID")))
}

/// Options of the lineage endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineageOptions {
    /// Mask phones and emails even for a role that sees them (a PDF to
    /// be sent on, say).
    #[serde(default)]
    masked: bool,
}

/// Whether the lineage shows contacts masked: for roles that see them so
/// everywhere, or when asked.
fn masked(caller: Option<&crate::access::Caller>, options: &LineageOptions) -> bool {
    options.masked || caller.is_some_and(|c| c.restricted())
}

/// The customer–order graph around one MCID, as JSON.
pub(crate) async fn lineage(
    State(state): State<AppState>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Path(requested): Path<String>,
    options: Result<Query<LineageOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Lineage>, ApiError> {
    let Query(options) = options.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let restricted = masked(caller.as_deref(), &options);
    Ok(Json(lineage_of(&state, &requested, restricted).await?))
}

/// The lineage as a PDF for a support agent to send (see
/// [`crate::lineage::pdf`]).
pub(crate) async fn lineage_pdf(
    State(state): State<AppState>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Path(requested): Path<String>,
    options: Result<Query<LineageOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Query(options) = options.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let restricted = masked(caller.as_deref(), &options);
    let lineage = lineage_of(&state, &requested, restricted).await?;
    let mcid = lineage.mcid.clone();
    let now = chrono::Utc::now();
    let pdf = tokio::task::spawn_blocking(move || crate::lineage::pdf::render(&lineage, now))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let disposition = format!("inline; filename=\"lineage-{mcid}.pdf\"");
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}

/// The lineage of the MCID `requested`, or of the one it was merged into.
async fn lineage_of(
    state: &AppState,
    requested: &str,
    restricted: bool,
) -> Result<Lineage, ApiError> {
    let requested = clean_mcid(requested)?;
    Lineage::of(state, &requested, restricted)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no customer {requested}")))
}

/// One identifier to look a customer up by.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lookup {
    phone: Option<String>,
    email: Option<String>,
    unionid: Option<String>,
    /// `channel:order_id`.
    order: Option<String>,
}

/// The customers an identifier (normalized as at ingest) or an order
/// belongs to. An identifier refused as shared (a placeholder, a family
/// iPad) can belong to several; each is listed with whether it linked.
pub(crate) async fn lookup(
    State(state): State<AppState>,
    query: Result<Query<Lookup>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(lookup) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let given = [&lookup.phone, &lookup.email, &lookup.unionid, &lookup.order]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given != 1 {
        return Err(ApiError::bad_request(
            "give exactly one of phone, email, unionid or order (channel:order_id)",
        ));
    }
    let by_identifier = |kind: &str, value: String| {
        format!(
            "SELECT mcid, bool_or(used) AS linked, count(*) AS orders, max(ordered_at) AS last_seen \
             FROM order_identifiers WHERE kind = '{kind}' AND value = {value} \
             GROUP BY mcid ORDER BY last_seen DESC, mcid"
        )
    };
    let sql = if let Some(phone) = &lookup.phone {
        by_identifier("phone", format!("normalize_phone({})", literal(phone)))
    } else if let Some(email) = &lookup.email {
        by_identifier("email", format!("normalize_email({})", literal(email)))
    } else if let Some(unionid) = &lookup.unionid {
        by_identifier("unionid", literal(unionid.trim()))
    } else {
        let order = lookup.order.as_deref().unwrap_or_default();
        let (channel, order_id) = order.split_once(':').ok_or_else(|| {
            ApiError::bad_request(format!("order '{order}' is not channel:order_id"))
        })?;
        format!(
            "SELECT mcid, true AS linked, 1 AS orders, ordered_at AS last_seen FROM orders \
             WHERE channel = {} AND order_id = {}",
            literal(channel),
            literal(order_id)
        )
    };
    let mut customers = rows(&state, &sql).await?;
    for c in &mut customers {
        let href = format!(
            "/v1/customers/{}/lineage",
            c["mcid"].as_str().unwrap_or_default()
        );
        c["lineage"] = Value::String(href);
    }
    Ok(Json(json!({ "customers": customers })))
}
