//! The orders table: every version ever accepted, the current version of
//! each order, the durable log they are replayed from, and the identity graph
//! fed by them.
//!
//! Each accepted ingest becomes one *segment*: an Arrow batch of the new
//! versions (the input columns plus `version` and `arrived_at`), written to
//! the log and fsync'd before it is applied. `order_versions` is all
//! segments; `orders` is, per segment, the rows still current, with the MCID
//! attached at read time so that a merge shows in every query at once.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
    UInt32Array,
};
use datafusion::arrow::compute::{concat_batches, filter_record_batch, take_record_batch};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::row::{RowConverter, SortField};
use ordergraph_udfs::mcid_bytes;
use roaring::RoaringBitmap;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::codec::{DecodeResult, Reader, Writer};
use crate::identity::{ApplyStats, IdentityConfig, IdentityGraph, NONE};
use crate::key_index::KeyIndex;
use crate::log::BatchLog;
use crate::normalizer::Normalizing;
use crate::table::{ORDERS, orders_col as c, timestamp_type};
use crate::{Error, Result};

/// How many keys ahead of the one being looked up (or inserted) its index
/// slot is prefetched: far enough for the cache miss to arrive in time.
const PREFETCH_AHEAD: usize = 16;

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    /// Rows received.
    pub rows: usize,
    /// Orders seen for the first time.
    pub inserted: usize,
    /// Rows that changed an existing order (a new version).
    pub updated: usize,
    /// Rows identical to the order's current version.
    pub unchanged: usize,
}

/// The schema of `order_versions`: the input columns, `version`, `arrived_at`.
pub fn versions_schema() -> SchemaRef {
    let mut fields: Vec<Field> = ORDERS
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("version", DataType::UInt32, false));
    fields.push(Field::new("arrived_at", timestamp_type(), false));
    Arc::new(Schema::new(fields))
}

