//! Stock: `inventory` snapshots per SKU and warehouse, `inbound` purchase
//! orders, and `purchase_confirmations` of the reorder requests the low
//! stock calls for.
//!
//! Stock follows each SKU's sales over the last 7 days: normally enough
//! for the supplier's lead time, the safety days and weeks more, counted at
//! the SKU's peak daily sales; a handful of SKUs are low enough to need
//! reordering (one below zero, one at zero). The latest snapshot is two
//! hours before now, except at one warehouse that counted two days earlier;
//! one a day older precedes each. Reorder requests are named as the views
//! name them, `PR-<sku>-<warehouse>-<UTC yyyymmdd of the latest snapshot>`,
//! and suppliers confirmed some of them.

use chrono::DateTime;

use crate::OrderRow;
use crate::Result;
use crate::output::Value;
use crate::rng::Rng;

use super::catalog::{Catalog, Line, WAREHOUSES};
use super::lifecycle::{CANCELLED, CREATED, Lifecycle};
use super::{Clock, DAY, HOUR, MINUTE, OpsTable, Sink, T_STOCK};

/// Days of sales history kept per SKU.
const HISTORY_DAYS: usize = 7;

/// The views' default safety days on top of the lead time.
const SAFETY_DAYS: i64 = 3;

/// Units sold per SKU per day over the last [`HISTORY_DAYS`] days.
#[derive(Debug)]
pub(super) struct Sales {
    now: i64,
    /// `units[sku][d]`: units sold `d` whole days before now.
    units: Vec<[i64; HISTORY_DAYS]>,
}

impl Sales {
    pub(super) fn new(now: i64, skus: usize) -> Self {
        Self {
            now,
            units: vec![[0; HISTORY_DAYS]; skus],
        }
    }

    /// Counts the lines of an order that was not cancelled or left unpaid.
    pub(super) fn add(&mut self, row: &OrderRow, life: &Lifecycle, lines: &[Line]) {
        let age = (self.now - row.ordered_at.timestamp()) / DAY;
        if !(0..HISTORY_DAYS as i64).contains(&age)
            || matches!(life.final_status(), CREATED | CANCELLED)
        {
            return;
        }
        for l in lines {
            self.units[l.sku][age as usize] += l.qty;
        }
    }

    fn peak(&self, sku: usize) -> i64 {
        self.units[sku].iter().copied().max().unwrap_or(0)
    }

    fn total(&self, sku: usize) -> i64 {
        self.units[sku].iter().sum()
    }
}

/// How many selling SKUs run low.
const LOW_SKUS: usize = 12;

/// The low SKU (by position) whose purchase order due within a day covers
/// it: low, yet no reorder request.
const COVERED_LOW: usize = 3;

/// The warehouse that counts stock less often: its latest snapshot is two
/// days older than the others', so its reorder requests are past the
/// suppliers' 48 h to confirm by now.
const STALE_WAREHOUSE: usize = 2;

/// A stocked SKU×warehouse pair and its latest count.
#[derive(Debug, Clone, Copy)]
struct Stock {
    sku: usize,
    warehouse: usize,
    available: i64,
    /// Position among the low SKUs, if this one runs low.
    low: Option<usize>,
}

/// When `warehouse` last counted its stock.
fn snapshot_at(clock: Clock, warehouse: usize) -> i64 {
    let age = if warehouse == STALE_WAREHOUSE {
        50 * HOUR
    } else {
        2 * HOUR
    };
    clock.now - age
}

pub(super) fn write<S: Sink>(
    sink: &mut S,
    clock: Clock,
    catalog: &Catalog,
    sales: &Sales,
) -> Result<()> {
    let mut rng = clock.stream(T_STOCK, 0);
    // The views credit a SKU's sales to its home warehouse (the one holding
    // most of it), so a SKU that runs low is stocked in one warehouse only.
    let mut low_skus: Vec<usize> = (0..catalog.skus.len())
        .filter(|&sku| sales.total(sku) >= 2 * HISTORY_DAYS as i64)
        .collect();
    rng.shuffle(&mut low_skus);
    low_skus.truncate(LOW_SKUS);
    let mut stock = Vec::new();
    for (sku, item) in catalog.skus.iter().enumerate() {
        let peak = sales.peak(sku);
        if let Some(k) = low_skus.iter().position(|&s| s == sku) {
            let available = match k {
                0 => -(rng.range(1, 8) as i64),
                1 => 0,
                // A third of the average sales over up to the lead time:
                // under the lead time's cover at any velocity near it.
                _ => {
                    let days = rng.range(1, item.lead_time_days as u64 - 1) as i64;
                    sales.total(sku) * days / (3 * HISTORY_DAYS as i64)
                }
            };
            stock.push(Stock {
                sku,
                warehouse: k % WAREHOUSES.len(),
                available,
                low: Some(k),
            });
            continue;
        }
        // Best sellers are everywhere, the rest in some warehouses; each
        // holds weeks of the SKU's peak daily sales beyond the lead time.
        let mut stocked: Vec<usize> = (0..WAREHOUSES.len())
            .filter(|_| peak >= 20 || rng.chance(0.6))
            .collect();
        if stocked.is_empty() {
            stocked.push(rng.index(WAREHOUSES.len()));
        }
        for warehouse in stocked {
            let available = if peak == 0 {
                rng.range(20, 800) as i64
            } else {
                let days = item.lead_time_days + SAFETY_DAYS + rng.range(10, 40) as i64;
                (peak + 2) * days + rng.below(50) as i64
            };
            stock.push(Stock {
                sku,
                warehouse,
                available,
                low: None,
            });
        }
    }
    // The snapshot a day before each warehouse's latest had a day's more
    // stock.
    for day_before in [1, 0] {
        for s in &stock {
            sink.row(
                OpsTable::Inventory,
                &[
                    Value::Str(&catalog.skus[s.sku].id),
                    Value::Str(WAREHOUSES[s.warehouse].0),
                    Value::Int(s.available + sales.peak(s.sku) * day_before),
                    clock.time(snapshot_at(clock, s.warehouse) - day_before * DAY),
                ],
            )?;
        }
    }
    write_inbound(sink, clock, catalog, sales, &stock, &mut rng)?;
    write_confirmations(sink, clock, catalog, &stock, &mut rng)
}

