//! Delivery of recorded notifications: one worker per target, each
//! sending its queue in order with retries and exponential back-off, and
//! recording every attempt (`alert_attempts`) when it ends. A notification
//! is recorded before it reaches a queue, so a kill at any moment loses
//! none: what was recorded and not yet sent (or sent and not yet recorded
//! as sent) is sent again after a restart, with the same idempotency key.
//! A target that is down holds up only its own queue.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use ordergraph_engine::Engine;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use anyhow::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::targets::{self, Notification, Verdict};
use crate::settings::{AlertSettings, AlertTarget, TargetKind};

/// A notification on its way to one target.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) notification: Notification,
    pub(crate) target: String,
    /// Attempts already made (after a restart: as recorded).
    pub(crate) attempts: u32,
}

/// The queues of every target.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    queues: HashMap<String, mpsc::UnboundedSender<Delivery>>,
}

/// How the workers retry.
#[derive(Debug, Clone, Copy)]
struct Retry {
    max_attempts: u32,
    initial: Duration,
    max: Duration,
}

impl Retry {
    /// The wait after `attempts` failed attempts.
    fn backoff(self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.initial.saturating_mul(1 << doublings).min(self.max)
    }
}

impl Outbox {
    /// Starts a worker per target of `settings`, each until `stopped`. An
    /// email target's address that does not parse stops start-up.
    pub(crate) fn start(
        engine: &Arc<Engine>,
        settings: &AlertSettings,
        client: &reqwest::Client,
        stopped: &watch::Receiver<bool>,
    ) -> anyhow::Result<(Outbox, Vec<tokio::task::JoinHandle<()>>)> {
        let retry = Retry {
            max_attempts: settings.max_attempts,
            initial: settings.retry_initial.0,
            max: settings.retry_max.0,
        };
        let mut queues = HashMap::new();
        let mut workers = Vec::new();
        for target in &settings.targets {
            let sender = match target.kind {
                TargetKind::Email => Sender::Smtp(
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(&target.url)
                        .with_context(|| {
                            format!("[[alerts.targets]] '{}': the smtp url", target.name)
                        })?
                        .timeout(Some(settings.send_timeout.0))
                        .build(),
                ),
                _ => Sender::Http(client.clone()),
            };
            let (send, receive) = mpsc::unbounded_channel();
            queues.insert(target.name.clone(), send);
            workers.push(tokio::spawn(deliver(
                engine.clone(),
                target.clone(),
                sender,
                retry,
                receive,
                stopped.clone(),
            )));
        }
        Ok((Outbox { queues }, workers))
    }

    /// Queues `delivery` on its target's worker.
    pub(crate) fn send(&self, delivery: Delivery) {
        match self.queues.get(&delivery.target) {
            Some(queue) => {
                // A closed queue means the server is stopping; the delivery
                // is recorded and is taken up again at the next start.
                let _ = queue.send(delivery);
            }
            None => {
                tracing::warn!(target = %delivery.target, "a notification for a target no longer configured is left pending")
            }
        }
    }
}

/// How a worker reaches its target.
enum Sender {
    Http(reqwest::Client),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// One target's worker.
async fn deliver(
    engine: Arc<Engine>,
    target: AlertTarget,
    sender: Sender,
    retry: Retry,
    mut incoming: mpsc::UnboundedReceiver<Delivery>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut queue: VecDeque<(Delivery, Instant)> = VecDeque::new();
    loop {
        let due = queue.front().map(|(_, at)| *at);
        tokio::select! {
            more = incoming.recv() => match more {
                Some(delivery) => queue.push_back((delivery, Instant::now())),
                None => return,
            },
            _ = stopped.changed() => return,
            _ = tokio::time::sleep_until(due.unwrap_or_else(far_future)), if due.is_some() => {
                let Some((delivery, _)) = queue.front_mut() else { continue };
                let attempt = delivery.attempts + 1;
                let verdict = send_once(&sender, &target, &delivery.notification).await;
                let (outcome, error) = match verdict {
                    Verdict::Sent => ("sent", None),
                    Verdict::GiveUp(e) => ("gave_up", Some(e)),
                    Verdict::Retry(e) if attempt >= retry.max_attempts => ("gave_up", Some(e)),
                    Verdict::Retry(e) => ("failed", Some(e)),
                };
                let row = json!({
                    "notification_id": delivery.notification.notification_id,
                    "target": target.name,
                    "attempt": attempt,
                    "outcome": outcome,
                    "error": error,
                });
                if let Err(error) = crate::record(&engine, "alert_attempts", &[row]).await {
                    // Not recorded: the attempt is made again, later.
                    tracing::error!(%error, target = %target.name, "recording a delivery attempt failed");
                    queue[0].1 = Instant::now() + retry.max;
                    continue;
                }
                metrics::counter!(
                    "ordergraph_alert_deliveries_total",
                    "target" => target.name.clone(),
                    "outcome" => outcome
                )
                .increment(1);
                match outcome {
                    "failed" => {
                        tracing::warn!(target = %target.name, attempt, error = error.as_deref().unwrap_or(""), "alert delivery failed; trying again");
                        delivery.attempts = attempt;
                        queue[0].1 = Instant::now() + retry.backoff(attempt);
                    }
                    _ => {
                        if outcome == "gave_up" {
                            tracing::error!(target = %target.name, attempt, error = error.as_deref().unwrap_or(""), "alert delivery given up");
                        }
                        queue.pop_front();
                    }
                }
            }
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

/// One attempt; the request's own timeout bounds it.
async fn send_once(sender: &Sender, target: &AlertTarget, n: &Notification) -> Verdict {
    let client = match sender {
        Sender::Http(client) => client,
        Sender::Smtp(transport) => {
            return match targets::email(target, n) {
                Ok(email) => targets::email_verdict(transport.send(email).await),
                Err(e) => Verdict::GiveUp(format!("the email could not be built: {e}")),
            };
        }
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    match targets::request(client, target, n, now_ms).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            targets::verdict(target.kind, status, &body)
        }
        // The error names the address, which may carry a token: only its
        // kind is kept.
        Err(e) if e.is_timeout() => Verdict::Retry("timed out".into()),
        Err(e) if e.is_connect() => Verdict::Retry("could not connect".into()),
        Err(e) => Verdict::Retry(format!("request failed: {}", e.without_url())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let retry = Retry {
            max_attempts: 10,
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (1..=6).map(|a| retry.backoff(a).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(retry.backoff(u32::MAX), Duration::from_secs(60));
    }
}
