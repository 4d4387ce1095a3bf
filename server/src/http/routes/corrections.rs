//! Corrections of identity (admins and support): split a customer, merge
//! customers, unlink or link an identifier, list and undo corrections.
//! Each is recorded, with who asked and why, before it is answered.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ordergraph_engine::identity::IdentityKind;
use ordergraph_engine::{Corrected, CorrectionNote, CorrectionRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::rows;
use super::{actor, blocking, done_status};
use crate::access::Caller;
use crate::{ApiError, AppState};

/// Why, kept with every correction.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Why {
    reason: String,
    ticket: Option<String>,
}

/// An order, as `{"channel": ..., "order_id": ...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderRef {
    channel: String,
    order_id: String,
}

/// An identifier, as `{"kind": "phone", "value": ..., "channel": ...}`
/// (the channel only for an account).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentifierRef {
    kind: String,
    value: String,
    channel: Option<String>,
}

impl IdentifierRef {
    fn parts(self) -> Result<(IdentityKind, String, Option<String>), ApiError> {
        let kind = IdentityKind::parse(&self.kind).ok_or_else(|| {
            ApiError::bad_request(format!(
                "kind '{}' is not one of phone, email, unionid, device, account",
                self.kind
            ))
        })?;
        Ok((kind, self.value, self.channel))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitBody {
    #[serde(default)]
    orders: Vec<OrderRef>,
    #[serde(default)]
    identifiers: Vec<IdentifierRef>,
    reason: String,
    ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeBody {
    mcids: Vec<String>,
    reason: String,
    ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentifierBody {
    kind: String,
    value: String,
    channel: Option<String>,
    reason: String,
    ticket: Option<String>,
}

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn body<T>(body: Body<T>, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request(format!("expected {expected}: {}", e.body_text())))
}

/// The note of a correction: who asks, as what, and why.
fn note(
    state: &AppState,
    caller: Option<&Caller>,
    reason: String,
    ticket: Option<String>,
) -> Result<CorrectionNote, ApiError> {
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "a reason is required: it is kept with the correction",
        ));
    }
    let (user, _, role) = actor(state, caller);
    Ok(CorrectionNote {
        actor: user,
        role: role.to_string(),
        reason,
        ticket: ticket.filter(|t| !t.trim().is_empty()),
    })
}

/// Runs a correction on a blocking thread (it fsyncs), and answers 201
/// when it is new, 200 when it was already in force.
async fn run(
    state: &AppState,
    work: impl FnOnce(&ordergraph_engine::Engine) -> ordergraph_engine::Result<Corrected>
    + Send
    + 'static,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let done = blocking(state, work).await?;
    Ok((
        done_status(done.already),
        Json(json!({
            "correction_id": done.correction_id,
            "already": done.already,
            "mcids": done.mcids,
        })),
    ))
}

/// Moves orders of a customer (given, or those carrying given
/// identifiers) to another customer.
pub(crate) async fn split(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(mcid): Path<String>,
    asked: Body<SplitBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let asked = body(
        asked,
        r#"{"orders": [{"channel": ..., "order_id": ...}], "identifiers": [{"kind": ..., "value": ...}], "reason": ...}"#,
    )?;
    let note = note(&state, caller.as_deref(), asked.reason, asked.ticket)?;
    let identifiers = asked
        .identifiers
        .into_iter()
        .map(IdentifierRef::parts)
        .collect::<Result<Vec<_>, _>>()?;
    let request = CorrectionRequest::Split {
        mcid,
        orders: asked
            .orders
            .into_iter()
            .map(|o| (o.channel, o.order_id))
            .collect(),
        identifiers,
    };
    run(&state, move |e| e.correct(request, note)).await
}

/// Makes customers one.
pub(crate) async fn merge(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    asked: Body<MergeBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let asked = body(asked, r#"{"mcids": [...], "reason": ...}"#)?;
    let note = note(&state, caller.as_deref(), asked.reason, asked.ticket)?;
    let request = CorrectionRequest::Merge { mcids: asked.mcids };
    run(&state, move |e| e.correct(request, note)).await
}

async fn identifier(
    state: AppState,
    caller: Option<axum::Extension<Caller>>,
    asked: Body<IdentifierBody>,
    unlink: bool,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let asked = body(asked, r#"{"kind": ..., "value": ..., "reason": ...}"#)?;
    let note = note(&state, caller.as_deref(), asked.reason, asked.ticket)?;
    let (kind, value, channel) = IdentifierRef {
        kind: asked.kind,
        value: asked.value,
        channel: asked.channel,
    }
    .parts()?;
    let request = if unlink {
        CorrectionRequest::Unlink {
            kind,
            value,
            channel,
        }
    } else {
        CorrectionRequest::Link {
            kind,
            value,
            channel,
        }
    };
    run(&state, move |e| e.correct(request, note)).await
}

/// An identifier that must never link anyone.
pub(crate) async fn unlink(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    asked: Body<IdentifierBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    identifier(state, caller, asked, true).await
}

/// An identifier that is one person's, however many others it is seen with.
pub(crate) async fn link(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    asked: Body<IdentifierBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    identifier(state, caller, asked, false).await
}

/// Every correction, oldest first, with the undo that took it back if any.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let corrections = rows(
        &state,
        "SELECT c.correction_id, CAST(c.action AS VARCHAR) AS action, c.mcid, c.orders, c.kept, \
                c.kind, c.value, c.reason, c.ticket, c.actor, c.role, \
                c.arrived_at AS at, u.correction_id AS undone_by, u.arrived_at AS undone_at \
         FROM identity_corrections c \
         LEFT JOIN identity_corrections u \
           ON CAST(u.action AS VARCHAR) = 'undo' AND u.undoes = c.correction_id \
         WHERE CAST(c.action AS VARCHAR) <> 'undo' \
         ORDER BY c.correction_id",
    )
    .await?;
    Ok(Json(json!({ "corrections": corrections })))
}

/// Takes a correction back.
pub(crate) async fn undo(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(id): Path<String>,
    asked: Body<Why>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no correction {id}")))?;
    let asked = body(asked, r#"{"reason": ...}"#)?;
    let note = note(&state, caller.as_deref(), asked.reason, asked.ticket)?;
    run(&state, move |e| e.undo_correction(id, note)).await
}