/// The schema of `orders`: the input columns and `mcid`.
pub fn orders_schema() -> SchemaRef {
    let mut fields: Vec<Field> = ORDERS
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("mcid", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

#[derive(Debug)]
struct Segment {
    /// Rows in [`versions_schema`].
    batch: RecordBatch,
    /// Dense order number of each row.
    orders: Vec<u32>,
    /// Rows superseded by a later version.
    dead: RoaringBitmap,
    /// The current rows with MCIDs, until a row dies or an MCID changes.
    current: Mutex<Option<RecordBatch>>,
}

impl Segment {
    fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// An ingest checked against the current state, ready to be logged and applied.
#[derive(Debug)]
pub struct Prepared {
    /// Accepted rows in [`versions_schema`]; `None` if nothing changed.
    batch: Option<RecordBatch>,
    /// Order number per accepted row.
    orders: Vec<u32>,
    /// Keys of orders seen for the first time, with their numbers.
    new_keys: Vec<(u64, u32)>,
    /// Identity input for the last accepted version of each order, being
    /// normalized; `None` if nothing changed.
    identity: Option<Normalizing>,
    arrived_at: i64,
    /// Counts for the caller.
    pub report: IngestReport,
    /// What happened to each input row, for the reports of requests
    /// committed together.
    outcomes: Vec<RowOutcome>,
}

/// What an ingest did with one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowOutcome {
    Unchanged,
    Inserted,
    Updated,
}

/// What happened to each input row of a prepared ingest.
#[derive(Debug, Default)]
pub struct RowReports {
    outcomes: Vec<RowOutcome>,
}

impl Prepared {
    /// Takes the per-row outcomes, for requests committed together.
    pub fn take_row_reports(&mut self) -> RowReports {
        RowReports {
            outcomes: std::mem::take(&mut self.outcomes),
        }
    }
}

impl RowReports {
    /// The report of the input rows in `rows` alone.
    pub fn report_for(&self, rows: std::ops::Range<usize>) -> IngestReport {
        let mut report = IngestReport {
            rows: rows.len(),
            ..Default::default()
        };
        for outcome in &self.outcomes[rows] {
            match outcome {
                RowOutcome::Unchanged => report.unchanged += 1,
                RowOutcome::Inserted => report.inserted += 1,
                RowOutcome::Updated => report.updated += 1,
            }
        }
        report
    }
}

/// The orders table and its identity graph.
#[derive(Debug)]
pub struct OrderStore {
    log: Arc<BatchLog>,
    segments: Vec<Segment>,
    index: OrderIndex,
    /// Number of distinct orders.
    order_count: usize,
    /// Order -> (segment, row) of its current version.
    location: Vec<(u32, u32)>,
    /// Order -> versions accepted.
    versions: Vec<u32>,
    graph: IdentityGraph,
}

/// Format version of the encoded store state; bump on any layout change.
/// A version 1 state also holds a content hash per order, read and dropped.
const STATE_VERSION: u8 = 2;

/// The order store's part of a checkpoint being loaded.
#[derive(Debug)]
pub(crate) struct StoreCheckpoint {
    /// The checkpoint directory, for error messages.
    pub(crate) path: std::path::PathBuf,
    /// The last log file it covers.
    pub(crate) log_seq: u64,
    /// Every version, in arrival order.
    pub(crate) versions: RecordBatch,
    /// The encoded index and identity graph; `None` when the identity
    /// configuration changed since, and the orders must be resolved again.
    pub(crate) state: Option<Vec<u8>>,
}

/// Where the orders' log lives under the data directory.
fn log_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("orders").join("log")
}

/// Splits versions into the runs that arrived together (one ingest each).
fn arrival_runs(versions: &RecordBatch) -> Vec<RecordBatch> {
    let arrived = versions
        .column(ORDERS.columns.len() + 1)
        .as_primitive::<TimestampMicrosecondType>()
        .values();
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=arrived.len() {
        if i == arrived.len() || arrived[i] != arrived[start] {
            runs.push(versions.slice(start, i - start));
            start = i;
        }
    }
    runs
}

/// The key of `(channel, order_id)`: xxh3 of `channel 0x1f order_id`, built
/// on the stack (the streaming hasher costs more than the hash).
fn key_hash(channel: &str, order_id: &str) -> u64 {
    let (c, o) = (channel.as_bytes(), order_id.as_bytes());
    let mut buf = [0u8; 128];
    let len = c.len() + 1 + o.len();
    if len > buf.len() {
        let mut h = Xxh3::new();
        h.update(c);
        h.update(&[0x1f]);
        h.update(o);
        return h.digest();
    }
    buf[..c.len()].copy_from_slice(c);
    buf[c.len()] = 0x1f;
    buf[c.len() + 1..len].copy_from_slice(o);
    xxh3_64(&buf[..len])
}

/// [`key_hash`] of every row of an input, on all cores for large inputs.
/// Keys are laid out in a block buffer and hashed after the whole block is
/// written: hashing a key right after copying it into a small buffer stalls
/// on store forwarding.
fn key_hashes(channels: &StringArray, order_ids: &StringArray) -> Vec<u64> {
    const BLOCK: usize = 256;
    crate::parallel::map_ranges(channels.len(), 50_000, |rows| {
        let mut keys = Vec::with_capacity(rows.len());
        let mut buf = Vec::new();
        let mut ends = Vec::with_capacity(BLOCK);
        for first in rows.clone().step_by(BLOCK) {
            buf.clear();
            ends.clear();
            for row in first..(first + BLOCK).min(rows.end) {
                buf.extend_from_slice(channels.value(row).as_bytes());
                buf.push(0x1f);
                buf.extend_from_slice(order_ids.value(row).as_bytes());
                ends.push(buf.len());
            }
            let mut start = 0;
            for &end in &ends {
                keys.push(xxh3_64(&buf[start..end]));
                start = end;
            }
        }
        keys
    })
}

/// An order seen earlier in the same input, at its latest accepted version.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Position of that version among the accepted rows.
    position: u32,
    order: u32,
    version: u32,
}

/// The orders of one input by key hash. Entries whose keys share a hash are
/// chained, so a 64-bit collision cannot merge two orders.
#[derive(Debug)]
struct PendingKeys {
    heads: HashMap<u64, u32>,
    /// Each entry and the next one with the same hash.
    entries: Vec<(Pending, u32)>,
}

impl PendingKeys {
    fn with_capacity(n: usize) -> Self {
        Self {
            heads: HashMap::with_capacity_and_hasher(n, Default::default()),
            entries: Vec::with_capacity(n),
        }
    }

    /// The entry under `key` for which `is_same` holds, and where it is.
    fn find(&self, key: u64, is_same: impl Fn(&Pending) -> bool) -> Option<(Pending, u32)> {
        let mut at = *self.heads.get(&key)?;
        while at != NONE {
            let (entry, next) = self.entries[at as usize];
            if is_same(&entry) {
                return Some((entry, at));
            }
            at = next;
        }
        None
    }

    /// Records a newer version of the order whose entry is at `at`.
    fn replace(&mut self, at: u32, entry: Pending) {
        self.entries[at as usize].0 = entry;
    }

