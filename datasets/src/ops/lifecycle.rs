//! An order's lifecycle (when it reached each status up to its final one),
//! what each system reports about it in `status_events`, and its place in
//! the warehouse queue.
//!
//! Every system reports the order's current status once, within 0–2 s of
//! the platform and confirmed within 3 s of it, so an order in sync is
//! consistent under the views' default 3 s tolerance: the platform for
//! every order, the ERP once it is paid, the WMS once it shipped, the CRM
//! for paid and later orders that were not cancelled. That keeps the table
//! near 4 rows per order. About 4% of orders drift ([`Drift`]); they also
//! carry the earlier reports of the episode (the stale status and its
//! repair, and the platform's report that started it), so a replay in event
//! time sees when the systems disagreed and when they agreed again.

use crate::OrderRow;
use crate::Result;
use crate::output::Value;
use crate::rng::Rng;
use crate::vocab::STATUSES;

use super::catalog::{WAREHOUSES, warehouse_of};
use super::{Clock, DAY, HOUR, MINUTE, OpsTable, Sink};

pub(super) const CREATED: u8 = 0;
pub(super) const PAID: u8 = 1;
pub(super) const SHIPPED: u8 = 2;
pub(super) const SIGNED: u8 = 3;
pub(super) const REFUNDED: u8 = 4;
pub(super) const CANCELLED: u8 = 5;

/// Each status as written: lower-case mostly; upper-case, title-case and
/// padded spellings test the views' `lower(trim(status_code))`.
const SPELLINGS: [[&str; 4]; 6] = [
    ["created", "CREATED", "Created", "created "],
    ["paid", "PAID", "Paid", " paid"],
    ["shipped", "SHIPPED", "Shipped", "shipped "],
    ["signed", "SIGNED", "Signed", " signed"],
    ["refunded", "REFUNDED", "Refunded", "refunded "],
    ["cancelled", "CANCELLED", "Cancelled", " cancelled"],
];

const BOT: &str = "sync-bot";
const CLERKS: &[&str] = &[
    "王敏", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周婷", "吴刚",
];

/// How the systems fall out of step on a drifting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drift {
    /// The platform says shipped while the WMS still says paid, for minutes
    /// to hours, until the WMS catches up (repaired).
    WmsStale,
    /// The ERP reports the refund hours after the platform (or not at all
    /// when that would be after now).
    ErpLagsRefund,
    /// The CRM stays at the previous status and never catches up.
    CrmStuck,
    /// A system reports the same status with its clock 5–60 s off.
    Skew,
}

/// When an order reached each status; the last one is its final status.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lifecycle {
    steps: [(u8, i64); 5],
    len: usize,
}

/// Nominal seconds from the previous step to `status`.
fn gap(rng: &mut Rng, from: u8, status: u8, dealer: bool) -> i64 {
    // (low, high, weight) buckets give heavy tails without floating point.
    let buckets: &[(i64, i64, u32)] = match (status, dealer) {
        // A dealer hands the goods over at the counter.
        (PAID | SHIPPED | SIGNED, true) => &[(5, 120, 1)],
        (PAID, false) => &[
            (10, 120, 70),
            (120, 30 * MINUTE, 25),
            (30 * MINUTE, 2 * HOUR, 5),
        ],
        (SHIPPED, false) => &[
            (2 * HOUR, 12 * HOUR, 50),
            (12 * HOUR, 30 * HOUR, 40),
            (30 * HOUR, 3 * DAY, 10),
        ],
        (SIGNED, false) => &[(DAY, 3 * DAY, 60), (3 * DAY, 6 * DAY, 40)],
        (REFUNDED, _) => &[(HOUR, DAY, 30), (DAY, 4 * DAY, 45), (4 * DAY, 10 * DAY, 25)],
        // An unpaid order times out after 30 minutes.
        (CANCELLED, _) if from == CREATED => &[(30 * MINUTE, 32 * MINUTE, 1)],
        _ => &[(5 * MINUTE, HOUR, 60), (HOUR, 12 * HOUR, 40)],
    };
    let (lo, hi, _) = *rng.weighted_by(buckets, |b| b.2);
    rng.range(lo as u64, hi as u64) as i64
}

