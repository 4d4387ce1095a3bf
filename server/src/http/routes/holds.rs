//! The review queue of held orders, and its decisions (admins and
//! support).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::rows;
use super::{actor, literal};
use crate::access::Caller;
use crate::{ApiError, AppState};

/// The states a hold may be listed by.
const STATES: [&str; 4] = ["held", "released", "confirmed", "all"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldFilter {
    /// `held` (the default: the queue), `released`, `confirmed` or `all`.
    state: Option<String>,
}

/// Records holds placed since the last look, so the queue a reviewer sees
/// is durable.
async fn record_new(state: &AppState) -> Result<(), ApiError> {
    crate::holds::record_new(&state.engine)
        .await
        .map(|_| ())
        .map_err(ApiError::internal)
}

/// The holds in one state, oldest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    filter: Result<Query<HoldFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let wanted = filter.state.as_deref().unwrap_or("held");
    if !STATES.contains(&wanted) {
        return Err(ApiError::bad_request(format!(
            "state '{wanted}' is not one of {}",
            STATES.join(", ")
        )));
    }
    record_new(&state).await?;
    let condition = if wanted == "all" {
        "TRUE".to_string()
    } else {
        format!("state = {}", literal(wanted))
    };
    let holds = rows(
        &state,
        &format!(
            "SELECT * FROM order_holds WHERE {condition} ORDER BY held_at, channel, order_id, rule"
        ),
    )
    .await?;
    Ok(Json(json!({ "holds": holds })))
}

/// A reviewer's decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decision {
    /// Why: kept in the audit log.
    note: String,
}

/// The holds of one order that are not released: what stops it shipping.
pub(crate) async fn blocking(
    state: &AppState,
    channel: &str,
    order_id: &str,
) -> Result<Vec<Value>, ApiError> {
    rows(
        state,
        &format!(
            "SELECT rule, state, detail FROM order_holds \
             WHERE channel = {} AND order_id = {} AND state <> 'released' ORDER BY rule",
            literal(channel),
            literal(order_id)
        ),
    )
    .await
}

async fn decide(
    state: AppState,
    caller: Option<axum::Extension<Caller>>,
    channel: String,
    order_id: String,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
    decision: &'static str,
) -> Result<Json<Value>, ApiError> {
    let Json(asked) = body.map_err(|e| {
        ApiError::bad_request(format!("expected {{\"note\": \"...\"}}: {}", e.body_text()))
    })?;
    let note = asked.note.trim();
    if note.is_empty() {
        return Err(ApiError::bad_request(
            "a note is required: it goes into the audit log",
        ));
    }
    record_new(&state).await?;
    let order = format!(
        "channel = {} AND order_id = {}",
        literal(&channel),
        literal(&order_id)
    );
    let holds = rows(
        &state,
        &format!("SELECT state FROM order_holds WHERE {order}"),
    )
    .await?;
    if holds.is_empty() {
        return Err(ApiError::not_found(format!(
            "no hold on order {channel}:{order_id}"
        )));
    }
    let (user, _, role) = actor(&state, caller.as_deref());
    let row = json!({
        "channel": channel,
        "order_id": order_id,
        "decision": decision,
        "note": note,
        "actor": user,
        "role": role,
    });
    crate::record(&state.engine, "hold_decisions", std::slice::from_ref(&row)).await?;
    let holds = rows(
        &state,
        &format!("SELECT * FROM order_holds WHERE {order} ORDER BY rule"),
    )
    .await?;
    Ok(Json(json!({ "decision": row, "holds": holds })))
}

/// Releases a held order: it may ship.
pub(crate) async fn release(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path((channel, order_id)): Path<(String, String)>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, channel, order_id, body, "release").await
}

/// Confirms a held order as fraud: it never ships.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path((channel, order_id)): Path<(String, String)>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, channel, order_id, body, "confirm").await
}