/// When a purchase order is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Within the next 24 h.
    Soon,
    /// Exactly at now + 24 h, which the views still count as within.
    InADay,
    /// Later than 24 h from now.
    Later,
}

/// Purchase orders: for about a third of the normal pairs (due soon or
/// later, three exactly in a day) and half the low ones (due later, too
/// late to help), plus one due soon that covers [`COVERED_LOW`]'s needs,
/// so its low stock calls for no request.
fn write_inbound<S: Sink>(
    sink: &mut S,
    clock: Clock,
    catalog: &Catalog,
    sales: &Sales,
    stock: &[Stock],
    rng: &mut Rng,
) -> Result<()> {
    let mut orders: Vec<(&Stock, Due)> = Vec::new();
    for s in stock {
        let due = match s.low {
            Some(COVERED_LOW) => Some(Due::Soon),
            Some(_) => rng.chance(0.5).then_some(Due::Later),
            None if rng.chance(0.3) => Some(if rng.chance(0.4) {
                Due::Soon
            } else {
                Due::Later
            }),
            None => None,
        };
        orders.extend(due.map(|d| (s, d)));
    }
    let mut normal: Vec<usize> = (0..orders.len())
        .filter(|&n| orders[n].0.low.is_none())
        .collect();
    rng.shuffle(&mut normal);
    for &n in normal.iter().take(3) {
        orders[n].1 = Due::InADay;
    }
    for (n, (s, due)) in orders.into_iter().enumerate() {
        let expected = match due {
            Due::Soon => clock.now + rng.range(HOUR as u64, 23 * HOUR as u64) as i64,
            Due::InADay => clock.now + DAY,
            Due::Later => clock.now + rng.range(25 * HOUR as u64, 20 * DAY as u64) as i64,
        };
        let sku = &catalog.skus[s.sku];
        let lots = if s.low == Some(COVERED_LOW) {
            // Twice the stock the lead time and safety days want.
            let want =
                sales.total(s.sku) * (sku.lead_time_days + SAFETY_DAYS) * 2 / HISTORY_DAYS as i64;
            want / sku.min_order_qty + 1
        } else {
            rng.range(1, 4) as i64
        };
        sink.row(
            OpsTable::Inbound,
            &[
                Value::Owned(format!("PO-{:06}", n + 1)),
                Value::Str(&sku.id),
                Value::Str(WAREHOUSES[s.warehouse].0),
                Value::Int(sku.min_order_qty * lots),
                clock.time(expected),
            ],
        )?;
    }
    Ok(())
}

/// Suppliers' confirmations of the low pairs' reorder requests. Low SKUs
/// come in runs of four, one per warehouse: the first and third runs'
/// requests are confirmed within the two hours before now (except the
/// covered one's, which is never made), the second's not; at the stale
/// warehouse the first is confirmed in time, the second late (past the
/// 48 h) and the third not at all.
fn write_confirmations<S: Sink>(
    sink: &mut S,
    clock: Clock,
    catalog: &Catalog,
    stock: &[Stock],
    rng: &mut Rng,
) -> Result<()> {
    let mut low: Vec<(usize, &Stock)> =
        stock.iter().filter_map(|s| s.low.map(|k| (k, s))).collect();
    low.sort_unstable_by_key(|l| l.0);
    for (k, s) in low {
        let requested = snapshot_at(clock, s.warehouse);
        let confirmed = if s.warehouse == STALE_WAREHOUSE {
            match k / WAREHOUSES.len() {
                0 => requested + rng.range(2 * HOUR as u64, 40 * HOUR as u64) as i64,
                1 => requested + 48 * HOUR + rng.range(10 * MINUTE as u64, HOUR as u64) as i64,
                _ => continue,
            }
        } else if k != COVERED_LOW && (k / WAREHOUSES.len()).is_multiple_of(2) {
            requested + rng.range(10 * MINUTE as u64, 110 * MINUTE as u64) as i64
        } else {
            continue;
        };
        let sku = &catalog.skus[s.sku];
        let date = DateTime::from_timestamp(requested, 0)
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default();
        sink.row(
            OpsTable::PurchaseConfirmations,
            &[
                Value::Owned(format!(
                    "PR-{}-{}-{date}",
                    sku.id, WAREHOUSES[s.warehouse].0
                )),
                Value::Str(&sku.supplier),
                clock.time(confirmed.min(clock.now)),
            ],
        )?;
    }
    Ok(())
}