impl Lifecycle {
    /// The lifecycle of `row`, ending in its final status no later than one
    /// second before `now` (steps are compressed for recent orders).
    pub(super) fn of(rng: &mut Rng, row: &OrderRow, now: i64) -> Self {
        let last = STATUSES.iter().position(|s| *s == row.status).unwrap_or(0) as u8;
        let mut path = [CREATED; 5];
        let mut len = 1;
        let mut push = |s: u8| {
            path[len] = s;
            len += 1;
        };
        match last {
            CREATED => {}
            REFUNDED => {
                let prior = [PAID, SHIPPED, SIGNED][rng.weighted(&[25, 20, 55])];
                (PAID..=prior).for_each(&mut push);
                push(REFUNDED);
            }
            CANCELLED => {
                if rng.chance(0.4) {
                    push(PAID);
                }
                push(CANCELLED);
            }
            s => (PAID..=s).for_each(&mut push),
        }
        let dealer = row.channel == "dealer";
        let ordered = row.ordered_at.timestamp();
        let mut gaps = [0i64; 5];
        for i in 1..len {
            gaps[i] = gap(rng, path[i - 1], path[i], dealer);
        }
        let total: i64 = gaps.iter().sum();
        let room = (now - 1 - ordered).max(0);
        if total > room {
            for g in &mut gaps {
                *g = (*g as i128 * room as i128 / total as i128) as i64;
            }
        }
        let mut steps = [(CREATED, ordered); 5];
        let mut at = ordered;
        for i in 0..len {
            at += gaps[i];
            steps[i] = (path[i], at);
        }
        Self { steps, len }
    }

    pub(super) fn final_status(&self) -> u8 {
        self.steps[self.len - 1].0
    }

    /// When the order reached its final status.
    pub(super) fn final_at(&self) -> i64 {
        self.steps[self.len - 1].1
    }

    /// When the order reached `status`, if it did.
    pub(super) fn at(&self, status: u8) -> Option<i64> {
        self.steps[..self.len]
            .iter()
            .find(|s| s.0 == status)
            .map(|s| s.1)
    }

    /// The step before the final one.
    pub(super) fn previous(&self) -> Option<(u8, i64)> {
        (self.len >= 2).then(|| self.steps[self.len - 2])
    }

    /// Whether the order left a warehouse.
    pub(super) fn shipped(&self) -> bool {
        self.at(SHIPPED).is_some()
    }

    fn eligible(&self, drift: Drift) -> bool {
        let last = self.final_status();
        match drift {
            Drift::WmsStale => matches!(last, SHIPPED | SIGNED),
            Drift::ErpLagsRefund => last == REFUNDED,
            Drift::CrmStuck => self.reports(System::Crm) && self.len >= 2,
            Drift::Skew => last != CREATED,
        }
    }

    /// Whether `system` reports this order at all.
    fn reports(&self, system: System) -> bool {
        let last = self.final_status();
        match system {
            System::Platform => true,
            System::Erp => last != CREATED,
            System::Wms => self.shipped(),
            System::Crm => !matches!(last, CREATED | CANCELLED),
        }
    }

    /// Whether and how this order drifts: ~3.5% of orders, plus a tenth of
    /// the refunded ones whose ERP lags.
    pub(super) fn drift(&self, rng: &mut Rng) -> Option<Drift> {
        if self.final_status() == REFUNDED && rng.chance(0.1) {
            return Some(Drift::ErpLagsRefund);
        }
        if !rng.chance(0.035) {
            return None;
        }
        let kinds = [Drift::WmsStale, Drift::CrmStuck, Drift::Skew];
        let weights = kinds.map(|k| if self.eligible(k) { 1 } else { 0 });
        (weights.iter().sum::<u32>() > 0).then(|| kinds[rng.weighted(&weights)])
    }

