//! Alerts: what is evaluated and firing, and silences (admins only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::rows;
use super::{actor, literal};
use crate::access::Caller;
use crate::{ApiError, AppState};

/// Every alert: its interval, last evaluation, and the keys firing.
pub(crate) async fn list(State(state): State<AppState>) -> Json<Value> {
    let Some(alerts) = &state.alerts else {
        return Json(json!({"enabled": false, "alerts": []}));
    };
    let list: Vec<Value> = alerts
        .list()
        .into_iter()
        .map(|(alert, every, status)| {
            json!({
                "name": alert.name,
                "description": alert.description,
                "every_seconds": every.as_secs(),
                "send_resolved": alert.send_resolved,
                "last_run_at": status.last_run_at,
                "last_run_ms": status.last_run_ms,
                "last_error": status.last_error,
                "firing": status.firing,
            })
        })
        .collect();
    Json(json!({"enabled": true, "alerts": list}))
}

/// A silence asked for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSilence {
    /// The alert silenced; absent: every alert.
    alert: Option<String>,
    /// The key silenced (`prefix*` for every key starting so); absent:
    /// every key.
    alert_key: Option<String>,
    /// How long: `30m`, `4h`, `2d`.
    duration: String,
    /// Why: kept in the audit log.
    reason: String,
}

/// The latest row of each silence, with whether it is in force.
const SILENCES: &str = "SELECT silence_id, alert, alert_key, ends_at, ends_at > now() AS active, \
     reason, actor, role, arrived_at AS recorded_at \
     FROM (SELECT *, row_number() OVER (PARTITION BY silence_id ORDER BY arrived_at DESC) AS recency \
           FROM alert_silences) \
     WHERE recency = 1";

/// Every silence, newest first.
pub(crate) async fn silences(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let list = rows(
        &state,
        &format!("{SILENCES} ORDER BY recorded_at DESC, silence_id"),
    )
    .await?;
    Ok(Json(json!({"silences": list})))
}

/// Silences an alert, a key or a key prefix until `duration` from now.
/// 201 with the silence.
pub(crate) async fn silence(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    body: Result<Json<NewSilence>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(asked) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"alert\", \"alert_key\", \"duration\": \"4h\", \"reason\"}}: {}",
            e.body_text()
        ))
    })?;
    let duration = ordergraph_queries::alerts::parse_duration(&asked.duration)
        .map_err(|e| ApiError::bad_request(format!("duration: {e}")))?;
    let reason = asked.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "a reason is required: it goes into the audit log",
        ));
    }
    if let Some(name) = &asked.alert {
        let known = state.alerts.as_ref().is_none_or(|a| a.knows(name));
        if !known {
            return Err(ApiError::bad_request(format!("no alert named '{name}'")));
        }
    }
    let (user, _, role) = actor(&state, caller.as_deref());
    let now = chrono::Utc::now();
    let ends_at = now
        + chrono::Duration::from_std(duration)
            .map_err(|_| ApiError::bad_request("duration: too long"))?;
    let seed = format!(
        "{user}\u{0}{:?}\u{0}{:?}\u{0}{}",
        asked.alert,
        asked.alert_key,
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let row = json!({
        "silence_id": format!("SL{:016X}", xxhash_rust::xxh3::xxh3_64(seed.as_bytes())),
        "alert": asked.alert,
        "alert_key": asked.alert_key,
        "ends_at": ends_at.to_rfc3339(),
        "reason": reason,
        "actor": user,
        "role": role,
    });
    crate::record(&state.engine, "alert_silences", std::slice::from_ref(&row)).await?;
    Ok((StatusCode::CREATED, Json(json!({"silence": row}))).into_response())
}

/// Ends a silence now.
pub(crate) async fn end_silence(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(silence_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = rows(
        &state,
        &format!("{SILENCES} AND silence_id = {}", literal(&silence_id)),
    )
    .await?;
    let Some(silence) = found.into_iter().next() else {
        return Err(ApiError::not_found(format!("no silence {silence_id}")));
    };
    let (user, _, role) = actor(&state, caller.as_deref());
    let row = json!({
        "silence_id": silence_id,
        "alert": silence["alert"],
        "alert_key": silence["alert_key"],
        "ends_at": chrono::Utc::now().to_rfc3339(),
        "reason": silence["reason"],
        "actor": user,
        "role": role,
    });
    crate::record(&state.engine, "alert_silences", std::slice::from_ref(&row)).await?;
    Ok(Json(json!({"silence": row})))
}
