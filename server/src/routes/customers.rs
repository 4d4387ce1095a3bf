//! `GET /v1/customers/{mcid}/lineage` and `GET /v1/customers?phone=...`:
//! what support needs to answer "what has this person bought from us,
//! anywhere" in one look.
//!
//! The lineage is the customer–order graph around one MCID: the summary,
//! every identifier with the evidence that linked or refused it, every
//! order across channels with its items, refunds and their lifecycle
//! nodes, status drift, risk flags and snapshots, and the MCIDs merged
//! into it. A retired MCID answers with the one that absorbed it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::encode::{Encoding, encode};
use crate::{ApiError, AppState};

/// Hops followed through `mcid_aliases` before giving up (a merge chain
/// is short; a cycle would be a bug, not a reason to loop).
const MAX_ALIAS_HOPS: usize = 16;

fn not_found(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// An MCID as typed by a person: letters and digits only (so it can be
/// quoted into SQL), upper-cased.
fn clean_mcid(text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    if t.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad_request(format!("'{text}' is not an MCID")));
    }
    Ok(t.to_ascii_uppercase())
}

/// A SQL string literal.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rows of a query as JSON objects, with contacts masked if `restricted`.
async fn rows_as(state: &AppState, sql: &str, restricted: bool) -> Result<Vec<Value>, ApiError> {
    let (schema, batches) = super::sql::collect_as(state, sql, None, restricted).await?;
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

/// The live MCID for `mcid`: itself, or where merges took it.
async fn surviving(state: &AppState, mcid: &str) -> Result<Option<String>, ApiError> {
    let mut current = mcid.to_string();
    for _ in 0..MAX_ALIAS_HOPS {
        let live = rows(
            state,
            &format!(
                "SELECT 1 AS live FROM customers WHERE mcid = {}",
                literal(&current)
            ),
        )
        .await?;
        if !live.is_empty() {
            return Ok(Some(current));
        }
        let moved = rows(
            state,
            &format!(
                "SELECT new_mcid FROM mcid_aliases WHERE old_mcid = {} ORDER BY at DESC LIMIT 1",
                literal(&current)
            ),
        )
        .await?;
        match moved.first().and_then(|r| r["new_mcid"].as_str()) {
            Some(next) => current = next.to_string(),
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// `(channel, order_id)` of a row, as a map key.
fn order_key(row: &Value) -> (String, String) {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    (text("channel"), text("order_id"))
}

/// Groups rows by their order, dropping the key columns.
fn by_order(rows: Vec<Value>) -> BTreeMap<(String, String), Vec<Value>> {
    let mut grouped: BTreeMap<_, Vec<Value>> = BTreeMap::new();
    for mut row in rows {
        let key = order_key(&row);
        if let Value::Object(fields) = &mut row {
            fields.remove("channel");
            fields.remove("order_id");
        }
        grouped.entry(key).or_default().push(row);
    }
    grouped
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
) -> Result<Json<Value>, ApiError> {
    let Query(options) = options.map_err(|e| bad_request(e.body_text()))?;
    let restricted = masked(caller.as_deref(), &options);
    Ok(Json(lineage_of(&state, &requested, restricted).await?))
}

/// The lineage as a PDF for a support agent to send (see [`crate::lineage_pdf`]).
pub(crate) async fn lineage_pdf(
    State(state): State<AppState>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Path(requested): Path<String>,
    options: Result<Query<LineageOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Query(options) = options.map_err(|e| bad_request(e.body_text()))?;
    let restricted = masked(caller.as_deref(), &options);
    let lineage = lineage_of(&state, &requested, restricted).await?;
    let mcid = lineage["mcid"].as_str().unwrap_or_default().to_string();
    let now = chrono::Utc::now();
    let pdf = tokio::task::spawn_blocking(move || crate::lineage_pdf::render(&lineage, now))
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

/// The lineage of `requested` (or of the MCID it was merged into).
async fn lineage_of(
    state: &AppState,
    requested: &str,
    restricted: bool,
) -> Result<Value, ApiError> {
    let requested = clean_mcid(requested)?;
    let mcid = surviving(state, &requested)
        .await?
        .ok_or_else(|| not_found(format!("no customer {requested}")))?;
    let m = literal(&mcid);

    let summary = rows(state, &format!("SELECT * FROM customers WHERE mcid = {m}")).await?;
    let identifiers = rows_as(
        state,
        &format!(
            "SELECT kind, value, decision, rule, detail, first_seen, last_seen, orders, order_keys \
             FROM identity_evidence WHERE mcid = {m} ORDER BY kind, value"
        ),
        restricted,
    )
    .await?;
    let merged = rows(
        state,
        &format!(
            "SELECT old_mcid, at, reason FROM mcid_aliases WHERE new_mcid = {m} ORDER BY at, old_mcid"
        ),
    )
    .await?;
    let orders = rows_as(
        state,
        &format!(
            "SELECT channel, order_id, ordered_at, account_id, amount, status, coupon, ship_city, \
             ship_address FROM orders WHERE mcid = {m} ORDER BY ordered_at, channel, order_id"
        ),
        restricted,
    )
    .await?;
    // The customer's order keys as literals: a filter on the grouping
    // keys of a view reaches below its aggregates, where a join with the
    // customer's orders would make it compute every order first.
    // `order_id IN (...)` is what reaches below (one hashed list, where a
    // disjunction per order is slow to plan for a heavy buyer); the
    // second list makes it exact, as order ids repeat across channels.
    let mine = if orders.is_empty() {
        "FALSE".to_string()
    } else {
        let keys: Vec<(String, String)> = orders.iter().map(order_key).collect();
        let mut ids: Vec<String> = keys.iter().map(|(_, id)| literal(id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let pairs: Vec<String> = keys
            .iter()
            .map(|(channel, id)| literal(&format!("{channel}\u{1f}{id}")))
            .collect();
        format!(
            "x.order_id IN ({}) AND concat(x.channel, chr(31), x.order_id) IN ({})",
            ids.join(", "),
            pairs.join(", ")
        )
    };
    let per_order = |select: &str, from: &str, order: &str| {
        format!("SELECT x.channel, x.order_id, {select} FROM {from} WHERE {mine} ORDER BY {order}")
    };
    let mut items = by_order(
        rows(
            state,
            &per_order(
                "x.sku, p.name, p.category, x.qty, x.unit_price",
                "order_lines x LEFT JOIN product_catalog p ON p.sku = x.sku",
                "x.sku",
            ),
        )
        .await?,
    );
    let refund_rows = rows(
        state,
        &per_order(
            "x.refund_id, x.requested_at, x.amount, x.reason, x.cross_border",
            "refund_requests x",
            "x.requested_at, x.refund_id",
        ),
    )
    .await?;
    let mut nodes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for mut node in rows(
        state,
        &format!(
            "SELECT n.refund_id, n.node, n.position, n.entered_at, n.left_at, n.dwell_hours, \
             n.open, n.outcome, n.note, n.decided_by, n.rejections, n.escalations \
             FROM refund_node_dwell n JOIN refund_requests x ON x.refund_id = n.refund_id \
             WHERE {mine} ORDER BY n.refund_id, n.position"
        ),
    )
    .await?
    {
        let id = node["refund_id"].as_str().unwrap_or_default().to_string();
        if let Value::Object(fields) = &mut node {
            fields.remove("refund_id");
        }
        nodes.entry(id).or_default().push(node);
    }
    let mut refunds = by_order(
        refund_rows
            .into_iter()
            .map(|mut r| {
                let id = r["refund_id"].as_str().unwrap_or_default().to_string();
                r["nodes"] = Value::Array(nodes.remove(&id).unwrap_or_default());
                r
            })
            .collect(),
    );
    let mut drift = by_order(
        rows(
            state,
            &per_order(
                "x.consistent, x.max_skew_seconds, x.drift, x.platform_status, x.erp_status, \
                 x.wms_status, x.crm_status",
                "status_consistency x",
                "x.channel, x.order_id",
            ),
        )
        .await?,
    );
    // Sorted here: DataFusion 55.2 fails to plan this join of order_risk
    // (a UNION) under an ORDER BY ("does not satisfy order requirements").
    let mut risk_rows = rows(
        state,
        &format!(
            "SELECT x.channel, x.order_id, x.rule, x.detail, x.held FROM order_risk x WHERE {mine}"
        ),
    )
    .await?;
    risk_rows.sort_by(|a, b| a["rule"].as_str().cmp(&b["rule"].as_str()));
    let mut risk = by_order(risk_rows);
    let mut snapshots = by_order(
        rows(
            state,
            &per_order(
                "x.stage, x.version, x.status, x.amount, x.coupon, x.arrived_at, x.amount_change, \
                 x.coupon_changed",
                "order_snapshots x",
                "x.stage_order",
            ),
        )
        .await?,
    );

    let orders: Vec<Value> = orders
        .into_iter()
        .map(|mut order| {
            let key = order_key(&order);
            order["items"] = Value::Array(items.remove(&key).unwrap_or_default());
            order["refunds"] = Value::Array(refunds.remove(&key).unwrap_or_default());
            order["status_sync"] = drift
                .remove(&key)
                .and_then(|mut v| v.pop())
                .unwrap_or(Value::Null);
            order["risk"] = Value::Array(risk.remove(&key).unwrap_or_default());
            order["snapshots"] = Value::Array(snapshots.remove(&key).unwrap_or_default());
            order
        })
        .collect();
    Ok(json!({
        "mcid": mcid,
        "requested_mcid": requested,
        "retired": requested != mcid,
        "masked": restricted,
        "summary": summary.into_iter().next().unwrap_or(Value::Null),
        "identifiers": identifiers,
        "merged_mcids": merged,
        "orders": orders,
    }))
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
    let Query(lookup) = query.map_err(|e| bad_request(e.body_text()))?;
    let given = [&lookup.phone, &lookup.email, &lookup.unionid, &lookup.order]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given != 1 {
        return Err(bad_request(
            "give exactly one of phone, email, unionid or order (channel:order_id)".into(),
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
        let (channel, order_id) = order
            .split_once(':')
            .ok_or_else(|| bad_request(format!("order '{order}' is not channel:order_id")))?;
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
