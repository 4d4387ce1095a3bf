//! Evaluation: each alert's query at its interval, compared with the keys
//! already firing. A key that appears fires; one still there after
//! `[alerts] repeat_interval` is notified again; one that is gone is
//! resolved. Silenced keys change nothing while silenced. The transitions
//! of one evaluation are recorded in `alert_notifications` in one durable
//! write before any is sent, and the firing state is read back from that
//! table at start, so a restart neither forgets nor repeats a key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use ordergraph_engine::{Engine, SessionOptions};
use ordergraph_queries::alerts::{ALERT_COLUMNS, Alert, SEVERITIES};
use serde_json::{Value, json};

use super::outbox::{Delivery, Outbox};
use super::targets::Notification;
use super::{AlertStatus, Firing};
use crate::settings::AlertSettings;

/// One row of an alert query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) severity: String,
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) route: String,
}

/// A key firing now: its row as last notified, when its episode began and
/// when it was last notified (microseconds since the epoch).
#[derive(Debug, Clone)]
struct Active {
    row: Row,
    fired_at: i64,
    notified_at: i64,
}

/// A silence in force.
#[derive(Debug)]
struct Silence {
    alert: Option<String>,
    key: Option<String>,
}

impl Silence {
    fn covers(&self, alert: &str, key: &str) -> bool {
        let alert_matches = self.alert.as_deref().is_none_or(|a| a == alert);
        let key_matches = match self.key.as_deref() {
            None => true,
            Some(pattern) => match pattern.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix),
                None => key == pattern,
            },
        };
        alert_matches && key_matches
    }
}

/// Runs the alerts and records what changes.
pub(crate) struct Evaluator {
    engine: Arc<Engine>,
    settings: AlertSettings,
    outbox: Outbox,
    /// Firing keys, by alert and key.
    active: HashMap<(String, String), Active>,
    status: Arc<Mutex<BTreeMap<String, AlertStatus>>>,
}

fn micros_now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The column `name` of `batch` as text, one `Option<String>` per row.
fn texts(batch: &RecordBatch, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow!("the query has no column {name}"))?;
    let column = cast(column, &DataType::Utf8)?;
    let column = column.as_string::<i32>();
    Ok((0..column.len())
        .map(|i| column.is_valid(i).then(|| column.value(i).to_string()))
        .collect())
}

/// The columns `names` of `batch` as text, NULL as empty.
fn text_columns<const N: usize>(
    batch: &RecordBatch,
    names: [&str; N],
) -> anyhow::Result<[Vec<String>; N]> {
    let mut columns = Vec::with_capacity(N);
    for name in names {
        columns.push(
            texts(batch, name)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect(),
        );
    }
    Ok(columns.try_into().expect("one column per name"))
}

/// The column `name` of `batch` as microseconds, one per row.
fn micros(batch: &RecordBatch, name: &str) -> anyhow::Result<Vec<Option<i64>>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| anyhow!("the query has no column {name}"))?;
    let column = cast(column, &DataType::Int64)?;
    let column = column.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    Ok((0..column.len())
        .map(|i| column.is_valid(i).then(|| column.value(i)))
        .collect())
}

impl Evaluator {
    /// Reads the firing keys and the deliveries not yet done from the
    /// recorded tables, and queues those deliveries.
    pub(crate) async fn resume(
        engine: Arc<Engine>,
        settings: AlertSettings,
        outbox: Outbox,
        status: Arc<Mutex<BTreeMap<String, AlertStatus>>>,
    ) -> anyhow::Result<Evaluator> {
        let mut evaluator = Evaluator {
            engine,
            settings,
            outbox,
            active: HashMap::new(),
            status,
        };
        let latest = evaluator
            .query(
                "SELECT alert, alert_key, transition, severity, title, message, route, fired_at, arrived_at \
                 FROM (SELECT *, row_number() OVER (PARTITION BY alert, alert_key \
                                                    ORDER BY arrived_at DESC, transition) AS recency \
                       FROM alert_notifications) \
                 WHERE recency = 1 AND transition <> 'resolved'",
                false,
            )
            .await
            .context("reading the firing alerts")?;
        for batch in &latest {
            let [alert, key, severity, title, message, route] = text_columns(
                batch,
                [
                    "alert",
                    "alert_key",
                    "severity",
                    "title",
                    "message",
                    "route",
                ],
            )?;
            let (fired, arrived) = (micros(batch, "fired_at")?, micros(batch, "arrived_at")?);
            for i in 0..batch.num_rows() {
                let row = Row {
                    key: key[i].clone(),
                    severity: severity[i].clone(),
                    title: title[i].clone(),
                    message: message[i].clone(),
                    route: route[i].clone(),
                };
                evaluator.active.insert(
                    (alert[i].clone(), row.key.clone()),
                    Active {
                        row,
                        fired_at: fired[i].unwrap_or_default(),
                        notified_at: arrived[i].unwrap_or_default(),
                    },
                );
            }
        }
        let pending = evaluator
            .query(
                "SELECT d.notification_id, d.alert, d.alert_key, d.transition, d.severity, d.title, \
                        n.message, d.route, d.target, d.attempts, d.fired_at \
                 FROM alert_deliveries d \
                 JOIN alert_notifications n \
                   ON n.notification_id = d.notification_id AND n.target = d.target \
                 WHERE d.state IN ('pending', 'failed') \
                 ORDER BY d.first_at, d.notification_id",
                false,
            )
            .await
            .context("reading the deliveries not yet done")?;
        let mut resumed = 0;
        for batch in &pending {
            let columns = text_columns(
                batch,
                [
                    "notification_id",
                    "alert",
                    "alert_key",
                    "transition",
                    "severity",
                    "title",
                    "message",
                    "route",
                    "target",
                    "attempts",
                ],
            )?;
            let fired = micros(batch, "fired_at")?;
            for i in 0..batch.num_rows() {
                let text = |c: usize| columns[c][i].clone();
                evaluator.outbox.send(Delivery {
                    notification: Notification {
                        notification_id: text(0),
                        alert: text(1),
                        alert_key: text(2),
                        transition: text(3),
                        severity: text(4),
                        title: text(5),
                        message: text(6),
                        route: text(7),
                        fired_at: rfc3339(fired[i].unwrap_or_default()),
                    },
                    target: text(8),
                    attempts: text(9).parse().unwrap_or(0),
                });
                resumed += 1;
            }
        }
        tracing::info!(firing = evaluator.active.len(), resumed, "alerts resumed");
        Ok(evaluator)
    }

