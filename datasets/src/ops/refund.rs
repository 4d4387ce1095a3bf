//! Refund applications and their approval trail.
//!
//! Every refunded order has one refund, applied for just before the
//! platform marked the order refunded; about 3% of signed orders get a
//! partial after-sale refund days later. Each refund walks the nodes of
//! [`NODES`]: `enter`, then usually `approve`; sometimes `reject` and a
//! later re-`enter` and `approve`, a supervisor's `manual` override, or a
//! `skip` with the reason in the note; `payout` ends with `complete`.
//! Dwell times are heavy-tailed and finance review is the slowest. Events
//! after now are not written, so the newest refunds are still open; and
//! about 10% of the refunds applied for in the last 5 days are stuck at a
//! node for 1–48 h before now, some escalated.

use crate::OrderRow;
use crate::Result;
use crate::output::Value;
use crate::rng::Rng;

use super::catalog::{CATEGORIES, Catalog, Line};
use super::lifecycle::{Lifecycle, REFUNDED, SIGNED};
use super::{Clock, DAY, HOUR, MINUTE, OpsTable, Sink, T_MEMBER, T_REFUND};

/// The default lifecycle template, in order; `customs_filing` only for
/// cross-border refunds.
pub(super) const NODES: [&str; 6] = [
    "apply",
    "risk_review",
    "warehouse_inspection",
    "finance_review",
    "customs_filing",
    "payout",
];
const APPLY: usize = 0;
const RISK: usize = 1;
const WAREHOUSE: usize = 2;
const FINANCE: usize = 3;
const CUSTOMS: usize = 4;
const PAYOUT: usize = 5;

/// `(role, actors)` deciding at each node of [`NODES`].
const DECIDERS: [(&str, &[&str]); 6] = [
    (
        "customer_service",
        &["客服小美", "客服阿杰", "客服小雨", "客服乐乐"],
    ),
    ("risk_officer", &["风控-周婷", "风控-孙浩"]),
    ("warehouse_clerk", &["仓管-刘洋", "仓管-吴刚", "仓管-郑凯"]),
    ("finance", &["财务-陈静", "财务-林涛"]),
    ("customs_broker", &["报关-何敏"]),
    ("finance", &["财务-陈静", "财务-林涛"]),
];
const SUPERVISORS: &[&str] = &["主管-王磊", "主管-赵倩"];
const SYSTEM: (&str, &str) = ("refund-bot", "system");

/// Dwell buckets per node, `(low s, high s, weight)`.
const DWELL: [&[(i64, i64, u32)]; 6] = [
    &[
        (MINUTE, 10 * MINUTE, 60),
        (10 * MINUTE, HOUR, 30),
        (HOUR, 4 * HOUR, 10),
    ],
    &[
        (MINUTE, 15 * MINUTE, 50),
        (15 * MINUTE, 3 * HOUR, 35),
        (3 * HOUR, 12 * HOUR, 12),
        (12 * HOUR, 36 * HOUR, 3),
    ],
    &[
        (10 * MINUTE, HOUR, 30),
        (HOUR, 8 * HOUR, 45),
        (8 * HOUR, 36 * HOUR, 20),
        (36 * HOUR, 3 * DAY, 3),
    ],
    &[
        (30 * MINUTE, 4 * HOUR, 30),
        (4 * HOUR, 16 * HOUR, 40),
        (16 * HOUR, 2 * DAY, 20),
        (2 * DAY, 4 * DAY, 4),
    ],
    &[(HOUR, 8 * HOUR, 50), (8 * HOUR, 2 * DAY, 50)],
    &[(30, 10 * MINUTE, 70), (10 * MINUTE, HOUR, 30)],
];

const REASONS_UNSHIPPED: &[&str] = &["不想要了", "拍错了", "未按约定时间发货", "价格变动"];
const REASONS_SHIPPED: &[&str] = &[
    "质量问题",
    "七天无理由",
    "发错货",
    "物流破损",
    "尺码不合适",
    "与描述不符",
];
const REASONS_AFTER_SALE: &[&str] = &["质量问题", "少件漏发", "物流破损", "价格保护"];
const REJECT_NOTES: &[&str] = &[
    "凭证不足，请补充照片",
    "商品已拆封影响二次销售",
    "退货单号无效",
];
const MANUAL_NOTES: &[&str] = &[
    "VIP客户，主管人工通过",
    "客诉升级，主管特批",
    "系统校验异常，人工放行",
];

