//! The keys a refresh recomputes, as every scan of its query sees them: a
//! table that has the key's columns yields only rows of those keys, so a
//! maintained view is recomputed from the touched keys' rows alone.
//!
//! Rows are matched by a hash of their key values, which lets through a
//! few rows of other keys when hashes collide; the refresh keeps only the
//! result rows of touched keys, so they change nothing.

use std::hash::BuildHasherDefault;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::hash_utils::create_hashes_with_hasher;
use datafusion::error::Result;
use rustc_hash::{FxHashSet, FxHasher};

type Hashing = BuildHasherDefault<FxHasher>;

/// A refresh's touched keys, set on the session its query runs in.
#[derive(Debug)]
pub(crate) struct Restriction {
    /// The touched keys, one column per key column.
    keys: RecordBatch,
}

impl Restriction {
    pub(crate) fn new(keys: RecordBatch) -> Self {
        Self { keys }
    }

    /// `batches` of a table with `schema`, restricted to the touched keys
    /// when the table has every key column; else all of them.
    pub(crate) fn apply(
        &self,
        schema: &SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let mut at = Vec::with_capacity(self.keys.num_columns());
        for field in self.keys.schema().fields() {
            match schema.index_of(field.name()) {
                Ok(i) => at.push(i),
                Err(_) => return Ok(batches),
            }
        }
        let touched: Vec<ArrayRef> = at
            .iter()
            .zip(self.keys.columns())
            .map(|(&i, keys)| cast(keys, schema.field(i).data_type()))
            .collect::<std::result::Result<_, _>>()?;
        let wanted: FxHashSet<u64> = hashes(&touched, self.keys.num_rows())?
            .into_iter()
            .collect();
        batches
            .into_iter()
            .map(|b| {
                let columns: Vec<ArrayRef> = at.iter().map(|&i| b.column(i).clone()).collect();
                let keep: BooleanArray = hashes(&columns, b.num_rows())?
                    .into_iter()
                    .map(|h| Some(wanted.contains(&h)))
                    .collect();
                Ok(filter_record_batch(&b, &keep)?)
            })
            .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0))
            .collect()
    }
}

fn hashes(columns: &[ArrayRef], rows: usize) -> Result<Vec<u64>> {
    let mut out = vec![0; rows];
    create_hashes_with_hasher(columns, &Hashing::default(), &mut out)?;
    Ok(out)
}
