//! What operators and their tools read: `GET /healthz` (liveness and
//! sizes), `GET /readyz` (whether to send traffic), `GET /metrics`
//! (Prometheus) and `GET /v1/version`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;

/// Liveness, with the sizes an operator glances at: orders, customers,
/// and each maintained view's rows, memory and refreshes.
pub(crate) async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "orders": state.engine.order_count(),
        "customers": state.engine.customer_count(),
        "maintained_views": state.engine.maintained_views(),
    }))
}

/// 200 once the server takes traffic at full speed: the data is loaded
/// (the engine opened), the listeners are up (this one answers, and it
/// starts after the others are bound) and every maintained view has been
/// built once (or released, see `[limits] maintained_memory_mib`), so no
/// query waits for a first build; else 503, naming
/// the views still building.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let building: Vec<String> = state
        .engine
        .maintained_views()
        .into_iter()
        .filter(|v| v.view && v.rows.is_none() && !v.released)
        .map(|v| v.name)
        .collect();
    if building.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
    } else {
        let body = json!({ "status": "starting", "building": building });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// Every series in Prometheus' text format (see [`crate::metrics`]).
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let body = crate::metrics::render(&state.engine);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The build: version and the rules version of identity resolution.
pub(crate) async fn version() -> Json<Value> {
    Json(json!({
        "name": "ordergraph",
        "version": env!("CARGO_PKG_VERSION"),
        "identity_rules_version": ordergraph_engine::identity::RULES_VERSION,
    }))
}
