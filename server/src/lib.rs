//! The ordergraph HTTP API: SQL over HTTP, ingest, health. Handlers
//! extract, make one engine call, and encode; the engine does the work.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordergraph_engine::Engine;
use ordergraph_engine::source::DirectorySource;
use tokio::sync::Semaphore;

pub mod access;
pub mod encode;
mod error;
pub mod flight;
mod lineage_pdf;
mod pdf;
pub mod pg;
mod pg_compat;
mod pg_rewrite;
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
    /// One permit per ingest request being received or applied.
    pub ingest_slots: Arc<Semaphore>,
    /// Who may call what; `None` admits every request (tests, embedding).
    pub logins: Option<Arc<access::Logins>>,
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
        }
    }

    /// The admission gate of SQL statements.
    pub fn gate(&self) -> access::Gate {
        access::Gate::new(self.engine.clone())
    }

    /// The same state, checking every request against `logins`.
    pub fn with_logins(mut self, logins: Arc<access::Logins>) -> Self {
        self.logins = Some(logins);
        self
    }
}

/// Lets a request through only with credentials whose role may call its
/// path (see [`access::role_allows`]); `/healthz` is open.
async fn require_login(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(logins) = &state.logins else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    if path == "/healthz" {
        return next.run(request).await;
    }
    let from = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let authorization = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match logins.admit_http(authorization, from, &path).await {
        Ok((user, role)) => {
            request
                .extensions_mut()
                .insert(access::Caller { user, role });
            next.run(request).await
        }
        Err(access::Refused::Unauthenticated) => {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "log in with HTTP Basic (curl -u user:password) or Authorization: Bearer user:password",
            )
            .into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"ordergraph\""),
            );
            response
        }
        Err(access::Refused::Throttled) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_logins",
            "too many failed logins from this address; try again in a minute",
        )
        .into_response(),
        Err(access::Refused::Forbidden(role)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {} may not call {path}", role.as_str()),
        )
        .into_response(),
    }
}

/// Refuses an ingest request at once, before its body is read, when
/// `max_pending_ingests` are already in flight: the client retries later
/// instead of the server queueing without bound.
async fn ingest_backpressure(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_slot) = state.ingest_slots.clone().try_acquire_owned() else {
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many ingest requests in flight; retry after the time in Retry-After",
        )
        .into_response();
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, 1.into());
        return response;
    };
    next.run(request).await
}

/// The API's routes.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route("/healthz", get(routes::health::healthz))
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
        .route("/v1/segments", get(routes::segments::list))
        .route("/v1/segments/{name}", get(routes::segments::export))
        .route(
            "/v1/ingest/{table}",
            post(routes::ingest::ingest).route_layer(middleware::from_fn_with_state(
                state.clone(),
                ingest_backpressure,
            )),
        )
        .fallback(routes::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_login))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// The directory source configured in `[source]`, if any, after one scan:
/// files left from before a restart are taken before the server accepts
/// requests (see [`ordergraph_engine::source`]).
pub fn open_directory_source(
    engine: &Arc<Engine>,
) -> ordergraph_engine::Result<Option<DirectorySource>> {
    let Some(dir) = &engine.config().source.watch_dir else {
        return Ok(None);
    };
    let mut source = DirectorySource::open(engine.clone(), &engine.dir().join(dir))?;
    let taken = source.scan()?;
    tracing::info!(dir = %source.root().display(), files = taken.len(), "watching for dropped files");
    Ok(Some(source))
}

/// Scans `source` every `[source] poll_ms` until `stop` says so; a scan
/// in progress finishes first. A failing scan is logged and retried.
pub async fn watch_directory(
    source: DirectorySource,
    poll: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let source = Arc::new(std::sync::Mutex::new(source));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        let source = source.clone();
        let scanned = tokio::task::spawn_blocking(move || {
            source.lock().unwrap_or_else(|e| e.into_inner()).scan()
        })
        .await;
        match scanned {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "scanning the watched directory failed; retrying")
            }
            Err(e) => tracing::error!(error = %e, "the directory scan panicked; retrying"),
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Compacts the log into a new checkpoint every `interval` when there were
/// writes since the last one, until `stop` says so. Writers and queries go
/// on meanwhile ([`Engine::compact`]). A failed checkpoint is logged; the
/// log still holds everything, so nothing is lost.
pub async fn checkpoint_periodically(
    engine: Arc<Engine>,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        if engine.writes_since_checkpoint() == 0 {
            continue;
        }
        let engine = engine.clone();
        match tokio::task::spawn_blocking(move || engine.compact()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "checkpoint failed; the log still holds every write")
            }
            Err(e) => {
                tracing::error!(error = %e, "checkpoint panicked; the log still holds every write")
            }
        }
    }
}
