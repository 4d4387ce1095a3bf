//! Input tables other than `orders` (status events, refunds, stock, ...):
//! append-only sets of rows. A row identical to one already stored is a
//! repeat and is not stored again, so re-sending a file never duplicates
//! anything; each stored row carries the `arrived_at` of its first arrival.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{Field, SchemaRef};

use crate::log::BatchLog;
use crate::maintained::RowIndex;
use crate::store::{IngestReport, content_hashes};
use crate::table::{TableDef, timestamp_type};
use crate::{Error, Result};
use rustc_hash::FxHashSet;

/// The stored schema of an append table: its contract columns and `arrived_at`.
pub(crate) fn stored_schema(def: &TableDef) -> SchemaRef {
    def.schema_with([Field::new("arrived_at", timestamp_type(), false)])
}

/// One append-only input table.
#[derive(Debug)]
pub(crate) struct AppendTable {
    def: &'static TableDef,
    log: Arc<BatchLog>,
    /// The last log file whose rows are in `batches`: read with them under
    /// one lock, it makes a consistent cut without stopping the writer.
    applied_seq: u64,
    batches: Vec<RecordBatch>,
    seen: HashSet<u64>,
    /// Rows by key, for maintained views' refreshes: one index per set of
    /// key columns asked for.
    indexes: Mutex<Vec<RowIndex>>,
}

/// New rows checked against the stored ones, ready to log and apply.
#[derive(Debug)]
pub(crate) struct PreparedRows {
    batch: Option<RecordBatch>,
    hashes: Vec<u64>,
    pub(crate) report: IngestReport,
}

impl AppendTable {
    /// The table's name.
    pub(crate) fn name(&self) -> &'static str {
        self.def.name
    }

    /// Opens the table under `dir/<name>/log`: the checkpointed rows, if
    /// any (`(last log file covered, rows)`), then the log after them.
    pub(crate) fn open(
        dir: &Path,
        def: &'static TableDef,
        checkpoint: Option<(u64, Vec<RecordBatch>)>,
    ) -> Result<Self> {
        let (covered, checkpointed) = checkpoint.unwrap_or_default();
        let log = Arc::new(BatchLog::open(&dir.join(def.name).join("log"), covered)?);
        let mut table = Self {
            def,
            log,
            applied_seq: 0,
            batches: Vec::new(),
            seen: HashSet::new(),
            indexes: Mutex::default(),
        };
        let logged = table.log.read_all(&stored_schema(def))?;
        for (path, batch) in checkpointed
            .into_iter()
            .map(|b| (dir.join(def.name), b))
            .chain(logged)
        {
            let columns = batch
                .project(&(0..def.columns.len()).collect::<Vec<_>>())
                .map_err(|e| Error::corrupt(&path, e))?;
            table.seen.extend(content_hashes(&columns)?);
            table.batches.push(batch);
        }
        table.applied_seq = table.log.last_seq();
        Ok(table)
    }

    /// What a checkpoint saves: the last log file covered and every row.
    pub(crate) fn checkpoint(&self) -> (u64, Vec<RecordBatch>) {
        (self.applied_seq, self.batches.clone())
    }

    /// Log files written since the last checkpoint.
    pub(crate) fn log_files_since_checkpoint(&self) -> u64 {
        self.log.unchecked()
    }

    /// The log, to remove the files a durable checkpoint now holds
    /// without holding the table meanwhile.
    pub(crate) fn log_handle(&self) -> Arc<BatchLog> {
        Arc::clone(&self.log)
    }

    /// Finds the rows of `inputs` (in the contract schema) not stored yet.
    pub(crate) fn prepare(
        &self,
        inputs: Vec<RecordBatch>,
        arrived_at: i64,
    ) -> Result<PreparedRows> {
        let input = concat_batches(&self.def.schema(), &inputs)?;
        let hashes = content_hashes(&input)?;
        let mut fresh = HashSet::new();
        let mut keep = Vec::new();
        for (row, &h) in hashes.iter().enumerate() {
            if !self.seen.contains(&h) && fresh.insert(h) {
                keep.push(row as u32);
            }
        }
        let report = IngestReport {
            rows: input.num_rows(),
            inserted: keep.len(),
            updated: 0,
            unchanged: input.num_rows() - keep.len(),
        };
        let kept_hashes = keep.iter().map(|&r| hashes[r as usize]).collect();
        let batch = if keep.is_empty() {
            None
        } else {
            let taken = take_record_batch(&input, &UInt32Array::from(keep.clone()))?;
            let mut columns: Vec<ArrayRef> = taken.columns().to_vec();
            columns.push(Arc::new(
                TimestampMicrosecondArray::from(vec![arrived_at; keep.len()]).with_timezone("UTC"),
            ));
            Some(RecordBatch::try_new(stored_schema(self.def), columns)?)
        };
        Ok(PreparedRows {
            batch,
            hashes: kept_hashes,
            report,
        })
    }

    /// Writes new rows to the log durably; they are not visible yet.
    pub(crate) fn log(
        &self,
        prepared: &PreparedRows,
        positions: &crate::positions::Positions,
    ) -> Result<()> {
        match &prepared.batch {
            Some(batch) => self.log.append(batch, positions),
            None => Ok(()),
        }
    }

    /// Makes logged rows visible. The writer holds the engine's ingest
    /// lock from `log` to here, so the log's last file is this write's.
    pub(crate) fn apply(&mut self, prepared: PreparedRows) {
        let Some(batch) = prepared.batch else { return };
        self.applied_seq = self.log.last_seq();
        self.seen.extend(prepared.hashes);
        self.batches.push(batch);
    }

    /// Rewrites every stored batch with `redact` (which may drop rows or
    /// blank values); returns how many batches changed. The rows are
    /// checkpointed as they are now; the log files still holding the old
    /// ones go at the next checkpoint.
    pub(crate) fn redact(
        &mut self,
        redact: impl Fn(&RecordBatch) -> Result<Option<RecordBatch>>,
    ) -> Result<usize> {
        let mut changed = 0;
        for batch in &mut self.batches {
            if let Some(redacted) = redact(batch)? {
                *batch = redacted;
                changed += 1;
            }
        }
        if changed > 0 {
            let columns: Vec<usize> = (0..self.def.columns.len()).collect();
            self.seen.clear();
            for batch in &self.batches {
                self.seen.extend(content_hashes(&batch.project(&columns)?)?);
            }
            self.indexes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        Ok(changed)
    }

    /// How many rows are stored.
    pub(crate) fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Every stored row.
    pub(crate) fn batches(&self) -> Vec<RecordBatch> {
        self.batches.clone()
    }

    /// The rows whose hash of the `columns` (see `key_hashes`) is in
    /// `wanted`, found through an index of those columns.
    pub(crate) fn rows_with(
        &self,
        columns: &[usize],
        wanted: &FxHashSet<u64>,
    ) -> datafusion::error::Result<Vec<RecordBatch>> {
        let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        RowIndex::find(&mut indexes, columns).rows_with(&self.batches, wanted)
    }

    /// The rows stored after the first `seen`; moves `seen` to the end.
    pub(crate) fn rows_since(&self, seen: &mut usize) -> Vec<RecordBatch> {
        let mut start = 0;
        let mut out = Vec::new();
        for b in &self.batches {
            let from = (*seen).max(start) - start;
            if from < b.num_rows() {
                out.push(b.slice(from, b.num_rows() - from));
            }
            start += b.num_rows();
        }
        *seen = start;
        out
    }
}