    /// Records the first version of an order not in the input before.
    fn add(&mut self, key: u64, entry: Pending) {
        let fresh = self.entries.len() as u32;
        let next = self.heads.insert(key, fresh).unwrap_or(NONE);
        self.entries.push((entry, next));
    }

    /// Positions of each order's latest version, ascending.
    fn last_positions(&self) -> Vec<usize> {
        let mut positions: Vec<usize> = self
            .entries
            .iter()
            .map(|(p, _)| p.position as usize)
            .collect();
        positions.sort_unstable();
        positions
    }
}

/// Whether row `i` of `a` and row `j` of `b` hold the same order content
/// (the [`ORDERS`] columns, which both batches start with).
fn same_row(a: &RecordBatch, i: usize, b: &RecordBatch, j: usize) -> bool {
    (0..ORDERS.columns.len()).all(|col| same_value(a.column(col), i, b.column(col), j))
}

fn same_value(a: &ArrayRef, i: usize, b: &ArrayRef, j: usize) -> bool {
    match (a.is_valid(i), b.is_valid(j)) {
        (false, false) => return true,
        (true, true) => {}
        _ => return false,
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i) == b.as_string::<i32>().value(j),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            a.as_primitive::<TimestampMicrosecondType>().value(i)
                == b.as_primitive::<TimestampMicrosecondType>().value(j)
        }
        DataType::Decimal128(..) => {
            a.as_primitive::<Decimal128Type>().value(i)
                == b.as_primitive::<Decimal128Type>().value(j)
        }
        _ => a.slice(i, 1).to_data() == b.slice(j, 1).to_data(),
    }
}

/// Order numbers by [`key_hash`]. A hash hit is confirmed against the
/// stored row, so a 64-bit collision cannot merge two orders.
#[derive(Debug, Default)]
struct OrderIndex {
    /// The first order under each hash.
    first: KeyIndex,
    /// Any further orders under a hash (keys that collide): almost always
    /// empty.
    more: HashMap<u64, Vec<u32>>,
}

impl OrderIndex {
    /// The orders under `key`, first to last.
    fn orders(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let more = self.more.get(&key).map_or(&[][..], Vec::as_slice);
        self.first.get(key).into_iter().chain(more.iter().copied())
    }

    fn insert(&mut self, key: u64, order: u32) {
        if self.first.get(key).is_some() {
            self.more.entry(key).or_default().push(order);
        } else {
            self.first.insert(key, order);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.first.reserve(additional);
    }

    /// Starts loading where a lookup of `key` begins.
    fn prefetch(&self, key: u64) {
        self.first.prefetch(key);
    }

    /// Distinct hashes held.
    fn len(&self) -> usize {
        self.first.len()
    }

    /// Each hash with its orders, in no particular order.
    fn entries(&self) -> impl Iterator<Item = (u64, Vec<u32>)> + '_ {
        self.first
            .iter()
            .map(|(key, _)| (key, self.orders(key).collect()))
    }
}

impl OrderStore {
    /// Opens the store in `dir`: loads the checkpoint, if any, then
    /// replays the log written after it.
    pub fn open(dir: &Path, identity: IdentityConfig) -> Result<Self> {
        Self::open_from(dir, identity, None)
    }

    pub(crate) fn open_from(
        dir: &Path,
        identity: IdentityConfig,
        checkpoint: Option<StoreCheckpoint>,
    ) -> Result<Self> {
        let covered = checkpoint.as_ref().map_or(0, |c| c.log_seq);
        let log = Arc::new(BatchLog::open(&log_dir(dir), covered)?);
        Self::load(log, identity, checkpoint)
    }

    /// The store as of log file `through`, rebuilt from the checkpoint and
    /// the log files on disk, beside the live store that owns the log and
    /// may go on appending to it. Replay applies the same batches in the
    /// same order as the live store did, so the state is the same.
    pub(crate) fn rebuild(
        dir: &Path,
        identity: IdentityConfig,
        checkpoint: Option<StoreCheckpoint>,
        through: u64,
    ) -> Result<Self> {
        let covered = checkpoint.as_ref().map_or(0, |c| c.log_seq);
        let log = Arc::new(BatchLog::view(&log_dir(dir), covered, through));
        Self::load(log, identity, checkpoint)
    }

