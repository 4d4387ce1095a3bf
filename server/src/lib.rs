//! The ordergraph server: the HTTP API ([`http`]), the Postgres wire
//! protocol ([`pg`]) and Arrow Flight SQL ([`flight`]) over one engine,
//! every SQL statement admitted by one gate ([`access::Gate`]), and the
//! background tasks of `ordergraph serve`.

use std::sync::Arc;
use std::time::Duration;

use ordergraph_engine::Engine;
use ordergraph_engine::source::DirectorySource;

pub mod access;
pub mod alerts;
pub mod client;
pub mod cluster;
pub mod console;
#[cfg(feature = "demo")]
pub mod demo;
mod drift_report;
pub mod exports;
pub mod flight;
mod force_sync;
pub mod holds;
pub mod http;
pub mod kafka;
mod lineage;
pub mod logs;
pub mod metrics;
pub mod open_tables;
pub mod output;
mod pdf_layout;
pub mod pg;
pub mod progress;
pub mod settings;
mod tls;

pub use http::{ApiError, AppState, app, encode};

/// Makes ring the process's TLS provider (the one the listeners use), for
/// HTTPS clients: alert deliveries, and any `reqwest` client in the same
/// process. Calling it again changes nothing.
pub fn install_crypto_provider() {
    let _ =
        datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::crypto::ring::default_provider()
            .install_default();
}

/// Records `rows` (JSON objects) in one of the recorded tables (see
/// [`ordergraph_engine::table::recorded_tables`]), off the runtime: durable
/// when it returns. Returns how many rows were new (an identical row is a
/// repeat).
pub(crate) async fn record(
    engine: &Arc<Engine>,
    table: &'static str,
    rows: &[serde_json::Value],
) -> ordergraph_engine::Result<usize> {
    let mut ndjson = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut ndjson, row).expect("JSON values serialize");
        ndjson.push(b'\n');
    }
    let engine = engine.clone();
    match tokio::task::spawn_blocking(move || engine.record(table, ndjson.into())).await {
        Ok(report) => Ok(report?.inserted),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
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