const MEMBER_LEVELS: [&str; 4] = ["普通", "银卡", "金卡", "钻石"];

/// One event, its time relative to the refund's application.
#[derive(Debug, Clone, Copy)]
struct Event {
    node: usize,
    action: &'static str,
    actor: &'static str,
    role: &'static str,
    rel: i64,
    note: Option<&'static str>,
}

/// Numbers refunds and writes them with their events.
#[derive(Debug)]
pub(super) struct Refunds {
    clock: Clock,
    next_id: u64,
    events: Vec<Event>,
}

impl Refunds {
    pub(super) fn new(clock: Clock) -> Self {
        Self {
            clock,
            next_id: 1,
            events: Vec::with_capacity(16),
        }
    }

    /// Writes the refund of order number `i`, if it has one.
    pub(super) fn order<S: Sink>(
        &mut self,
        sink: &mut S,
        catalog: &Catalog,
        i: u64,
        row: &OrderRow,
        life: &Lifecycle,
        lines: &[Line],
    ) -> Result<()> {
        let now = self.clock.now;
        let mut rng = self.clock.stream(T_REFUND, i);
        let amount = row.amount_cents.max(1);
        let (requested, refund, reason) = match life.final_status() {
            REFUNDED => {
                // Applied for shortly before the platform marked the order
                // refunded, never before the previous step.
                let floor = life.previous().map_or(life.final_at(), |p| p.1);
                let requested = (life.final_at() - rng.below(120) as i64).max(floor);
                let refund = if rng.chance(0.85) {
                    amount
                } else {
                    partial(&mut rng, amount, lines)
                };
                let reasons = if life.shipped() {
                    REASONS_SHIPPED
                } else {
                    REASONS_UNSHIPPED
                };
                (requested, refund, *rng.pick(reasons))
            }
            SIGNED if rng.chance(0.03) => {
                let requested = life.final_at() + rng.range(HOUR as u64, 10 * DAY as u64) as i64;
                if requested > now - 10 * MINUTE {
                    return Ok(());
                }
                (
                    requested,
                    partial(&mut rng, amount, lines),
                    *rng.pick(REASONS_AFTER_SALE),
                )
            }
            _ => return Ok(()),
        };
        let cross_border = rng.chance(if row.channel == "shopify" { 0.85 } else { 0.04 });
        let level = {
            let mut member = self.clock.stream(T_MEMBER, row.person as u64);
            MEMBER_LEVELS[member.weighted(&[60, 25, 11, 4])]
        };
        let id = format!("RF{:08}", self.next_id);
        self.next_id += 1;
        let category = lines
            .first()
            .map(|l| CATEGORIES[catalog.skus[l.sku].category].0);
        sink.row(
            OpsTable::Refunds,
            &[
                Value::Str(&id),
                Value::Str(row.channel),
                Value::Str(&row.order_id),
                self.clock.time(requested),
                Value::Amount(refund),
                Value::Str(reason),
                category.map_or(Value::Null, Value::Str),
                Value::Str(level),
                Value::Bool(cross_border),
            ],
        )?;
        let skip_warehouse = if !life.shipped() {
            Some("未发货，无需验货")
        } else if refund < 100 * 100 {
            Some("小额免检")
        } else {
            None
        };
        self.plan(&mut rng, cross_border, skip_warehouse);
        self.stick(&mut rng, requested);
        for e in &self.events {
            let at = requested + e.rel;
            if at > now {
                break;
            }
            sink.row(
                OpsTable::RefundEvents,
                &[
                    Value::Str(&id),
                    Value::Str(NODES[e.node]),
                    Value::Str(e.action),
                    Value::Str(e.actor),
                    Value::Str(e.role),
                    self.clock.time(at),
                    e.note.map_or(Value::Null, Value::Str),
                ],
            )?;
        }
        Ok(())
    }

