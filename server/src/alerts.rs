//! Alerts that reach people: the alert queries (`queries/alerts/*.sql` and
//! a data directory's `alerts/*.sql`) evaluated at their intervals (module
//! `evaluate`), their notifications recorded and delivered to DingTalk,
//! Feishu, WeCom, email or any webhook (modules `outbox` and [`targets`]) as
//! `[[alerts.routes]]` say, and silences.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use ordergraph_engine::{Engine, SessionOptions};
use ordergraph_queries::alerts::{ALERT_COLUMNS, Alert};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod evaluate;
mod outbox;
pub mod targets;

pub use targets::webhook_signature;

/// A key firing now, as `GET /v1/alerts` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Firing {
    pub alert_key: String,
    pub severity: String,
    pub title: String,
    pub route: String,
    pub fired_at: String,
}

/// How an alert's evaluations go.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertStatus {
    pub last_run_at: Option<String>,
    pub last_run_ms: Option<u64>,
    /// Why the last evaluation failed (it is tried again at the next
    /// interval, not sooner).
    pub last_error: Option<String>,
    pub firing: Vec<Firing>,
}

/// The alerts of a running server.
#[derive(Debug)]
pub struct Alerts {
    alerts: Vec<Alert>,
    every: Vec<Duration>,
    status: Arc<Mutex<BTreeMap<String, AlertStatus>>>,
}

impl Alerts {
    /// Every alert evaluated, with its interval and status.
    pub fn list(&self) -> Vec<(Alert, Duration, AlertStatus)> {
        let status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        self.alerts
            .iter()
            .zip(&self.every)
            .map(|(a, every)| {
                (
                    a.clone(),
                    *every,
                    status.get(&a.name).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Whether `name` is an alert evaluated here.
    pub fn knows(&self, name: &str) -> bool {
        self.alerts.iter().any(|a| a.name == name)
    }
}

/// Loads the alerts (built in, and `data/alerts/*.sql`), checks that each
/// plans with the columns an alert needs, resumes the recorded state, and
/// starts evaluating and delivering until `stopped`. A bad alert or an
/// unknown name in `[alerts]` stops start-up.
pub async fn start(
    engine: Arc<Engine>,
    settings: &crate::settings::AlertSettings,
    data: &Path,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<(Arc<Alerts>, Vec<JoinHandle<()>>)> {
    let dir = data.join("alerts");
    let loaded = ordergraph_queries::alerts::load(&dir).map_err(anyhow::Error::msg)?;
    for name in settings.every.keys().chain(&settings.disabled) {
        if !loaded.iter().any(|a| &a.name == name) {
            bail!("[alerts] names the alert '{name}', which does not exist");
        }
    }
    let alerts: Vec<Alert> = loaded
        .into_iter()
        .filter(|a| !settings.disabled.contains(&a.name))
        .collect();
    for alert in &alerts {
        check_columns(&engine, alert)
            .await
            .with_context(|| format!("alert {}", alert.name))?;
    }
    let every: Vec<Duration> = alerts
        .iter()
        .map(|a| evaluate::interval(a, settings))
        .collect();
    crate::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(settings.send_timeout.0)
        .build()
        .context("building the HTTP client of alert deliveries")?;
    let (outbox, mut tasks) = outbox::Outbox::start(&engine, settings, &client, &stopped)?;
    let status = Arc::new(Mutex::new(BTreeMap::new()));
    let evaluator =
        evaluate::Evaluator::resume(engine, settings.clone(), outbox, status.clone()).await?;
    let service = Arc::new(Alerts {
        alerts,
        every,
        status,
    });
    tracing::info!(
        alerts = service.alerts.len(),
        targets = settings.targets.len(),
        "alerts evaluating"
    );
    tasks.push(tokio::spawn(run(evaluator, service.clone(), stopped)));
    Ok((service, tasks))
}

/// Plans `alert`'s query and checks its columns.
async fn check_columns(engine: &Arc<Engine>, alert: &Alert) -> anyhow::Result<()> {
    let frame = engine
        .query_with(&alert.sql, SessionOptions::default())
        .await?;
    let schema = frame.schema();
    for column in ALERT_COLUMNS {
        if schema.field_with_unqualified_name(column).is_err() {
            bail!(
                "the query has no column {column}; an alert returns {}",
                ALERT_COLUMNS.join(", ")
            );
        }
    }
    Ok(())
}

/// Evaluates each alert when it is due, one at a time, until `stopped`.
async fn run(
    mut evaluator: evaluate::Evaluator,
    alerts: Arc<Alerts>,
    mut stopped: watch::Receiver<bool>,
) {
    let start = tokio::time::Instant::now();
    let mut due: Vec<tokio::time::Instant> = vec![start; alerts.alerts.len()];
    loop {
        let Some((i, at)) = due.iter().copied().enumerate().min_by_key(|(_, at)| *at) else {
            return;
        };
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep_until(at) => {}
        }
        evaluator.evaluate(&alerts.alerts[i]).await;
        // The next run counts from this one's end: a slow query never
        // queues runs behind itself.
        due[i] = tokio::time::Instant::now() + alerts.every[i];
    }
}
