//! Actions that change what other systems show, each recorded durably with
//! who took it (the `audit_log` view reads them):
//!
//! - MCID write-back: `GET /v1/writeback` pages through the outbox view
//!   `mcid_writeback`; `POST /v1/writeback/ack` records what a connector
//!   wrote into the platforms' order notes (`MCID:<mcid>`).
//! - Force-sync: `POST /v1/orders/{channel}/{order_id}/force-sync` records
//!   "make every system show status X" in `sync_commands` (the rules of
//!   what one may ask are [`crate::force_sync`]'s);
//!   `GET /v1/sync-commands` is the connectors' outbox (`sync_command_status`)
//!   and `POST /v1/sync-commands/{id}/ack` their answer per system.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ordergraph_engine::table::{SYNC_OUTCOMES, SYSTEMS};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::rows;
use super::{actor, literal};
use crate::access::Caller;
use crate::encode::{Encoding, encode};
use crate::force_sync::{self, ForceSync};
use crate::{ApiError, AppState};

/// Acknowledgements one request may carry.
const MAX_ACKS: usize = 100_000;

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// The columns of a sync command that a repeated `request_id` must repeat.
const COMMAND_FIELDS: [&str; 9] = [
    "command_id",
    "channel",
    "order_id",
    "status",
    "tracking_no",
    "wms_outbound_id",
    "crm_delivery_node",
    "waived",
    "reason",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutboxPage {
    /// Only this channel's orders (a connector serves one platform).
    channel: Option<String>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A page of the write-back outbox, ordered by `(channel, order_id)`, as
/// JSON, CSV or Arrow by `Accept`; the next page's cursor is in
/// `X-Next-Cursor`.
pub(crate) async fn writeback_outbox(
    State(state): State<AppState>,
    page: Result<Query<OutboxPage>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let encoding =
        Encoding::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))?;
    let limit = super::segments::page_limit(page.limit)?;
    let after = page
        .cursor
        .as_deref()
        .map(|cursor| {
            cursor.split_once(':').ok_or_else(|| {
                ApiError::bad_request(format!("cursor '{cursor}' is not one this API gave out"))
            })
        })
        .transpose()?;
    // One row more than the page tells whether there is a next page.
    let sql = crate::exports::writeback_sql(page.channel.as_deref(), after, Some(limit + 1));
    let (schema, batches) = super::sql::collect(&state, &sql, None).await?;
    let all = datafusion::arrow::compute::concat_batches(&schema, &batches)
        .map_err(ApiError::internal)?;
    let next = (all.num_rows() > limit).then(|| {
        let text = |i: usize| {
            datafusion::arrow::array::AsArray::as_string::<i32>(all.column(i))
                .value(limit - 1)
                .to_string()
        };
        format!("{}:{}", text(0), text(1))
    });
    let page_rows = all.slice(0, all.num_rows().min(limit));
    let body = encode(encoding, &schema, &[page_rows]).map_err(ApiError::internal)?;
    let mut response = ([(header::CONTENT_TYPE, encoding.content_type())], body).into_response();
    if let Some(next) = next
        && let Ok(v) = HeaderValue::from_str(&next)
    {
        response.headers_mut().insert("x-next-cursor", v);
    }
    Ok(response)
}

/// One order's MCID as a connector wrote it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WritebackAck {
    channel: String,
    order_id: String,
    mcid: String,
}