    /// The refund's events from application to payout, relative times.
    fn plan(&mut self, rng: &mut Rng, cross_border: bool, skip_warehouse: Option<&'static str>) {
        self.events.clear();
        let mut t = 0;
        for (node, &(role, actors)) in DECIDERS.iter().enumerate() {
            if node == CUSTOMS && !cross_border {
                continue;
            }
            let push = |events: &mut Vec<Event>, action, (actor, role), rel, note| {
                events.push(Event {
                    node,
                    action,
                    actor,
                    role,
                    rel,
                    note,
                })
            };
            push(&mut self.events, "enter", SYSTEM, t, None);
            let decider = (*rng.pick(actors), role);
            t += dwell(rng, node);
            match node {
                PAYOUT => push(&mut self.events, "complete", decider, t, None),
                WAREHOUSE if skip_warehouse.is_some() => {
                    // A skip is decided by rule at once, not after a dwell.
                    t = self.events[self.events.len() - 1].rel + rng.range(1, 30) as i64;
                    push(&mut self.events, "skip", SYSTEM, t, skip_warehouse);
                }
                RISK | WAREHOUSE | FINANCE if rng.chance(0.05) => {
                    push(
                        &mut self.events,
                        "reject",
                        decider,
                        t,
                        Some(*rng.pick(REJECT_NOTES)),
                    );
                    // The buyer resubmits; the node is entered again.
                    t += rng.range(HOUR as u64, DAY as u64) as i64;
                    push(&mut self.events, "enter", SYSTEM, t, None);
                    t += dwell(rng, node);
                    push(&mut self.events, "approve", decider, t, None);
                }
                _ if rng.chance(0.02) => {
                    let supervisor = (*rng.pick(SUPERVISORS), "supervisor");
                    push(
                        &mut self.events,
                        "manual",
                        supervisor,
                        t,
                        Some(*rng.pick(MANUAL_NOTES)),
                    );
                }
                _ => push(&mut self.events, "approve", decider, t, None),
            }
            t += rng.below(30) as i64;
        }
    }

    /// Leaves a refund applied for in the last 5 days stuck at a node with
    /// 10% probability: it entered the node 1–48 h before now and nothing
    /// decided it since, except escalations. A refund that would reach the
    /// node later gets there sooner (its earlier events compressed); one
    /// that would reach it earlier waited longer at the node before.
    fn stick(&mut self, rng: &mut Rng, requested: i64) {
        let now = self.clock.now;
        if requested < now - 5 * DAY || !rng.chance(0.1) {
            return;
        }
        // The window, relative to the application.
        let (lo, hi) = (now - 48 * HOUR - requested, now - HOUR - requested);
        // Entries after the application at which a refund can stall.
        let entries: Vec<usize> = (1..self.events.len())
            .filter(|&k| self.events[k].action == "enter" && self.events[k].node != APPLY)
            .collect();
        if entries.is_empty() {
            return;
        }
        let k = *rng.weighted_by(
            &entries,
            |&k| {
                if self.events[k].node == FINANCE { 4 } else { 1 }
            },
        );
        let span = self.events[k].rel;
        let earliest = lo.max(k as i64 * MINUTE);
        if earliest > hi {
            return;
        }
        let since = if (earliest..=hi).contains(&span) {
            span
        } else {
            rng.range(earliest as u64, hi as u64) as i64
        };
        if span > since {
            for e in &mut self.events[..k] {
                e.rel = (e.rel as i128 * since as i128 / span as i128) as i64;
            }
        } else {
            // The decision that let the refund on comes later.
            self.events[k - 1].rel += since - span;
        }
        let stuck = self.events[k];
        self.events.truncate(k);
        self.events.push(Event {
            rel: since,
            ..stuck
        });
        if rng.chance(0.4) {
            return;
        }
        for (hours, note) in [
            (2, "停留超过2小时，升级至组长"),
            (4, "停留超过4小时，升级至财务总监"),
            (24, "停留超过24小时，已转工单"),
        ] {
            let rel = since + hours * HOUR + rng.below(600) as i64;
            if requested + rel > now {
                break;
            }
            self.events.push(Event {
                node: stuck.node,
                action: "escalate",
                actor: SYSTEM.0,
                role: SYSTEM.1,
                rel,
                note: Some(note),
            });
        }
    }
}

/// Heavy-tailed time a refund spends at `node`.
fn dwell(rng: &mut Rng, node: usize) -> i64 {
    let (lo, hi, _) = *rng.weighted_by(DWELL[node], |b| b.2);
    rng.range(lo as u64, hi as u64) as i64
}

/// A partial refund: one line's price, or 10–50% of the amount; always
/// less than `amount` unless the order is a single fen.
fn partial(rng: &mut Rng, amount: i64, lines: &[Line]) -> i64 {
    let one_line = lines.len() > 1 && rng.chance(0.5);
    let refund = if one_line {
        lines[rng.index(lines.len())].unit_price
    } else {
        amount * rng.range(10, 50) as i64 / 100
    };
    refund.clamp(1, amount)
}
