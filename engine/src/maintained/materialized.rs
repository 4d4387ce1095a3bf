//! A maintained view's current rows, replaced key by key.
//!
//! Rows live in segments (Arrow batches) under stable ids. An index maps
//! the hash of each key to the segments holding rows of that key, so that
//! replacing the rows of a few keys rewrites only the segments they sit in.
//! Hash collisions only widen the set of segments rewritten: the rows
//! removed are those whose key bytes are in the touched set.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::error::Result;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use xxhash_rust::xxh3::xxh3_64;

/// Rows per segment when a result is stored whole.
const SEGMENT_ROWS: usize = 8192;

/// Segments under this many rows are merged once there are
/// [`SMALL_SEGMENTS_MERGED`] of them.
const SMALL_SEGMENT_ROWS: usize = 1024;
const SMALL_SEGMENTS_MERGED: usize = 32;

/// The key bytes of rows to replace, as [`KeyRows::set`] builds them.
pub(crate) type KeySet = HashSet<Box<[u8]>>;

/// Turns a view's key columns into comparable bytes.
pub(crate) struct KeyRows {
    columns: Vec<usize>,
    converter: RowConverter,
}

impl KeyRows {
    /// The key of `schema`'s `columns`.
    pub(crate) fn new(schema: &SchemaRef, columns: Vec<usize>) -> Result<Self> {
        let fields = columns
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect();
        Ok(Self {
            columns,
            converter: RowConverter::new(fields)?,
        })
    }

    /// The keys of every row of `batch` (in the view's schema).
    pub(crate) fn of(&self, batch: &RecordBatch) -> Result<Rows> {
        let columns: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        self.keys(&columns)
    }

    /// The keys of rows given as key columns alone, in key order.
    pub(crate) fn keys(&self, columns: &[ArrayRef]) -> Result<Rows> {
        Ok(self.converter.convert_columns(columns)?)
    }

    /// The distinct keys of `rows`.
    pub(crate) fn set(rows: &Rows) -> KeySet {
        rows.iter().map(|r| r.as_ref().into()).collect()
    }
}

/// The current rows of a maintained view.
pub(crate) struct Materialized {
    schema: SchemaRef,
    key: KeyRows,
    segments: BTreeMap<u32, RecordBatch>,
    next_id: u32,
    index: FxHashMap<u64, SmallVec<[u32; 2]>>,
    rows: usize,
    /// The segments as one list, for scans: rebuilt after each change.
    snapshot: Arc<Vec<RecordBatch>>,
}

impl Materialized {
    /// A view's whole result.
    pub(crate) fn new(schema: SchemaRef, key: KeyRows, batches: &[RecordBatch]) -> Result<Self> {
        let mut this = Self {
            schema,
            key,
            segments: BTreeMap::new(),
            next_id: 0,
            index: FxHashMap::default(),
            rows: 0,
            snapshot: Arc::default(),
        };
        this.add(batches)?;
        this.publish();
        Ok(this)
    }

    /// The rows as they stand, cheap to take.
    pub(crate) fn snapshot(&self) -> Arc<Vec<RecordBatch>> {
        self.snapshot.clone()
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes held by the rows and the index.
    pub(crate) fn memory(&self) -> usize {
        let rows: usize = self
            .segments
            .values()
            .map(RecordBatch::get_array_memory_size)
            .sum();
        rows + self.index.capacity() * (8 + std::mem::size_of::<SmallVec<[u32; 2]>>())
    }

    /// Replaces every row whose key is in `touched` by `fresh` (rows whose
    /// keys are all in `touched`).
    pub(crate) fn replace(&mut self, touched: &KeySet, fresh: &[RecordBatch]) -> Result<()> {
        let mut affected: Vec<u32> = touched
            .iter()
            .filter_map(|k| self.index.remove(&xxh3_64(k)))
            .flatten()
            .collect();
        affected.sort_unstable();
        affected.dedup();
        let mut kept = Vec::new();
        for id in affected {
            let Some(batch) = self.segments.remove(&id) else {
                continue;
            };
            self.rows -= batch.num_rows();
            let keys = self.key.of(&batch)?;
            let keep: BooleanArray = keys
                .iter()
                .map(|k| Some(!touched.contains(k.as_ref())))
                .collect();
            // Rows of untouched keys that share a hash with a touched key
            // lost their index entry above; they are re-indexed with the
            // segment that now holds them.
            for (k, keep) in keys.iter().zip(keep.values().iter()) {
                if keep {
                    let ids = self.index.entry(xxh3_64(k.as_ref())).or_default();
                    ids.retain(|i| *i != id);
                }
            }
            let rest = filter_record_batch(&batch, &keep)?;
            if rest.num_rows() > 0 {
                kept.push(rest);
            }
        }
        self.add(&kept)?;
        self.add(fresh)?;
        self.merge_small()?;
        self.publish();
        Ok(())
    }

    /// Stores `batches` as new segments and indexes their keys.
    fn add(&mut self, batches: &[RecordBatch]) -> Result<()> {
        let nonempty: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
        if nonempty.is_empty() {
            return Ok(());
        }
        let whole = concat_batches(&self.schema, nonempty)?;
        for at in (0..whole.num_rows()).step_by(SEGMENT_ROWS) {
            let segment = whole.slice(at, SEGMENT_ROWS.min(whole.num_rows() - at));
            let id = self.next_id;
            self.next_id += 1;
            for k in self.key.of(&segment)?.iter() {
                let ids = self.index.entry(xxh3_64(k.as_ref())).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            self.rows += segment.num_rows();
            self.segments.insert(id, segment);
        }
        Ok(())
    }

    /// Merges small segments, which replacing a few keys at a time leaves.
    fn merge_small(&mut self) -> Result<()> {
        let small: Vec<u32> = self
            .segments
            .iter()
            .filter(|(_, b)| b.num_rows() < SMALL_SEGMENT_ROWS)
            .map(|(&id, _)| id)
            .collect();
        if small.len() < SMALL_SEGMENTS_MERGED {
            return Ok(());
        }
        let mut batches = Vec::with_capacity(small.len());
        for id in &small {
            let batch = self.segments.remove(id).expect("listed above");
            self.rows -= batch.num_rows();
            for k in self.key.of(&batch)?.iter() {
                if let Some(ids) = self.index.get_mut(&xxh3_64(k.as_ref())) {
                    ids.retain(|i| i != id);
                }
            }
            batches.push(batch);
        }
        self.index.retain(|_, ids| !ids.is_empty());
        self.add(&batches)
    }

    fn publish(&mut self) {
        self.snapshot = Arc::new(self.segments.values().cloned().collect());
    }
}