    /// Writes every system's reports of the order.
    pub(super) fn write_status_events<S: Sink>(
        &self,
        sink: &mut S,
        clock: Clock,
        row: &OrderRow,
        rng: &mut Rng,
    ) -> Result<()> {
        let drift = self.drift(rng);
        let (last, at) = (self.final_status(), self.final_at());
        let mut report =
            |system: System, status: u8, updated: i64, confirmed: i64, rng: &mut Rng| {
                // Sync delays and skew never reach past the report time.
                let updated = updated.min(clock.now);
                let confirmed = confirmed.clamp(updated, clock.now);
                let spelling = SPELLINGS[status as usize][rng.weighted(&[960, 20, 15, 5])];
                let operator = if rng.chance(0.9) {
                    BOT
                } else {
                    rng.pick(CLERKS)
                };
                sink.row(
                    OpsTable::StatusEvents,
                    &[
                        Value::Str(row.channel),
                        Value::Str(&row.order_id),
                        Value::Str(system.name()),
                        Value::Str(spelling),
                        clock.time(updated),
                        clock.time(confirmed),
                        Value::Str(operator),
                    ],
                )
            };
        let skewed = match drift {
            Some(Drift::Skew) => {
                let others: Vec<System> = [System::Erp, System::Wms, System::Crm]
                    .into_iter()
                    .filter(|s| self.reports(*s))
                    .collect();
                Some(*rng.pick(&others))
            }
            _ => None,
        };
        for system in System::ALL {
            if !self.reports(system) {
                continue;
            }
            match (drift, system) {
                (Some(Drift::WmsStale), System::Platform) if last == SIGNED => {
                    // The platform's own shipped report opens the episode
                    // the views replay.
                    let (u, c) = in_step(rng, self.at(SHIPPED).unwrap_or(at), true);
                    report(system, SHIPPED, u, c, rng)?;
                    let (u, c) = in_step(rng, at, true);
                    report(system, last, u, c, rng)?;
                }
                (Some(Drift::WmsStale), System::Wms) => {
                    // Paid when the platform says shipped, then shipped once
                    // the WMS catches up, before the next step or now.
                    let shipped = self.at(SHIPPED).unwrap_or(at);
                    let until = self.at(SIGNED).unwrap_or(clock.now);
                    let limit = (until - shipped - 1).max(1);
                    let lag = (rng.range(5 * MINUTE as u64, 6 * HOUR as u64) as i64).min(limit);
                    let (u, c) = in_step(rng, shipped, true);
                    report(system, PAID, u, c, rng)?;
                    let (u, c) = in_step(rng, shipped + lag, false);
                    report(system, SHIPPED, u, c, rng)?;
                    if last == SIGNED {
                        let (u, c) = in_step(rng, at, false);
                        report(system, SIGNED, u, c, rng)?;
                    }
                }
                (Some(Drift::ErpLagsRefund), System::Erp) => {
                    let (prior, prior_at) = self.previous().unwrap_or((PAID, at));
                    let (u, c) = in_step(rng, prior_at, false);
                    report(system, prior, u, c, rng)?;
                    let late = at + rng.range(HOUR as u64, 12 * HOUR as u64) as i64;
                    if late < clock.now {
                        report(system, REFUNDED, late, late + rng.below(3) as i64, rng)?;
                    }
                }
                (Some(Drift::CrmStuck), System::Crm) => {
                    let (prior, prior_at) = self.previous().unwrap_or((CREATED, at));
                    let (u, c) = in_step(rng, prior_at, false);
                    report(system, prior, u, c, rng)?;
                }
                _ if skewed == Some(system) => {
                    let off = rng.range(5, 60) as i64;
                    let u = if rng.chance(0.3) { at - off } else { at + off };
                    report(system, last, u, u + rng.below(3) as i64, rng)?;
                }
                _ => {
                    let (u, c) = in_step(rng, at, system == System::Platform);
                    report(system, last, u, c, rng)?;
                }
            }
        }
        Ok(())
    }

    /// Queues a paid order of the last three days at its warehouse.
    pub(super) fn write_queue<S: Sink>(
        &self,
        sink: &mut S,
        clock: Clock,
        row: &OrderRow,
        rng: &mut Rng,
    ) -> Result<()> {
        if self.final_status() != PAID || self.final_at() < clock.now - 3 * DAY {
            return Ok(());
        }
        let paid = self.final_at();
        let wait = rng.range(30, 20 * MINUTE as u64) as i64;
        let enqueued = (paid + wait).min(clock.now - 1).max(paid);
        let warehouse = WAREHOUSES[warehouse_of(row.ship_city.as_deref())].0;
        sink.row(
            OpsTable::WmsQueue,
            &[
                Value::Str(row.channel),
                Value::Str(&row.order_id),
                Value::Str(warehouse),
                clock.time(enqueued),
            ],
        )
    }
}

/// `(updated_at, confirmed_at)` of an in-sync report of a step the platform
/// recorded at `at`: the platform itself at `at`, the others up to 2 s later;
/// every confirmation within `[at, at + 3]`, so no two in-sync systems are
/// more than the default 3 s tolerance apart.
fn in_step(rng: &mut Rng, at: i64, platform: bool) -> (i64, i64) {
    let delay = if platform { 0 } else { rng.below(3) as i64 };
    let confirm = rng.below((2.min(3 - delay) + 1) as u64) as i64;
    (at + delay, at + delay + confirm)
}

/// A system that reports order statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum System {
    Platform,
    Erp,
    Wms,
    Crm,
}

impl System {
    const ALL: [System; 4] = [System::Platform, System::Erp, System::Wms, System::Crm];

    pub(super) fn name(self) -> &'static str {
        match self {
            System::Platform => "platform",
            System::Erp => "erp",
            System::Wms => "wms",
            System::Crm => "crm",
        }
    }
}