    /// The checkpoint's state, then every batch of `log` after it.
    fn load(
        log: Arc<BatchLog>,
        identity: IdentityConfig,
        checkpoint: Option<StoreCheckpoint>,
    ) -> Result<Self> {
        let mut store = Self {
            log,
            segments: Vec::new(),
            index: OrderIndex::default(),
            order_count: 0,
            location: Vec::new(),
            versions: Vec::new(),
            graph: IdentityGraph::new(identity),
        };
        if let Some(StoreCheckpoint {
            path,
            versions,
            state,
            ..
        }) = checkpoint
        {
            match state {
                Some(state) => store
                    .restore(versions, &state)
                    .map_err(|reason| Error::Corrupt { path, reason })?,
                // The identity configuration changed since the checkpoint:
                // resolve its orders again, batch by batch as they arrived.
                None => {
                    for run in arrival_runs(&versions) {
                        store.replay_batch(&path, &run)?;
                    }
                }
            }
        }
        for (path, batch) in store.log.read_all(&versions_schema())? {
            store.replay_batch(&path, &batch)?;
        }
        Ok(store)
    }

    fn replay_batch(&mut self, path: &Path, batch: &RecordBatch) -> Result<()> {
        let arrived = batch
            .column(ORDERS.columns.len() + 1)
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .first()
            .copied()
            .unwrap_or_default();
        let inputs = batch
            .project(&(0..ORDERS.columns.len()).collect::<Vec<_>>())
            .map_err(|e| Error::corrupt(path, e))?;
        let prepared = self.prepare(vec![inputs], arrived)?;
        if prepared.orders.len() != batch.num_rows() {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "replay accepted {} of {} rows",
                    prepared.orders.len(),
                    batch.num_rows()
                ),
            });
        }
        self.apply(prepared);
        Ok(())
    }

    /// What a checkpoint saves: the last log file covered, every version
    /// in arrival order, and the encoded index and identity graph.
    /// The versions are the segments' own batches (shared, not copied), so
    /// ingest waits only for the state to be encoded.
    pub(crate) fn checkpoint(&self) -> Result<(u64, Vec<RecordBatch>, Vec<u8>)> {
        let versions: Vec<RecordBatch> = self.segments.iter().map(|s| s.batch.clone()).collect();
        let mut offsets = Vec::with_capacity(self.segments.len());
        let mut rows = 0u32;
        let mut orders = Vec::with_capacity(versions.iter().map(RecordBatch::num_rows).sum());
        let mut dead = RoaringBitmap::new();
        for s in &self.segments {
            offsets.push(rows);
            orders.extend_from_slice(&s.orders);
            dead.extend(s.dead.iter().map(|r| r + rows));
            rows += s.batch.num_rows() as u32;
        }
        let mut w = Writer::default();
        w.u8(STATE_VERSION);
        w.u32s(&orders);
        w.bitmap(&dead);
        w.len(self.index.len());
        for (key, found) in self.index.entries() {
            w.u64(key);
            w.u32s(&found);
        }
        w.len(self.order_count);
        let location: Vec<u32> = self
            .location
            .iter()
            .map(|&(seg, row)| offsets[seg as usize] + row)
            .collect();
        w.u32s(&location);
        w.u32s(&self.versions);
        self.graph.encode(&mut w);
        Ok((self.log.last_seq(), versions, w.buf))
    }

    /// The last log file written.
    pub(crate) fn last_log_seq(&self) -> u64 {
        self.log.last_seq()
    }

    /// Log files written since the last checkpoint.
    pub(crate) fn log_files_since_checkpoint(&self) -> u64 {
        self.log.unchecked()
    }

    /// The log, to remove the files a durable checkpoint now holds
    /// without holding the store meanwhile.
    pub(crate) fn log_handle(&self) -> Arc<BatchLog> {
        Arc::clone(&self.log)
    }

    /// Loads a checkpoint's state over its versions, as one segment.
    fn restore(&mut self, versions: RecordBatch, state: &[u8]) -> DecodeResult<()> {
        let mut r = Reader::new(state);
        let version = r.u8()?;
        if version != 1 && version != STATE_VERSION {
            return Err(format!(
                "store state format {version}, expected {STATE_VERSION}"
            ));
        }
        let orders = r.u32s()?;
        let dead = r.bitmap()?;
        if orders.len() != versions.num_rows() {
            return Err(format!(
                "{} order numbers for {} versions",
                orders.len(),
                versions.num_rows()
            ));
        }
        let n = r.len(12)?;
        self.index.reserve(n);
        for _ in 0..n {
            let key = r.u64()?;
            for order in r.u32s()? {
                self.index.insert(key, order);
            }
        }
        self.order_count = r.u64()? as usize;
        self.location = r.u32s()?.into_iter().map(|row| (0, row)).collect();
        if version == 1 {
            r.u64s()?;
        }
        self.versions = r.u32s()?;
        self.graph = IdentityGraph::decode(&mut r, self.graph.config().clone())?;
        if !r.is_empty() {
            return Err("trailing bytes after the store state".into());
        }
        let count = self.order_count;
        if self.location.len() != count || self.versions.len() != count {
            return Err("per-order vectors disagree with the order count".into());
        }
        if self
            .location
            .iter()
            .any(|&(_, row)| row as usize >= versions.num_rows())
        {
            return Err("an order points past the stored versions".into());
        }
        self.segments = vec![Segment {
            batch: versions,
            orders,
            dead,
            current: Mutex::new(None),
        }];
        Ok(())
    }

    /// Checks input batches (in [`ORDERS`] schema) against the current state:
    /// which rows are new orders, new versions, or repeats.
    pub fn prepare(&self, inputs: Vec<RecordBatch>, arrived_at: i64) -> Result<Prepared> {
        let input = match <[RecordBatch; 1]>::try_from(inputs) {
            Ok([one]) => one,
            Err(many) => concat_batches(&ORDERS.schema(), &many)?,
        };
        let rows = input.num_rows();
        let mut report = IngestReport {
            rows,
            ..Default::default()
        };
        let order_ids = input.column(c::ORDER_ID).as_string::<i32>();
        let channels = input.column(c::CHANNEL).as_string::<i32>();
        let same_key = |a: usize, b: usize| {
            channels.value(a) == channels.value(b) && order_ids.value(a) == order_ids.value(b)
        };
        // The orders of this input so far, one entry each, found by key hash.
        let mut pending = PendingKeys::with_capacity(rows);
        // Nearly every key of a bulk load is new: growing this would copy it
        // at each doubling, into fresh pages.
        let mut new_keys = Vec::with_capacity(rows);
        let mut outcomes = Vec::with_capacity(rows);
        let mut accepted: Vec<u32> = Vec::with_capacity(rows);
        let mut orders = Vec::with_capacity(rows);
        let mut versions = Vec::with_capacity(rows);
        let mut next_order = self.location.len() as u32;
        let row_keys = Arc::new(key_hashes(channels, order_ids));
        let mut identity =
            Normalizing::start(input.clone(), Arc::clone(&row_keys), self.graph.config());
        for (row, &key) in row_keys.iter().enumerate() {
            if let Some(&ahead) = row_keys.get(row + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            let in_input = pending.find(key, |p| {
                same_key(accepted[p.position as usize] as usize, row)
            });
            let (order, version) = match in_input {
                Some((p, _)) => {
                    let before = accepted[p.position as usize] as usize;
                    if same_row(&input, before, &input, row) {
                        report.unchanged += 1;
                        outcomes.push(RowOutcome::Unchanged);
                        continue;
                    }
                    (p.order, p.version + 1)
                }
                None => match self.lookup(key, channels.value(row), order_ids.value(row)) {
                    Some(order) => {
                        let (seg, at) = self.location[order as usize];
                        let stored = &self.segments[seg as usize].batch;
                        if same_row(stored, at as usize, &input, row) {
                            report.unchanged += 1;
                            outcomes.push(RowOutcome::Unchanged);
                            continue;
                        }
                        (order, self.versions[order as usize] + 1)
                    }
                    None => {
                        report.inserted += 1;
                        outcomes.push(RowOutcome::Inserted);
                        let order = next_order;
                        next_order += 1;
                        new_keys.push((key, order));
                        (order, 1)
                    }
                },
            };
            if version > 1 {
                report.updated += 1;
                outcomes.push(RowOutcome::Updated);
            }
            let entry = Pending {
                position: accepted.len() as u32,
                order,
                version,
            };
            match in_input {
                Some((_, at)) => pending.replace(at, entry),
                None => pending.add(key, entry),
            }
            accepted.push(row as u32);
            orders.push(order);
            versions.push(version);
        }
        if accepted.is_empty() {
            return Ok(Prepared {
                batch: None,
                orders,
                new_keys,
                identity: None,
                arrived_at,
                report,
                outcomes,
            });
        }
        let mut columns = if accepted.len() == rows {
            input.columns().to_vec()
        } else {
            take_record_batch(&input, &UInt32Array::from(accepted.clone()))?
                .columns()
                .to_vec()
        };
        columns.push(Arc::new(UInt32Array::from(versions)) as ArrayRef);
        columns.push(Arc::new(
            TimestampMicrosecondArray::from(vec![arrived_at; accepted.len()]).with_timezone("UTC"),
        ));
        let batch = RecordBatch::try_new(versions_schema(), columns)?;
        // Only each order's last version in this input feeds the graph.
        let mut order_of_row = vec![NONE; rows];
        for position in pending.last_positions() {
            order_of_row[accepted[position] as usize] = orders[position];
        }
        identity.select(order_of_row);
        Ok(Prepared {
            batch: Some(batch),
            orders,
            new_keys,
            identity: Some(identity),
            arrived_at,
            report,
            outcomes,
        })
    }

    /// Writes a prepared ingest to the log and syncs it to disk. After this
    /// returns the rows survive a crash.
    pub fn log(&self, prepared: &Prepared) -> Result<()> {
        match &prepared.batch {
            Some(batch) => self.log.append(batch),
            None => Ok(()),
        }
    }

    /// Applies a prepared (and logged) ingest to memory; says what the
    /// identity graph did.
    pub fn apply(&mut self, prepared: Prepared) -> ApplyStats {
        let Some(batch) = prepared.batch else {
            return ApplyStats::default();
        };
        let seg = self.segments.len() as u32;
        self.order_count += prepared.new_keys.len();
        self.index.reserve(prepared.new_keys.len());
        for (i, &(key, order)) in prepared.new_keys.iter().enumerate() {
            if let Some(&(ahead, _)) = prepared.new_keys.get(i + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            self.index.insert(key, order);
        }
        let needed = self.order_count;
        self.location.resize(needed, (u32::MAX, 0));
        self.versions.resize(needed, 0);
        for (row, &order) in prepared.orders.iter().enumerate() {
            let o = order as usize;
            let (old_seg, old_row) = self.location[o];
            if old_seg != u32::MAX {
                // A version superseded within this same input is marked below.
                if let Some(s) = self.segments.get_mut(old_seg as usize) {
                    s.dead.insert(old_row);
                    s.invalidate();
                }
            }
            self.location[o] = (seg, row as u32);
            self.versions[o] += 1;
        }
        let mut dead = RoaringBitmap::new();
        // Versions superseded within this same segment.
        for (row, &order) in prepared.orders.iter().enumerate() {
            if self.location[order as usize] != (seg, row as u32) {
                dead.insert(row as u32);
            }
        }
        self.segments.push(Segment {
            batch,
            orders: prepared.orders,
            dead,
            current: Mutex::new(None),
        });
        let stats = match prepared.identity {
            Some(identity) => {
                self.graph
                    .apply_chunks(identity.len(), identity.into_chunks(), prepared.arrived_at)
            }
            None => ApplyStats::default(),
        };
        for order in self.graph.take_changed() {
            let (s, _) = self.location[order as usize];
            if let Some(segment) = self.segments.get(s as usize) {
                segment.invalidate();
            }
        }
        stats
    }

    /// The identity graph.
    pub fn graph(&self) -> &IdentityGraph {
        &self.graph
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.order_count
    }

    /// Whether there are no orders.
    pub fn is_empty(&self) -> bool {
        self.order_count == 0
    }

    /// All versions, in arrival order.
    pub fn version_batches(&self) -> Vec<RecordBatch> {
        self.segments.iter().map(|s| s.batch.clone()).collect()
    }

    /// The current version of every order, with its MCID.
    pub fn current_batches(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let mut cached = s.current.lock().unwrap_or_else(|e| e.into_inner());
            if cached.is_none() {
                *cached = Some(self.materialize(s)?);
            }
            let batch = cached.as_ref().expect("just filled");
            if batch.num_rows() > 0 {
                out.push(batch.clone());
            }
        }
        Ok(out)
    }

    /// The MCID of an order's customer; `None` if there is no such order.
    pub fn order_mcid(&self, channel: &str, order_id: &str) -> Option<String> {
        let order = self.order_number(channel, order_id)?;
        let key = self.graph.mcid_of_order(order)?;
        Some(String::from_utf8_lossy(&mcid_bytes(key)).into_owned())
    }

    /// The current version of one order, with its MCID: no rows if there
    /// is no such order.
    pub fn current_row(&self, channel: &str, order_id: &str) -> Result<Vec<RecordBatch>> {
        let Some(order) = self.order_number(channel, order_id) else {
            return Ok(Vec::new());
        };
        let (seg, row) = self.location[order as usize];
        let segment = &self.segments[seg as usize];
        let row = segment
            .batch
            .slice(row as usize, 1)
            .project(&(0..ORDERS.columns.len()).collect::<Vec<_>>())?;
        let mcid = self.graph.mcid_of_order(order).unwrap_or_default();
        let mcid = std::str::from_utf8(&mcid_bytes(mcid))
            .unwrap_or_default()
            .to_string();
        let mut columns = row.columns().to_vec();
        columns.push(Arc::new(StringArray::from(vec![mcid])) as ArrayRef);
        Ok(vec![RecordBatch::try_new(orders_schema(), columns)?])
    }

    fn materialize(&self, s: &Segment) -> Result<RecordBatch> {
        let n = s.batch.num_rows();
        let mut mcids = StringBuilder::with_capacity(
            n - s.dead.len() as usize,
            (n - s.dead.len() as usize) * 15,
        );
        let mut keep = Vec::with_capacity(n);
        for (row, &order) in s.orders.iter().enumerate() {
            let live = !s.dead.contains(row as u32);
            keep.push(live);
            if live {
                let m = self.graph.mcid_of_order(order).unwrap_or_default();
                // MCIDs are ASCII by construction.
                mcids.append_value(std::str::from_utf8(&mcid_bytes(m)).unwrap_or_default());
            }
        }
        let projected = s
            .batch
            .project(&(0..ORDERS.columns.len()).collect::<Vec<_>>())?;
        let live = if s.dead.is_empty() {
            projected
        } else {
            filter_record_batch(&projected, &keep.into())?
        };
        let mut columns = live.columns().to_vec();
        columns.push(Arc::new(mcids.finish()) as ArrayRef);
        Ok(RecordBatch::try_new(orders_schema(), columns)?)
    }

    /// `(channel, order_id)` of an order's current version.
    pub fn order_key_of(&self, order: u32) -> Option<(String, String)> {
        let &(seg, row) = self.location.get(order as usize)?;
        let batch = &self.segments.get(seg as usize)?.batch;
        let channel = batch
            .column(c::CHANNEL)
            .as_string::<i32>()
            .value(row as usize);
        let id = batch
            .column(c::ORDER_ID)
            .as_string::<i32>()
            .value(row as usize);
        Some((channel.to_string(), id.to_string()))
    }

    /// `ordered_at` of an order's current version.
    pub fn ordered_at_of(&self, order: u32) -> Option<i64> {
        let &(seg, row) = self.location.get(order as usize)?;
        let batch = &self.segments.get(seg as usize)?.batch;
        Some(
            batch
                .column(c::ORDERED_AT)
                .as_primitive::<TimestampMicrosecondType>()
                .value(row as usize),
        )
    }

    /// The dense number of an order, by key.
    pub fn order_number(&self, channel: &str, order_id: &str) -> Option<u32> {
        self.lookup(key_hash(channel, order_id), channel, order_id)
    }

    /// The order with this key among those sharing its hash.
    fn lookup(&self, key: u64, channel: &str, order_id: &str) -> Option<u32> {
        self.index.orders(key).find(|&o| {
            let (seg, row) = self.location[o as usize];
            let batch = &self.segments[seg as usize].batch;
            batch
                .column(c::CHANNEL)
                .as_string::<i32>()
                .value(row as usize)
                == channel
                && batch
                    .column(c::ORDER_ID)
                    .as_string::<i32>()
                    .value(row as usize)
                    == order_id
        })
    }
}

