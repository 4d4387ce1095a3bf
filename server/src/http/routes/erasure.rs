//! Erasure of a customer's personal information on their request
//! (admins only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ordergraph_engine::CorrectionNote;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{actor, blocking, done_status};
use crate::access::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EraseBody {
    reason: String,
    request_id: String,
}

/// Erases a customer's personal information; answers 201 when done now,
/// 200 when it was erased before.
pub(crate) async fn erase(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(mcid): Path<String>,
    asked: Result<Json<EraseBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(asked) = asked.map_err(|e| {
        ApiError::bad_request(format!(
            r#"expected {{"reason": ..., "request_id": ...}}: {}"#,
            e.body_text()
        ))
    })?;
    let (reason, request_id) = (asked.reason.trim(), asked.request_id.trim());
    if reason.is_empty() || request_id.is_empty() {
        return Err(ApiError::bad_request(
            "a reason and the request's id are required: they are kept with the erasure",
        ));
    }
    let (user, _, role) = actor(&state, caller.as_deref());
    let note = CorrectionNote {
        actor: user,
        role: role.to_string(),
        reason: reason.to_string(),
        ticket: None,
    };
    let request_id = request_id.to_string();
    let done = blocking(&state, move |e| e.erase(&mcid, &request_id, note)).await?;
    Ok((
        done_status(done.already),
        Json(json!({"mcid": done.mcid, "already": done.already, "orders": done.orders})),
    ))
}
