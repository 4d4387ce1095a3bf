//! The operational input tables that go with a generated [`Dataset`]: order
//! lines, each system's status reports, refunds and their approval trail,
//! stock, inbound purchase orders, suppliers, buyer accounts and browsing,
//! platform credentials, the warehouse queue and e-mail deliverability.
//!
//! Everything is derived from the orders and [`GenConfig`] alone, through
//! the crate's seeded streams under tags of its own, so the orders stay
//! byte-for-byte what [`crate::generate`] makes and each table is a pure
//! function of the config. Rows stream to a [`Sink`] (CSV files for
//! [`write_ops_csv`]) in two independent passes over the orders; only
//! per-SKU, per-account and per-warehouse state is kept.
//!
//! Each table carries the traps the analytics views look for: systems that
//! drift apart ([`lifecycle`]), refunds stuck at a node ([`refund`]), stock
//! that needs reordering ([`stock`]), accounts opened minutes before a big
//! first order ([`buyers`]) and credentials about to expire ([`catalog`]).
//! "Now" for those views is [`GenConfig::report_now`], the horizon's end.

mod buyers;
mod catalog;
mod lifecycle;
mod refund;
mod stock;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset, TimeDelta};
use ordergraph_tables::{ColumnDef, TableDef};

use crate::output::{Value, create, write_csv_value};
use crate::rng::Rng;
use crate::{Dataset, Error, GenConfig, Result};

use buyers::Buyers;
use catalog::Catalog;
use lifecycle::Lifecycle;
use refund::Refunds;
use stock::Sales;

// Stream tags of this module; the orders' own phases use 1..=8.
const T_CATALOG: u64 = 101;
const T_LINES: u64 = 102;
const T_STATUS: u64 = 103;
const T_REFUND: u64 = 104;
const T_ACCOUNT: u64 = 105;
const T_BROWSE: u64 = 106;
const T_QUEUE: u64 = 107;
const T_EMAIL: u64 = 108;
const T_STOCK: u64 = 109;
const T_CREDENTIALS: u64 = 110;
const T_MEMBER: u64 = 111;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// One operational input table, written to the engine's contract for the
/// table of the same name ([`OpsTable::contract`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpsTable {
    /// `order_lines`: 1–4 lines per order summing to its amount.
    OrderLines,
    /// `status_events`: each system's report of an order's status.
    StatusEvents,
    /// `system_owners`: the team answering for each system.
    SystemOwners,
    /// `refunds`: refund applications.
    Refunds,
    /// `refund_events`: the approval trail of each refund.
    RefundEvents,
    /// `inventory`: stock per SKU and warehouse, as of a snapshot.
    Inventory,
    /// `inbound`: purchase orders on their way.
    Inbound,
    /// `suppliers`: who supplies each SKU.
    Suppliers,
    /// `products`: each SKU's product name and category.
    Products,
    /// `purchase_confirmations`: suppliers confirming reorder requests.
    PurchaseConfirmations,
    /// `accounts`: when each buyer account was registered.
    Accounts,
    /// `browse_events`: buyers browsing before they order.
    BrowseEvents,
    /// `credentials`: platform API credentials.
    Credentials,
    /// `wms_queue`: paid orders waiting in a warehouse queue.
    WmsQueue,
    /// `warehouses`: warehouse throughput.
    Warehouses,
    /// `email_status`: deliverability of buyers' e-mails.
    EmailStatus,
}

impl OpsTable {
    /// Every table, in the order they are written.
    pub const ALL: [OpsTable; 16] = [
        OpsTable::OrderLines,
        OpsTable::StatusEvents,
        OpsTable::SystemOwners,
        OpsTable::Refunds,
        OpsTable::RefundEvents,
        OpsTable::Inventory,
        OpsTable::Inbound,
        OpsTable::Suppliers,
        OpsTable::Products,
        OpsTable::PurchaseConfirmations,
        OpsTable::Accounts,
        OpsTable::BrowseEvents,
        OpsTable::Credentials,
        OpsTable::WmsQueue,
        OpsTable::Warehouses,
        OpsTable::EmailStatus,
    ];

