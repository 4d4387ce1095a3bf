//! `GET /healthz`.

use axum::Json;
use axum::extract::State;
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