    /// Runs `sql` on a read-only session, masked or not, within the query
    /// timeout.
    async fn query(&self, sql: &str, masked: bool) -> anyhow::Result<Vec<RecordBatch>> {
        let run = async {
            let frame = self
                .engine
                .query_with(
                    sql,
                    SessionOptions {
                        masked,
                        ..SessionOptions::default()
                    },
                )
                .await?;
            Ok::<_, anyhow::Error>(frame.collect().await?)
        };
        let limit = self.settings.query_timeout.0;
        tokio::time::timeout(limit, run)
            .await
            .map_err(|_| anyhow!("ran longer than [alerts] query_timeout ({limit:?})"))?
    }

    /// The rows of `alert`'s query, each key once (the first row wins).
    async fn rows(&self, alert: &Alert) -> anyhow::Result<Vec<Row>> {
        let batches = self.query(&alert.sql, self.settings.masked).await?;
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for batch in &batches {
            let [key, severity, title, message, route] = ALERT_COLUMNS.map(|c| texts(batch, c));
            let (key, severity, title, message, route) =
                (key?, severity?, title?, message?, route?);
            for i in 0..batch.num_rows() {
                let Some(k) = key[i].clone() else {
                    bail!("row {} has no alert_key", rows.len() + 1);
                };
                let severity = severity[i].clone().unwrap_or_default();
                if !SEVERITIES.contains(&severity.as_str()) {
                    bail!(
                        "alert_key '{k}': severity '{severity}' is not one of {}",
                        SEVERITIES.join(", ")
                    );
                }
                if seen.insert(k.clone()) {
                    rows.push(Row {
                        key: k,
                        severity,
                        title: title[i].clone().unwrap_or_default(),
                        message: message[i].clone().unwrap_or_default(),
                        route: route[i].clone().unwrap_or_default(),
                    });
                }
            }
        }
        Ok(rows)
    }

    /// The silences in force now.
    async fn silences(&self) -> anyhow::Result<Vec<Silence>> {
        let batches = self
            .query(
                "SELECT alert, alert_key FROM \
                   (SELECT *, row_number() OVER (PARTITION BY silence_id ORDER BY arrived_at DESC) AS recency \
                    FROM alert_silences) \
                 WHERE recency = 1 AND ends_at > now()",
                false,
            )
            .await?;
        let mut silences = Vec::new();
        for batch in &batches {
            let (alert, key) = (texts(batch, "alert")?, texts(batch, "alert_key")?);
            for (alert, key) in alert.into_iter().zip(key) {
                silences.push(Silence { alert, key });
            }
        }
        Ok(silences)
    }

    /// Evaluates `alert` once, records its transitions and queues their
    /// deliveries; the outcome goes to the alert's status.
    pub(crate) async fn evaluate(&mut self, alert: &Alert) {
        let started = std::time::Instant::now();
        let outcome = self.evaluate_once(alert).await;
        let firing: Vec<Firing> = self
            .active
            .iter()
            .filter(|((name, _), _)| name == &alert.name)
            .map(|((_, key), a)| Firing {
                alert_key: key.clone(),
                severity: a.row.severity.clone(),
                title: a.row.title.clone(),
                route: a.row.route.clone(),
                fired_at: rfc3339(a.fired_at),
            })
            .collect();
        let error = match outcome {
            Ok(()) => None,
            Err(error) => {
                tracing::warn!(alert = %alert.name, error = format!("{error:#}"), "alert evaluation failed; next at its interval");
                Some(format!("{error:#}"))
            }
        };
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let entry = status.entry(alert.name.clone()).or_default();
        entry.last_run_at = Some(rfc3339(micros_now()));
        entry.last_run_ms = Some(started.elapsed().as_millis() as u64);
        entry.last_error = error;
        entry.firing = firing;
    }

