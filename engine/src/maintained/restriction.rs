//! The keys a refresh recomputes, as every scan of its query sees them: a
//! table that has the key's columns yields only rows of those keys, so a
//! maintained view is recomputed from the touched keys' rows alone.
//!
//! Rows are matched by a hash of their key values, which lets through a
//! few rows of other keys when hashes collide; the refresh keeps only the
//! result rows of touched keys, so they change nothing.

use std::hash::BuildHasherDefault;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches, filter_record_batch};
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

    /// The touched keys as columns named `key`, typed as `schema` types
    /// them, when the restriction is by exactly those columns.
    pub(crate) fn keys_as(
        &self,
        key: &[String],
        schema: &SchemaRef,
    ) -> Result<Option<Vec<ArrayRef>>> {
        let schema_of_keys = self.keys.schema();
        let names: Vec<&String> = schema_of_keys.fields().iter().map(|f| f.name()).collect();
        if names.len() != key.len() || names.iter().zip(key).any(|(a, b)| *a != b) {
            return Ok(None);
        }
        let columns = key
            .iter()
            .zip(self.keys.columns())
            .map(|(k, c)| Ok(cast(c, schema.field_with_name(k)?.data_type())?))
            .collect::<Result<_>>()?;
        Ok(Some(columns))
    }

    /// For a table with `schema`: the positions of the key columns in it
    /// and the hashes of the touched keys as it types them (see
    /// [`key_hashes`]); `None` when it lacks a key column.
    pub(crate) fn wanted(
        &self,
        schema: &SchemaRef,
    ) -> Result<Option<(Vec<usize>, FxHashSet<u64>)>> {
        let mut at = Vec::with_capacity(self.keys.num_columns());
        for field in self.keys.schema().fields() {
            match schema.index_of(field.name()) {
                Ok(i) => at.push(i),
                Err(_) => return Ok(None),
            }
        }
        let touched: Vec<ArrayRef> = at
            .iter()
            .zip(self.keys.columns())
            .map(|(&i, keys)| cast(keys, schema.field(i).data_type()))
            .collect::<std::result::Result<_, _>>()?;
        let wanted = key_hashes(&touched, self.keys.num_rows())?
            .into_iter()
            .collect();
        Ok(Some((at, wanted)))
    }

    /// `batches` of a table with `schema`, restricted to the touched keys
    /// when the table has every key column; else all of them.
    pub(crate) fn apply(
        &self,
        schema: &SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let Some((at, wanted)) = self.wanted(schema)? else {
            return Ok(batches);
        };
        let kept: Vec<RecordBatch> = batches
            .into_iter()
            .map(|b| {
                let columns: Vec<ArrayRef> = at.iter().map(|&i| b.column(i).clone()).collect();
                let keep: BooleanArray = key_hashes(&columns, b.num_rows())?
                    .into_iter()
                    .map(|h| Some(wanted.contains(&h)))
                    .collect();
                Ok(filter_record_batch(&b, &keep)?)
            })
            .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0))
            .collect::<Result<_>>()?;
        // One batch, not one per stored batch the rows came from.
        Ok(vec![concat_batches(schema, &kept)?])
    }
}

/// The hash of each row's values of `columns`, which a restriction and a
/// [`RowIndex`](super::row_index::RowIndex) match rows by.
pub(crate) fn key_hashes(columns: &[ArrayRef], rows: usize) -> Result<Vec<u64>> {
    let mut out = vec![0; rows];
    create_hashes_with_hasher(columns, &Hashing::default(), &mut out)?;
    Ok(out)
}