/// Records acknowledgements of MCID write-back: a JSON array of
/// `{channel, order_id, mcid}`. Idempotent: an acknowledgement sent again
/// changes nothing. Unknown orders refuse the whole request (422, with
/// their positions); an acknowledgement of an MCID that is no longer the
/// order's is recorded (it is what the note says) and listed as `stale`:
/// the order stays in the outbox.
pub(crate) async fn writeback_ack(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    body: Result<Json<Vec<WritebackAck>>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(acks) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "expected a JSON array of {{\"channel\", \"order_id\", \"mcid\"}}: {}",
            e.body_text()
        ))
    })?;
    if acks.len() > MAX_ACKS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_ACKS} acknowledgements per request"
        )));
    }
    let (user, _, role) = actor(&state, caller.as_deref());
    let mut unknown = Vec::new();
    let mut stale = Vec::new();
    let mut records = Vec::with_capacity(acks.len());
    for (i, ack) in acks.iter().enumerate() {
        let Some(mcid) = ordergraph_engine::udfs::parse_mcid(&ack.mcid) else {
            return Err(unprocessable(
                "bad_mcid",
                format!("acknowledgement {i}: '{}' is not an MCID", ack.mcid),
            ));
        };
        let written = ordergraph_engine::udfs::mcid_of(mcid);
        match state.engine.order_mcid(&ack.channel, &ack.order_id) {
            None => {
                unknown.push(json!({"index": i, "channel": ack.channel, "order_id": ack.order_id}))
            }
            Some(current) => {
                if current != written {
                    stale.push(json!({"channel": ack.channel, "order_id": ack.order_id, "written": written, "current": current}));
                }
                records.push(json!({
                    "channel": ack.channel,
                    "order_id": ack.order_id,
                    "mcid": written,
                    "actor": user,
                    "role": role,
                }));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(unprocessable(
            "unknown_orders",
            format!(
                "{} acknowledgement(s) name orders that do not exist; nothing was recorded",
                unknown.len()
            ),
        )
        .with_detail(json!({ "unknown": unknown })));
    }
    let recorded = crate::record(&state.engine, "writeback_acks", &records).await?;
    Ok(Json(json!({
        "acknowledged": acks.len(),
        "recorded": recorded,
        "repeated": acks.len() - recorded,
        "stale": stale,
    })))
}

/// Records a command making every system show one status for an order.
/// 201 with the command; 200 with the existing one for a repeated
/// `request_id`; 422 when `shipped` lacks evidence that is not waived.
pub(crate) async fn force_sync(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path((channel, order_id)): Path<(String, String)>,
    body: Result<Json<ForceSync>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(command) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"status\", \"reason\", \"tracking_no\", \"wms_outbound_id\", \"crm_delivery_node\", \"waive\": [...], \"request_id\"}}: {}",
            e.body_text()
        ))
    })?;
    let (user, role, role_name) = actor(&state, caller.as_deref());
    command.check(role).map_err(|refused| match refused {
        force_sync::Refused::Invalid(message) => ApiError::bad_request(message),
        force_sync::Refused::MayNotWaive(_) => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", refused.to_string())
        }
    })?;
    if state.engine.order_mcid(&channel, &order_id).is_none() {
        return Err(ApiError::not_found(format!(
            "no order {channel}:{order_id}"
        )));
    }
    if ["shipped", "signed"].contains(&command.status.as_str()) {
        let holds = super::holds::blocking(&state, &channel, &order_id).await?;
        if !holds.is_empty() {
            let refused = unprocessable(
                "order_held",
                format!(
                    "{channel}:{order_id} is held for fraud review ({}); release it (POST /v1/holds/{channel}/{order_id}/release) before it ships",
                    holds
                        .iter()
                        .map(|h| format!(
                            "{}: {}",
                            h["rule"].as_str().unwrap_or_default(),
                            h["state"].as_str().unwrap_or_default()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return Err(refused.with_detail(json!({ "holds": holds })));
        }
    }
    let missing = command.missing_evidence();
    if !missing.is_empty() {
        tracing::warn!(actor = %user, order = %format!("{channel}:{order_id}"), ?missing, "force-sync to shipped refused: evidence missing");
        return Err(unprocessable(
            "shipping_evidence_missing",
            format!(
                "marking {channel}:{order_id} shipped needs {} (or an admin's explicit \"waive\")",
                missing.join(", ")
            ),
        ));
    }
    let command_id = command.command_id(&user, &channel, &order_id);
    let evidence = command.evidence();
    let waived = command.waived();
    let row = json!({
        "command_id": command_id,
        "channel": channel,
        "order_id": order_id,
        "status": command.status,
        "tracking_no": evidence[0],
        "wms_outbound_id": evidence[1],
        "crm_delivery_node": evidence[2],
        "waived": (!waived.is_empty()).then(|| waived.join(",")),
        "reason": command.reason(),
        "actor": user,
        "role": role_name,
    });
    if let Some(request_id) = &command.request_id {
        let existing = rows(
            &state,
            &format!(
                "SELECT {}, arrived_at AS requested_at FROM sync_commands WHERE command_id = {}",
                COMMAND_FIELDS.join(", "),
                literal(&command_id)
            ),
        )
        .await?;
        if let Some(existing) = existing.into_iter().next() {
            // A retry repeats the request exactly; the same key on another
            // order or with another body is a second request that would
            // otherwise be dropped without a word.
            if COMMAND_FIELDS.iter().any(|f| existing[*f] != row[*f]) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    format!(
                        "request_id '{request_id}' already made command {command_id} for {}:{} with another body; use a new request_id",
                        existing["channel"].as_str().unwrap_or_default(),
                        existing["order_id"].as_str().unwrap_or_default()
                    ),
                ));
            }
            return Ok((
                StatusCode::OK,
                Json(json!({"command": existing, "repeated": true})),
            )
                .into_response());
        }
    }
    crate::record(&state.engine, "sync_commands", std::slice::from_ref(&row)).await?;
    let mut location = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/sync-commands?command_id={command_id}")) {
        location.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        location,
        Json(json!({"command": row, "repeated": false})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommandFilter {
    /// Only this system's part (`platform`, `erp`, `wms`, `crm`).
    system: Option<String>,
    /// One command, whatever its state.
    command_id: Option<String>,
}

/// The connectors' outbox: each command's part on each system that is not
/// applied yet (pending or failed), oldest first; or one command's parts.
pub(crate) async fn sync_commands(
    State(state): State<AppState>,
    filter: Result<Query<CommandFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut conditions = Vec::new();
    match &filter.command_id {
        Some(id) => conditions.push(format!("command_id = {}", literal(id))),
        None => conditions.push("state <> 'applied'".to_string()),
    }
    if let Some(system) = &filter.system {
        if !SYSTEMS.contains(&system.as_str()) {
            return Err(ApiError::bad_request(format!(
                "system '{system}' is not one of {}",
                SYSTEMS.join(", ")
            )));
        }
        conditions.push(format!("system = {}", literal(system)));
    }
    let commands = rows(
        &state,
        &format!(
            "SELECT * FROM sync_command_status WHERE {} ORDER BY requested_at, command_id, system",
            conditions.join(" AND ")
        ),
    )
    .await?;
    // The WMS must not ship what a fraud rule holds: its connector reads the
    // holds beside the commands.
    let holds = if filter.system.as_deref().is_none_or(|s| s == "wms") {
        rows(
            &state,
            "SELECT channel, order_id, rule, state, held_at FROM order_holds \
             WHERE state <> 'released' ORDER BY held_at, channel, order_id, rule",
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(Json(json!({ "commands": commands, "holds": holds })))
}

/// A connector's answer to one command on one system.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncAck {
    system: String,
    /// `applied` or `failed`.
    outcome: String,
    detail: Option<String>,
}

/// Records a connector's answer to a sync command on one system;
/// idempotent like every acknowledgement.
pub(crate) async fn sync_ack(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(command_id): Path<String>,
    body: Result<Json<SyncAck>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(ack) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"system\", \"outcome\": \"applied\" | \"failed\", \"detail\"}}: {}",
            e.body_text()
        ))
    })?;
    if !SYSTEMS.contains(&ack.system.as_str()) {
        return Err(ApiError::bad_request(format!(
            "system '{}' is not one of {}",
            ack.system,
            SYSTEMS.join(", ")
        )));
    }
    if !SYNC_OUTCOMES.contains(&ack.outcome.as_str()) {
        return Err(ApiError::bad_request(format!(
            "outcome '{}' is not one of {}",
            ack.outcome,
            SYNC_OUTCOMES.join(", ")
        )));
    }
    let known = rows(
        &state,
        &format!(
            "SELECT 1 AS known FROM sync_commands WHERE command_id = {}",
            literal(&command_id)
        ),
    )
    .await?;
    if known.is_empty() {
        return Err(ApiError::not_found(format!("no sync command {command_id}")));
    }
    let (user, _, role) = actor(&state, caller.as_deref());
    let row = json!({
        "command_id": command_id,
        "system": ack.system,
        "outcome": ack.outcome,
        "detail": ack.detail,
        "actor": user,
        "role": role,
    });
    let recorded = crate::record(&state.engine, "sync_acks", std::slice::from_ref(&row)).await?;
    Ok(Json(json!({"ack": row, "repeated": recorded == 0})))
}
