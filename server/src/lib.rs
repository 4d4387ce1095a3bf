//! The ordergraph HTTP API: SQL over HTTP, ingest, health. Handlers
//! extract, make one engine call, and encode; the engine does the work.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use ordergraph_engine::Engine;

pub mod encode;
mod error;
mod routes;

pub use error::ApiError;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine behind the API.
    pub engine: Arc<Engine>,
    /// Largest accepted request body, in bytes.
    pub max_body: usize,
    /// Longest a query may run.
    pub query_timeout: Duration,
}

impl AppState {
    /// State with default limits: 256 MiB bodies, 5-minute queries.
    pub fn new(engine: Arc<Engine>) -> Self {
        Self {
            engine,
            max_body: 256 << 20,
            query_timeout: Duration::from_secs(300),
        }
    }
}

/// The API's routes.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/v1/sql", post(routes::sql::sql))
        .route("/v1/ingest/{table}", post(routes::ingest::ingest))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