    /// The table's name, which is also its file stem.
    pub fn name(self) -> &'static str {
        match self {
            OpsTable::OrderLines => "order_lines",
            OpsTable::StatusEvents => "status_events",
            OpsTable::SystemOwners => "system_owners",
            OpsTable::Refunds => "refunds",
            OpsTable::RefundEvents => "refund_events",
            OpsTable::Inventory => "inventory",
            OpsTable::Inbound => "inbound",
            OpsTable::Suppliers => "suppliers",
            OpsTable::Products => "products",
            OpsTable::PurchaseConfirmations => "purchase_confirmations",
            OpsTable::Accounts => "accounts",
            OpsTable::BrowseEvents => "browse_events",
            OpsTable::Credentials => "credentials",
            OpsTable::WmsQueue => "wms_queue",
            OpsTable::Warehouses => "warehouses",
            OpsTable::EmailStatus => "email_status",
        }
    }

    /// The engine's contract for the table: its columns are the CSV header,
    /// in the order every row gives its values.
    pub fn contract(self) -> &'static TableDef {
        ordergraph_tables::table(self.name()).expect("every generated table has a contract")
    }

    /// The table's columns, in the order every row gives its values.
    pub fn columns(self) -> &'static [ColumnDef] {
        self.contract().columns
    }

    /// The CSV header row.
    pub fn header(self) -> String {
        let names: Vec<&str> = self.columns().iter().map(|c| c.name).collect();
        names.join(",")
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl GenConfig {
    /// The report time ("now") of the analytics over this dataset: the end
    /// of the order horizon, in the configured offset. Stuck refunds,
    /// expiring credentials and stock snapshots are placed relative to it.
    pub fn report_now(&self) -> DateTime<FixedOffset> {
        self.start + TimeDelta::days(self.horizon_days() as i64)
    }
}

/// Receives the generated rows, table by table; `values` follow
/// [`OpsTable::columns`].
pub(crate) trait Sink {
    fn row(&mut self, table: OpsTable, values: &[Value<'_>]) -> Result<()>;
}

/// Writes tables to `<dir>/<table>.csv`, each with a header row.
struct CsvSink {
    /// Indexed by [`OpsTable::index`]; `None` for tables of the other pass.
    writers: Vec<Option<BufWriter<File>>>,
    rows: [u64; OpsTable::ALL.len()],
}

impl CsvSink {
    fn create(dir: &Path, tables: &[OpsTable]) -> Result<Self> {
        let mut writers: Vec<Option<BufWriter<File>>> =
            OpsTable::ALL.iter().map(|_| None).collect();
        for table in tables {
            let mut w = create(&dir.join(format!("{}.csv", table.name())))?;
            w.write_all(table.header().as_bytes())?;
            w.write_all(b"\n")?;
            writers[table.index()] = Some(w);
        }
        Ok(Self {
            writers,
            rows: [0; OpsTable::ALL.len()],
        })
    }

    /// Flushes the files; the rows written per table, in `tables` order.
    fn finish(self, tables: &[OpsTable]) -> Result<Vec<(OpsTable, u64)>> {
        for mut w in self.writers.into_iter().flatten() {
            w.flush()?;
        }
        Ok(tables.iter().map(|t| (*t, self.rows[t.index()])).collect())
    }
}

impl Sink for CsvSink {
    fn row(&mut self, table: OpsTable, values: &[Value<'_>]) -> Result<()> {
        debug_assert_eq!(values.len(), table.columns().len());
        let Some(w) = &mut self.writers[table.index()] else {
            return Err(Error::InvalidArgument(format!(
                "{} is written by the other pass",
                table.name()
            )));
        };
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_csv_value(w, v)?;
        }
        w.write_all(b"\n")?;
        self.rows[table.index()] += 1;
        Ok(())
    }
}

/// The tables [`status_pass`] writes: the largest one and the buyers'
/// tables (whose account lookups miss the cache on every order), balanced
/// against all the others in [`goods_pass`].
const STATUS_TABLES: [OpsTable; 5] = [
    OpsTable::StatusEvents,
    OpsTable::WmsQueue,
    OpsTable::Accounts,
    OpsTable::BrowseEvents,
    OpsTable::EmailStatus,
];

/// Generates every operational table for `dataset`, which must be
/// `generate(cfg)`, into `<dir>/<table>.csv` (the directory must exist).
/// Returns the rows written per table, in [`OpsTable::ALL`] order.
///
/// The two passes over the orders run on two threads; each table's rows
/// come from one pass, so the files do not depend on the scheduling.
pub fn write_ops_csv(
    cfg: &GenConfig,
    dataset: &Dataset,
    dir: &Path,
) -> Result<Vec<(OpsTable, u64)>> {
    let goods_tables: Vec<OpsTable> = OpsTable::ALL
        .into_iter()
        .filter(|t| !STATUS_TABLES.contains(t))
        .collect();
    let (status, goods) = std::thread::scope(|scope| {
        let status = scope.spawn(|| {
            let mut sink = CsvSink::create(dir, &STATUS_TABLES)?;
            status_pass(cfg, dataset, &mut sink)?;
            sink.finish(&STATUS_TABLES)
        });
        let goods = CsvSink::create(dir, &goods_tables).and_then(|mut sink| {
            goods_pass(cfg, dataset, &mut sink)?;
            sink.finish(&goods_tables)
        });
        let status = status
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (status, goods)
    });
    let written: Vec<(OpsTable, u64)> = status?.into_iter().chain(goods?).collect();
    Ok(OpsTable::ALL
        .iter()
        .filter_map(|t| written.iter().find(|w| w.0 == *t).copied())
        .collect())
}

/// What every table's generator needs to know about the dataset's clock.
#[derive(Debug, Clone, Copy)]
struct Clock {
    seed: u64,
    /// UTC offset of every written time, in seconds.
    offset: i32,
    /// Report time, Unix seconds.
    now: i64,
}

impl Clock {
    fn new(cfg: &GenConfig) -> Self {
        Self {
            seed: cfg.seed,
            offset: cfg.start.offset().local_minus_utc(),
            now: cfg.report_now().timestamp(),
        }
    }

    fn time(&self, unix: i64) -> Value<'static> {
        Value::Time(unix, self.offset)
    }

    fn stream(&self, tag: u64, index: u64) -> Rng {
        Rng::stream(self.seed, tag, index)
    }
}

/// Generates every operational table for `dataset` (= `generate(cfg)`) into
/// `sink`, one pass after the other.
#[cfg(test)]
pub(crate) fn generate_ops<S: Sink>(
    cfg: &GenConfig,
    dataset: &Dataset,
    sink: &mut S,
) -> Result<()> {
    status_pass(cfg, dataset, sink)?;
    goods_pass(cfg, dataset, sink)
}

/// `status_events` and `wms_queue` from each order's lifecycle, and the
/// buyers' `accounts`, `browse_events` and `email_status`.
fn status_pass<S: Sink>(cfg: &GenConfig, dataset: &Dataset, sink: &mut S) -> Result<()> {
    let clock = Clock::new(cfg);
    let mut buyers = Buyers::new(clock, dataset.rows.len());
    for (i, row) in dataset.rows.iter().enumerate() {
        let i = i as u64;
        let mut rng = clock.stream(T_STATUS, i);
        let life = Lifecycle::of(&mut rng, row, clock.now);
        life.write_status_events(sink, clock, row, &mut rng)?;
        life.write_queue(sink, clock, row, &mut clock.stream(T_QUEUE, i))?;
        buyers.order(sink, i, row)?;
    }
    Ok(())
}

/// Every other table: order lines and refunds in one pass over the orders,
/// then the tables that sum it up (stock) or stand apart from it (the
/// catalog's).
fn goods_pass<S: Sink>(cfg: &GenConfig, dataset: &Dataset, sink: &mut S) -> Result<()> {
    let clock = Clock::new(cfg);
    let catalog = Catalog::new(&mut clock.stream(T_CATALOG, 0));
    let mut sales = Sales::new(clock.now, catalog.skus.len());
    let mut refunds = Refunds::new(clock);
    let mut lines = Vec::with_capacity(4);
    for (i, row) in dataset.rows.iter().enumerate() {
        let i = i as u64;
        catalog.lines(&mut clock.stream(T_LINES, i), row.amount_cents, &mut lines);
        for line in &lines {
            sink.row(
                OpsTable::OrderLines,
                &[
                    Value::Str(row.channel),
                    Value::Str(&row.order_id),
                    Value::Str(&catalog.skus[line.sku].id),
                    Value::Int(line.qty),
                    Value::Amount(line.unit_price),
                ],
            )?;
        }
        // The same stream as the status pass's: the same lifecycle.
        let life = Lifecycle::of(&mut clock.stream(T_STATUS, i), row, clock.now);
        sales.add(row, &life, &lines);
        refunds.order(sink, &catalog, i, row, &life, &lines)?;
    }
    catalog.write(sink, clock)?;
    stock::write(sink, clock, &catalog, &sales)
}
