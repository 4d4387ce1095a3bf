//! Recovery: the store rebuilt from a checkpoint and the log written after
//! it, and the state a checkpoint saves.

use super::*;

/// Format version of the encoded store state; bump on any layout change.
/// A version 1 state also holds a content hash per order, read and dropped.
pub(super) const STATE_VERSION: u8 = 2;

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
pub(super) fn log_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("orders").join("log")
}

/// Splits versions into the runs that arrived together (one ingest each).
pub(super) fn arrival_runs(versions: &RecordBatch) -> Vec<RecordBatch> {
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

impl OrderStore {
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
    pub(super) fn load(
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

    pub(super) fn replay_batch(&mut self, path: &Path, batch: &RecordBatch) -> Result<()> {
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
        let mut prepared = self.prepare(vec![inputs], arrived)?;
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
        // The versions as logged: numbered as when they arrived, also when
        // older versions expired since.
        prepared.batch = Some(batch.clone());
        let orders = prepared.orders.clone();
        self.apply(prepared);
        let numbers = batch
            .column(ORDERS.columns.len())
            .as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        for (row, &o) in orders.iter().enumerate() {
            self.versions[o as usize] = numbers.value(row);
        }
        Ok(())
    }

    /// What a checkpoint saves: the last log file covered, every version
    /// in arrival order, and the encoded index and identity graph.
    /// Superseded versions that arrived before `expire_before` (a time in
    /// microseconds, from `[retention] order_versions_days`) are left out;
    /// an order's current version always stays. Without any to leave out,
    /// the versions are the segments' own batches (shared, not copied), so
    /// ingest waits only for the state to be encoded.
    pub(crate) fn checkpoint(
        &self,
        expire_before: Option<i64>,
    ) -> Result<(u64, Vec<RecordBatch>, Vec<u8>)> {
        let kept: Vec<Option<Vec<u32>>> = self
            .segments
            .iter()
            .map(|s| expire_before.and_then(|t| s.kept_rows(t)))
            .collect();
        let mut versions = Vec::with_capacity(self.segments.len());
        let mut offsets = Vec::with_capacity(self.segments.len());
        let mut rows = 0u32;
        let mut orders = Vec::new();
        let mut dead = RoaringBitmap::new();
        for (s, kept) in self.segments.iter().zip(&kept) {
            offsets.push(rows);
            match kept {
                None => {
                    versions.push(s.batch.clone());
                    orders.extend_from_slice(&s.orders);
                    dead.extend(s.dead.iter().map(|r| r + rows));
                    rows += s.batch.num_rows() as u32;
                }
                Some(kept) => {
                    let take = UInt32Array::from(kept.clone());
                    versions.push(take_record_batch(&s.batch, &take)?);
                    for (new, &old) in kept.iter().enumerate() {
                        orders.push(s.orders[old as usize]);
                        if s.dead.contains(old) {
                            dead.insert(rows + new as u32);
                        }
                    }
                    rows += kept.len() as u32;
                }
            }
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
        // A current version is never left out: its new row is the number
        // of kept rows before it.
        let location: Vec<u32> = self
            .location
            .iter()
            .map(|&(seg, row)| {
                let at = match &kept[seg as usize] {
                    None => row,
                    Some(kept) => kept.partition_point(|&r| r < row) as u32,
                };
                offsets[seg as usize] + at
            })
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
    pub(super) fn restore(&mut self, versions: RecordBatch, state: &[u8]) -> DecodeResult<()> {
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
}
