//! A maintained view's current rows, replaced key by key.
//!
//! Rows live in segments (Arrow batches) under stable ids. An index maps
//! the hash of each key to the segments holding rows of that key, so that
//! replacing the rows of a few keys rewrites only the segments they sit in.
//! Hash collisions only widen the set of segments rewritten: the rows
//! removed are those whose key bytes are in the touched set.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayData, ArrayRef, BooleanArray, RecordBatch};
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

/// The index's hash of a key's bytes. Unit tests keep 64 values, so that
/// keys collide all the time there.
fn key_hash(key: &[u8]) -> u64 {
    if cfg!(test) {
        xxh3_64(key) % 64
    } else {
        xxh3_64(key)
    }
}

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

    /// The rows of `batch` whose key is in `keys`.
    pub(crate) fn only(&self, keys: &KeySet, batch: &RecordBatch) -> Result<RecordBatch> {
        let keep: BooleanArray = self
            .of(batch)?
            .iter()
            .map(|k| Some(keys.contains(k.as_ref())))
            .collect();
        Ok(filter_record_batch(batch, &keep)?)
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

    /// Bytes held by the rows and the index. Segments are slices that can
    /// share buffers, so each buffer counts once.
    pub(crate) fn memory(&self) -> usize {
        let mut seen = HashSet::new();
        let mut bytes = 0;
        for batch in self.segments.values() {
            for column in batch.columns() {
                bytes += buffers_bytes(&column.to_data(), &mut seen);
            }
        }
        bytes + self.index.capacity() * (8 + std::mem::size_of::<SmallVec<[u32; 2]>>())
    }

    /// The rows of the keys given as key columns, found through the index.
    pub(crate) fn lookup(&self, keys: &[ArrayRef]) -> Result<Vec<RecordBatch>> {
        let wanted = KeyRows::set(&self.key.keys(keys)?);
        let mut ids: Vec<u32> = wanted
            .iter()
            .filter_map(|k| self.index.get(&key_hash(k)))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|id| self.segments.get(id))
            .map(|segment| self.key.only(&wanted, segment))
            .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0))
            .collect()
    }

    /// Replaces every row whose key is in `touched` by `fresh` (rows whose
    /// keys are all in `touched`).
    pub(crate) fn replace(&mut self, touched: &KeySet, fresh: &[RecordBatch]) -> Result<()> {
        let hashes: FxHashMap<u64, ()> = touched.iter().map(|k| (key_hash(k), ())).collect();
        let mut affected: Vec<u32> = hashes
            .keys()
            .filter_map(|h| self.index.remove(h))
            .flatten()
            .collect();
        affected.sort_unstable();
        affected.dedup();
        for id in affected {
            let Some(batch) = self.segments.get(&id) else {
                continue;
            };
            let keys = self.key.of(batch)?;
            let mut keep = Vec::with_capacity(batch.num_rows());
            for k in keys.iter() {
                let k = k.as_ref();
                let kept = !touched.contains(k);
                // A kept row whose key shares a hash with a touched key lost
                // its index entry above: it gets it back.
                if kept {
                    let h = key_hash(k);
                    if hashes.contains_key(&h) {
                        let ids = self.index.entry(h).or_default();
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                keep.push(kept);
            }
            // The segment keeps its id, so the index entries of its other
            // keys stay right.
            let rest = filter_record_batch(batch, &BooleanArray::from(keep))?;
            self.rows -= batch.num_rows() - rest.num_rows();
            if rest.num_rows() == 0 {
                self.segments.remove(&id);
            } else {
                self.segments.insert(id, rest);
            }
        }
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
                let ids = self.index.entry(key_hash(k.as_ref())).or_default();
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
                if let Some(ids) = self.index.get_mut(&key_hash(k.as_ref())) {
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

/// Bytes of the buffers of `data` and its children not yet in `seen`.
fn buffers_bytes(data: &ArrayData, seen: &mut HashSet<usize>) -> usize {
    let mut bytes = 0;
    let nulls = data.nulls().map(|n| n.inner().inner());
    for buffer in data.buffers().iter().chain(nulls) {
        if seen.insert(buffer.data_ptr().as_ptr() as usize) {
            bytes += buffer.capacity();
        }
    }
    bytes
        + data
            .child_data()
            .iter()
            .map(|c| buffers_bytes(c, seen))
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use datafusion::arrow::array::{AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Int64, false),
        ]))
    }

    fn batch(rows: &[(String, i64)]) -> RecordBatch {
        let keys: StringArray = rows.iter().map(|(k, _)| Some(k.as_str())).collect();
        let values: Int64Array = rows.iter().map(|(_, v)| Some(*v)).collect();
        RecordBatch::try_new(schema(), vec![Arc::new(keys), Arc::new(values)]).unwrap()
    }

    fn contents(m: &Materialized) -> Vec<(String, i64)> {
        let mut rows = Vec::new();
        for b in m.snapshot().iter() {
            let keys = b.column(0).as_string::<i32>();
            let values = b.column(1).as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                rows.push((keys.value(r).to_string(), values.value(r)));
            }
        }
        rows.sort();
        rows
    }

    /// Replacing keys round after round (small segments pile up and are
    /// merged) leaves exactly the rows a plain map of key to rows holds.
    #[test]
    fn replacing_keys_matches_a_map_of_rows() {
        let mut model: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut rows = Vec::new();
        for i in 0..20_000i64 {
            let key = format!("k{}", i % 7_000);
            model.entry(key.clone()).or_default().push(i);
            rows.push((key, i));
        }
        let key = KeyRows::new(&schema(), vec![0]).unwrap();
        let mut m = Materialized::new(schema(), key, &[batch(&rows)]).unwrap();
        let mut seed = 7u64;
        for round in 0..200i64 {
            // Each touched key gets 0 to 2 rows back; a key touched twice
            // in a round keeps its last rows.
            let mut round_rows: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for _ in 0..(1 + round % 40) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = format!("k{}", (seed >> 33) % 7_500);
                let n = (seed >> 20) % 3;
                round_rows.insert(k, (0..n as i64).map(|j| round * 10 + j).collect());
            }
            let touched: Vec<(String, i64)> = round_rows.keys().map(|k| (k.clone(), 0)).collect();
            let fresh: Vec<(String, i64)> = round_rows
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |&v| (k.clone(), v)))
                .collect();
            model.extend(round_rows);
            let set = KeyRows::set(&m.key.of(&batch(&touched)).unwrap());
            m.replace(&set, &[batch(&fresh)]).unwrap();
        }
        let mut expected: Vec<(String, i64)> = model
            .into_iter()
            .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
            .collect();
        expected.sort();
        let got = contents(&m);
        if got != expected {
            let missing: Vec<_> = expected
                .iter()
                .filter(|r| !got.contains(r))
                .take(5)
                .collect();
            let extra: Vec<_> = got
                .iter()
                .filter(|r| !expected.contains(r))
                .take(5)
                .collect();
            panic!("missing {missing:?}, extra {extra:?}");
        }
        assert_eq!(m.rows(), expected.len());
        assert!(m.segments.len() < 200, "{} segments", m.segments.len());
    }
}
