//! `GET /metrics`: the process's series in Prometheus' text format. The
//! engine and the server record them where things happen (commits, fsyncs,
//! identity increments, checkpoints, view refreshes, HTTP requests, SQL
//! admissions); the gauges of state (orders, customers, shared memory,
//! maintained views) are read at each scrape.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ordergraph_engine::{Engine, Role};

use crate::access::Refusal;

/// Bucket bounds of every `_seconds` histogram: 0.5 ms to 60 s.
const SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// Bucket bounds of the group commit's requests per commit.
const REQUESTS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Every series, with what it measures: the exposition's help text.
const COUNTERS: [(&str, &str); 12] = [
    (
        "ordergraph_exports_total",
        "exports of the open tables, by result (ok, error)",
    ),
    (
        "ordergraph_alert_deliveries_total",
        "alert delivery attempts, by target and outcome (sent, failed and tried again, gave_up)",
    ),
    (
        "ordergraph_source_messages_total",
        "Kafka messages taken in, by group, topic and partition",
    ),
    (
        "ordergraph_source_rejects_total",
        "Kafka messages recorded in source_rejects, by group, topic and partition",
    ),
    (
        "ordergraph_source_skipped_total",
        "times a Kafka partition's offset was out of range (messages removed by retention before they were read)",
    ),
    (
        "ordergraph_ingest_rows_total",
        "rows committed, by table and outcome (inserted, updated, unchanged)",
    ),
    (
        "ordergraph_ingest_requests_total",
        "HTTP ingest requests answered, by table and status",
    ),
    (
        "ordergraph_identity_orders_total",
        "orders taken into the identity graph",
    ),
    (
        "ordergraph_queries_total",
        "SQL statements brought to the gate, by protocol and role",
    ),
    (
        "ordergraph_query_errors_total",
        "SQL statements the gate refused, by protocol and class",
    ),
    (
        "ordergraph_http_requests_total",
        "HTTP requests answered, by route and status",
    ),
    (
        "ordergraph_http_refused_total",
        "HTTP requests refused at login, by status (401, 403, 429)",
    ),
];
const HISTOGRAMS: [(&str, &str); 9] = [
    (
        "ordergraph_query_seconds",
        "time from a statement's admission until its answer's last batch is out (or the client left), by protocol and role",
    ),
    (
        "ordergraph_commit_seconds",
        "time to check, log, fsync and apply one commit, by table",
    ),
    (
        "ordergraph_fsync_seconds",
        "time to fsync one log file and its directory",
    ),
    (
        "ordergraph_group_commit_requests",
        "orders requests committed together",
    ),
    (
        "ordergraph_identity_apply_seconds",
        "time to take one commit's orders into the identity graph",
    ),
    (
        "ordergraph_checkpoint_seconds",
        "time to write one checkpoint",
    ),
    (
        "ordergraph_checkpoint_ingest_paused_seconds",
        "time ingest waited for one checkpoint",
    ),
    (
        "ordergraph_view_refresh_seconds",
        "time of one maintained view refresh, by view and how (whole, by key)",
    ),
    (
        "ordergraph_http_request_seconds",
        "time to answer one HTTP request (until its body starts), by route",
    ),
];
const GAUGES: [(&str, &str); 11] = [
    (
        "ordergraph_export_seconds",
        "how long the last successful export of the open tables took",
    ),
    (
        "ordergraph_export_last_success_timestamp_seconds",
        "when the last export of the open tables succeeded (Unix time)",
    ),
    (
        "ordergraph_source_lag_messages",
        "Kafka messages in a partition not taken in yet, by group, topic and partition",
    ),
    ("ordergraph_orders", "orders stored"),
    ("ordergraph_customers", "live customers (MCIDs)"),
    (
        "ordergraph_commit_queue_requests",
        "orders requests waiting for the group commit",
    ),
    (
        "ordergraph_writes_since_checkpoint",
        "log files (accepted writes) not yet in a checkpoint",
    ),
    (
        "ordergraph_checkpoint_last_timestamp_seconds",
        "when the last checkpoint was written, Unix seconds",
    ),
    (
        "ordergraph_query_memory_reserved_bytes",
        "bytes running queries hold of the shared memory pool",
    ),
    (
        "ordergraph_maintained_rows",
        "rows of a maintained view or kept identity table, by view",
    ),
    (
        "ordergraph_maintained_bytes",
        "memory of a maintained view or kept identity table, by view",
    ),
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use; every series recorded
/// before then is lost.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("ordergraph_group_commit_requests".into()),
                    &REQUESTS,
                )
            })
            .expect("bucket bounds are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder (a test harness's) may be installed already:
        // this handle then renders nothing of the engine's series.
        let _ = metrics::set_global_recorder(recorder);
        for (name, help) in COUNTERS {
            metrics::describe_counter!(name, help);
        }
        for (name, help) in HISTOGRAMS {
            metrics::describe_histogram!(name, help);
        }
        for (name, help) in GAUGES {
            metrics::describe_gauge!(name, help);
        }
        handle
    })
}

/// The name of every series the server describes.
pub fn series() -> impl Iterator<Item = &'static str> {
    COUNTERS
        .iter()
        .chain(&HISTOGRAMS)
        .chain(&GAUGES)
        .map(|(name, _)| *name)
}

/// Every series, with the gauges of `engine`'s state read now.
pub fn render(engine: &Engine) -> String {
    let handle = handle();
    metrics::gauge!("ordergraph_orders").set(engine.order_count() as f64);
    metrics::gauge!("ordergraph_customers").set(engine.customer_count() as f64);
    metrics::gauge!("ordergraph_writes_since_checkpoint")
        .set(engine.writes_since_checkpoint() as f64);
    metrics::gauge!("ordergraph_query_memory_reserved_bytes")
        .set(engine.query_memory_reserved() as f64);
    for view in engine.maintained_views() {
        let rows = view.rows.unwrap_or(0) as f64;
        metrics::gauge!("ordergraph_maintained_rows", "view" => view.name.clone()).set(rows);
        metrics::gauge!("ordergraph_maintained_bytes", "view" => view.name).set(view.bytes as f64);
    }
    handle.run_upkeep();
    handle.render()
}

/// Times one admitted query: records `ordergraph_query_seconds` when
/// dropped, which is when its answer's stream ends or is abandoned.
#[derive(Debug)]
pub struct QueryTimer {
    protocol: &'static str,
    role: &'static str,
    started: std::time::Instant,
}

impl QueryTimer {
    pub fn start(protocol: &'static str, role: Option<Role>) -> Self {
        Self {
            protocol,
            role: role.map_or("none", Role::as_str),
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for QueryTimer {
    fn drop(&mut self) {
        metrics::histogram!(
            "ordergraph_query_seconds",
            "protocol" => self.protocol,
            "role" => self.role
        )
        .record(self.started.elapsed());
    }
}

/// Counts a statement admitted or refused by the SQL gate, by protocol
/// (`http`, `postgres`, `flight`) and role; a refusal also by its class.
pub fn count_query<T>(protocol: &'static str, role: Option<Role>, admitted: &Result<T, Refusal>) {
    let role = role.map_or("none", Role::as_str);
    metrics::counter!("ordergraph_queries_total", "protocol" => protocol, "role" => role)
        .increment(1);
    if let Err(refusal) = admitted {
        metrics::counter!(
            "ordergraph_query_errors_total",
            "protocol" => protocol,
            "class" => refusal.class()
        )
        .increment(1);
    }
}