    async fn evaluate_once(&mut self, alert: &Alert) -> anyhow::Result<()> {
        let rows = self.rows(alert).await?;
        let silences = self.silences().await?;
        let silenced = |key: &str| silences.iter().any(|s| s.covers(&alert.name, key));
        let now = micros_now();
        let repeat = i64::try_from(self.settings.repeat_interval.0.as_micros()).unwrap_or(i64::MAX);
        // (transition, row, fired_at)
        let mut changes: Vec<(&'static str, Row, i64)> = Vec::new();
        let present: HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        for row in &rows {
            if silenced(&row.key) {
                continue;
            }
            match self.active.get(&(alert.name.clone(), row.key.clone())) {
                None => changes.push(("firing", row.clone(), now)),
                Some(a) if now - a.notified_at >= repeat => {
                    changes.push(("repeat", row.clone(), a.fired_at))
                }
                Some(_) => {}
            }
        }
        for ((name, key), a) in &self.active {
            if name == &alert.name && !present.contains(key.as_str()) && !silenced(key) {
                changes.push(("resolved", a.row.clone(), a.fired_at));
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let mut records: Vec<Value> = Vec::new();
        let mut deliveries = Vec::new();
        for (transition, row, fired_at) in &changes {
            let notification = Notification {
                notification_id: notification_id(&alert.name, &row.key, transition, *fired_at, now),
                alert: alert.name.clone(),
                alert_key: row.key.clone(),
                transition: transition.to_string(),
                severity: row.severity.clone(),
                title: row.title.clone(),
                message: row.message.clone(),
                route: row.route.clone(),
                fired_at: rfc3339(*fired_at),
            };
            let targets: Vec<String> = if *transition == "resolved" && !alert.send_resolved {
                Vec::new()
            } else {
                self.settings
                    .targets_of(&row.route)
                    .into_iter()
                    .map(|t| t.name.clone())
                    .collect()
            };
            let record = |target: Option<&str>| {
                json!({
                    "notification_id": notification.notification_id,
                    "alert": notification.alert,
                    "alert_key": notification.alert_key,
                    "transition": notification.transition,
                    "severity": notification.severity,
                    "title": notification.title,
                    "message": notification.message,
                    "route": notification.route,
                    "target": target,
                    "fired_at": notification.fired_at,
                })
            };
            if targets.is_empty() {
                // The key's state is recorded all the same.
                records.push(record(None));
            }
            for target in targets {
                records.push(record(Some(&target)));
                deliveries.push(Delivery {
                    notification: notification.clone(),
                    target,
                    attempts: 0,
                });
            }
        }
        crate::record(&self.engine, "alert_notifications", &records)
            .await
            .context("recording notifications")?;
        for (transition, row, fired_at) in changes {
            let key = (alert.name.clone(), row.key.clone());
            if transition == "resolved" {
                self.active.remove(&key);
            } else {
                self.active.insert(
                    key,
                    Active {
                        row,
                        fired_at,
                        notified_at: now,
                    },
                );
            }
        }
        for delivery in deliveries {
            self.outbox.send(delivery);
        }
        Ok(())
    }
}

/// The idempotency key of a notification: one per alert, key, transition,
/// episode and moment of notification.
fn notification_id(alert: &str, key: &str, transition: &str, fired_at: i64, at: i64) -> String {
    let seed = format!("{alert}\u{0}{key}\u{0}{transition}\u{0}{fired_at}\u{0}{at}");
    format!("AN{:016X}", xxhash_rust::xxh3::xxh3_64(seed.as_bytes()))
}

/// When each alert is next due, from its interval (or `[alerts.every]`).
pub(crate) fn interval(alert: &Alert, settings: &AlertSettings) -> Duration {
    settings
        .every
        .get(&alert.name)
        .map_or(alert.every, |span| span.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silences_cover_an_alert_a_key_or_a_key_prefix() {
        let s = |alert: Option<&str>, key: Option<&str>| Silence {
            alert: alert.map(String::from),
            key: key.map(String::from),
        };
        assert!(s(None, None).covers("a", "k"));
        assert!(s(Some("a"), None).covers("a", "k"));
        assert!(!s(Some("b"), None).covers("a", "k"));
        assert!(s(Some("a"), Some("refund:R1:*")).covers("a", "refund:R1:payout:2h"));
        assert!(!s(Some("a"), Some("refund:R1:*")).covers("a", "refund:R2:payout:2h"));
        assert!(s(None, Some("k")).covers("z", "k"));
        assert!(!s(None, Some("k")).covers("z", "k2"));
    }
}