/// A hash of each row's full content, to tell a repeat from a new version.
pub(crate) fn content_hashes(input: &RecordBatch) -> Result<Vec<u64>> {
    let fields = input
        .schema()
        .fields()
        .iter()
        .map(|f| SortField::new(f.data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields)?;
    let rows = converter.convert_columns(input.columns())?;
    Ok(rows.iter().map(|r| xxh3_64(r.as_ref())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Format, decode};

    fn batch(rows: &str) -> Vec<RecordBatch> {
        let csv = format!("order_id,channel,ordered_at\n{rows}");
        decode(&ORDERS, Format::Csv, "t", bytes::Bytes::from(csv)).unwrap()
    }

    /// Customers of every order: `(channel, order_id)` sets, one per MCID.
    fn partition(store: &OrderStore) -> Vec<Vec<(String, String)>> {
        let mut by: HashMap<u64, Vec<(String, String)>> = HashMap::default();
        for order in 0..store.len() as u32 {
            let mcid = store
                .graph()
                .mcid_of_order(order)
                .expect("every order has an MCID");
            by.entry(mcid)
                .or_default()
                .push(store.order_key_of(order).unwrap());
        }
        let mut parts: Vec<_> = by.into_values().collect();
        for p in &mut parts {
            p.sort();
        }
        parts.sort();
        parts
    }

    #[test]
    fn orders_arriving_in_time_order_resolve_as_all_at_once() {
        use ordergraph_datasets::{GenConfig, generate};
        let dataset = generate(&GenConfig {
            customers: 1_500,
            orders: 6_000,
            seed: 3,
            ..GenConfig::default()
        });
        let mut rows = dataset.rows.clone();
        rows.sort_by_key(|r| r.ordered_at);
        let in_time = ordergraph_datasets::Dataset { rows }
            .to_record_batches(50)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut at_once = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
        let prepared = at_once.prepare(in_time.clone(), 0).unwrap();
        at_once.apply(prepared);
        let dir = tempfile::tempdir().unwrap();
        let mut streamed = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
        let mut joined = 0;
        for (i, batch) in in_time.into_iter().enumerate() {
            let prepared = streamed.prepare(vec![batch], i as i64).unwrap();
            joined += streamed.apply(prepared).joined;
        }
        // Most orders of people seen before join without re-resolving; the
        // customers are the same either way.
        assert!(joined > 1_000, "{joined} orders joined directly");
        assert_eq!(partition(&streamed), partition(&at_once));
    }

    #[test]
    fn a_pending_hash_shared_by_two_keys_keeps_both() {
        let mut pending = PendingKeys::with_capacity(4);
        let entry = |position, order| Pending {
            position,
            order,
            version: 1,
        };
        pending.add(7, entry(0, 10));
        pending.add(7, entry(1, 11));
        let (_, at) = pending.find(7, |p| p.order == 10).unwrap();
        pending.replace(at, entry(2, 10));
        assert_eq!(pending.find(7, |p| p.order == 10).unwrap().0.position, 2);
        assert_eq!(pending.find(7, |p| p.order == 11).unwrap().0.position, 1);
        assert!(pending.find(7, |p| p.order == 12).is_none());
        assert!(pending.find(8, |_| true).is_none());
        assert_eq!(pending.last_positions(), vec![1, 2]);
    }

    #[test]
    fn rows_compare_by_every_column_and_null_is_not_a_value() {
        let csv = "order_id,channel,ordered_at,phone,amount\n\
                   a,jd,2026-01-01T00:00:00Z,,1.00\n\
                   a,jd,2026-01-01T00:00:00Z,,1.00\n\
                   a,jd,2026-01-01T00:00:00Z,x,1.00\n\
                   a,jd,2026-01-01T00:00:00Z,,1.01\n\
                   a,jd,2026-01-01T00:00:01Z,,1.00\n";
        let b = &decode(&ORDERS, Format::Csv, "t", bytes::Bytes::from(csv)).unwrap()[0];
        assert!(same_row(b, 0, b, 1));
        for other in 2..5 {
            assert!(!same_row(b, 0, b, other), "row {other}");
        }
    }

    #[test]
    fn key_hashes_match_the_streaming_hash_at_any_length() {
        let lengths = [0, 1, 100, 126, 127, 128, 300];
        let ids: Vec<String> = (0..60_000)
            .map(|i| "9".repeat(lengths[i % lengths.len()]))
            .collect();
        let channels = StringArray::from(vec!["tmall"; ids.len()]);
        let order_ids = StringArray::from(ids.clone());
        let block = key_hashes(&channels, &order_ids);
        for id in ids.iter().take(lengths.len()) {
            let mut h = Xxh3::new();
            h.update(b"tmall\x1f");
            h.update(id.as_bytes());
            assert_eq!(key_hash("tmall", id), h.digest(), "length {}", id.len());
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(block[i], key_hash("tmall", id), "row {i}");
        }
    }

    #[test]
    fn keys_sharing_a_hash_stay_two_orders() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
        let prepared = store
            .prepare(
                batch("a,jd,2026-01-01T00:00:00Z\nb,jd,2026-01-01T00:00:00Z\n"),
                0,
            )
            .unwrap();
        store.apply(prepared);
        // Force a 64-bit collision: both keys under the hash of `jd:a`.
        let (ha, hb) = (key_hash("jd", "a"), key_hash("jd", "b"));
        let b = store.order_number("jd", "b").unwrap();
        let a = store.order_number("jd", "a").unwrap();
        store.index = OrderIndex::default();
        store.index.insert(ha, a);
        store.index.insert(ha, b);
        assert_eq!(store.lookup(hb, "jd", "b"), None);
        assert_eq!(store.lookup(ha, "jd", "b"), Some(b));
        assert_ne!(store.lookup(ha, "jd", "a"), Some(b));
        assert_eq!(store.lookup(ha, "jd", "c"), None);
        // A repeat of `a` is still recognised as a repeat.
        let again = store
            .prepare(batch("a,jd,2026-01-01T00:00:00Z\n"), 1)
            .unwrap();
        assert_eq!(again.report.unchanged, 1);
    }
}
