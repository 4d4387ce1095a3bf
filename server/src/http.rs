//! The HTTP API: SQL over HTTP, ingest, customers and their lineage,
//! segments, write-back and sync commands. Handlers extract, make one
//! engine call, and encode; the engine does the work.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use ordergraph_engine::Engine;
use tokio::sync::Semaphore;

use crate::{access, console};

pub mod encode;
mod error;
mod middleware;
pub(crate) mod routes;

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
    /// One permit per ingest request being received or applied.
    pub ingest_slots: Arc<Semaphore>,
    /// Who may call what; `None` admits every request (tests, embedding).
    pub logins: Option<Arc<access::Logins>>,
    /// The alerts evaluated, if any.
    pub alerts: Option<Arc<crate::alerts::Alerts>>,
    /// The console's logged-in browsers.
    pub sessions: Arc<crate::console::Sessions>,
    /// Where `POST /v1/export` writes the open tables, if anywhere.
    pub exporter: Option<Arc<crate::open_tables::Exporter>>,
    /// The cluster `X-Ordergraph-Engine: cluster` sends queries to, if any.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl AppState {
    /// State with the limits of the engine's configuration (`[limits]`).
    pub fn new(engine: Arc<Engine>) -> Self {
        let limits = engine.config().limits.clone();
        Self {
            engine,
            max_body: limits.max_body_mib << 20,
            query_timeout: Duration::from_secs(limits.query_timeout_seconds),
            ingest_slots: Arc::new(Semaphore::new(limits.max_pending_ingests)),
            logins: None,
            alerts: None,
            sessions: Arc::default(),
            exporter: None,
            cluster: None,
        }
    }

    /// The admission gate of SQL statements.
    pub fn gate(&self) -> access::Gate {
        access::Gate::new(self.engine.clone())
    }

    /// The same state, showing `alerts` at `/v1/alerts`.
    pub fn with_alerts(mut self, alerts: Arc<crate::alerts::Alerts>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    /// The same state, exporting open tables on request with `exporter`.
    pub fn with_exporter(mut self, exporter: Arc<crate::open_tables::Exporter>) -> Self {
        self.exporter = Some(exporter);
        self
    }

    /// The same state, running queries that ask for it on `cluster`.
    pub fn with_cluster(mut self, cluster: Arc<crate::cluster::Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// The same state, checking every request against `logins`.
    pub fn with_logins(mut self, logins: Arc<access::Logins>) -> Self {
        self.logins = Some(logins);
        self
    }
}

/// The API's routes.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .route("/v1/version", get(routes::health::version))
        .route("/v1/sql", post(routes::sql::sql))
        .route("/v1/customers", get(routes::customers::lookup))
        .route(
            "/v1/customers/{mcid}/lineage",
            get(routes::customers::lineage),
        )
        .route(
            "/v1/customers/{mcid}/lineage.pdf",
            get(routes::customers::lineage_pdf),
        )
        .route("/v1/customers/merge", post(routes::corrections::merge))
        .route(
            "/v1/customers/{mcid}/split",
            post(routes::corrections::split),
        )
        .route("/v1/customers/{mcid}/erase", post(routes::erasure::erase))
        .route("/v1/identifiers/unlink", post(routes::corrections::unlink))
        .route("/v1/identifiers/link", post(routes::corrections::link))
        .route("/v1/corrections", get(routes::corrections::list))
        .route(
            "/v1/corrections/{correction_id}",
            delete(routes::corrections::undo),
        )
        .route("/v1/writeback", get(routes::actions::writeback_outbox))
        .route("/v1/writeback/ack", post(routes::actions::writeback_ack))
        .route(
            "/v1/orders/{channel}/{order_id}/force-sync",
            post(routes::actions::force_sync),
        )
        .route("/v1/sync-commands", get(routes::actions::sync_commands))
        .route(
            "/v1/sync-commands/{command_id}/ack",
            post(routes::actions::sync_ack),
        )
        .route("/v1/holds", get(routes::holds::list))
        .route(
            "/v1/holds/{channel}/{order_id}/release",
            post(routes::holds::release),
        )
        .route(
            "/v1/holds/{channel}/{order_id}/confirm",
            post(routes::holds::confirm),
        )
        .route("/v1/alerts", get(routes::alerts::list))
        .route(
            "/v1/alerts/silences",
            get(routes::alerts::silences).post(routes::alerts::silence),
        )
        .route(
            "/v1/alerts/silences/{silence_id}",
            delete(routes::alerts::end_silence),
        )
        .route("/", get(console::index))
        .route("/console/session", get(console::session))
        .route("/console/login", post(console::login))
        .route("/console/logout", post(console::logout))
        .route("/console/{*file}", get(console::asset))
        .route("/v1/reports/drift/{file}", get(routes::reports::drift_pdf))
        .route("/v1/export", post(routes::open_tables::export))
        .route("/v1/segments", get(routes::segments::list))
        .route("/v1/segments/{name}", get(routes::segments::export))
        .route("/v1/segments/{name}/sizes", get(routes::segments::sizes))
        .route(
            "/v1/ingest/{table}",
            post(routes::ingest::ingest).route_layer(from_fn_with_state(
                state.clone(),
                middleware::ingest_backpressure,
            )),
        )
        .route_layer(axum::middleware::from_fn(middleware::count_requests))
        .fallback(routes::not_found)
        .layer(from_fn_with_state(state.clone(), middleware::require_login))
        .layer(axum::middleware::from_fn(middleware::access_log))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
