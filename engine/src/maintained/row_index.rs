//! Rows of an append-only table by the hash of some of their columns, so
//! that a maintained view's refresh reads the touched keys' rows without
//! scanning the table. Built on first use and extended as rows arrive.

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::error::Result;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::restriction::key_hashes;

#[derive(Debug)]
pub(crate) struct RowIndex {
    columns: Vec<usize>,
    /// Rows indexed so far, counted from the table's first.
    indexed: usize,
    rows: FxHashMap<u64, SmallVec<[u32; 2]>>,
}

impl RowIndex {
    pub(crate) fn new(columns: Vec<usize>) -> Self {
        Self {
            columns,
            indexed: 0,
            rows: FxHashMap::default(),
        }
    }

    /// The index of `columns` among `indexes`, added if missing.
    pub(crate) fn find<'a>(indexes: &'a mut Vec<RowIndex>, columns: &[usize]) -> &'a mut RowIndex {
        let at = match indexes.iter().position(|i| i.columns == columns) {
            Some(at) => at,
            None => {
                indexes.push(RowIndex::new(columns.to_vec()));
                indexes.len() - 1
            }
        };
        &mut indexes[at]
    }

    /// The rows of `batches` (the whole table, in order) whose key hash is
    /// in `wanted`, after indexing the rows that arrived since last time.
    pub(crate) fn rows_with(
        &mut self,
        batches: &[RecordBatch],
        wanted: &FxHashSet<u64>,
    ) -> Result<Vec<RecordBatch>> {
        let mut start = 0;
        let mut starts = Vec::with_capacity(batches.len());
        for b in batches {
            starts.push(start);
            let end = start + b.num_rows();
            if end > self.indexed {
                let from = self.indexed.max(start) - start;
                let part = b.slice(from, b.num_rows() - from);
                let columns: Vec<ArrayRef> = self
                    .columns
                    .iter()
                    .map(|&i| part.column(i).clone())
                    .collect();
                for (i, h) in key_hashes(&columns, part.num_rows())?
                    .into_iter()
                    .enumerate()
                {
                    self.rows
                        .entry(h)
                        .or_default()
                        .push((start + from + i) as u32);
                }
                self.indexed = end;
            }
            start = end;
        }
        let mut found: Vec<u32> = wanted
            .iter()
            .filter_map(|h| self.rows.get(h))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        let mut out = Vec::new();
        let mut at = 0;
        while at < found.len() {
            let batch = starts.partition_point(|&s| s <= found[at] as usize) - 1;
            let end = starts.get(batch + 1).copied().unwrap_or(usize::MAX);
            let mut take = Vec::new();
            while at < found.len() && (found[at] as usize) < end {
                take.push(found[at] - starts[batch] as u32);
                at += 1;
            }
            out.push(take_record_batch(
                &batches[batch],
                &UInt32Array::from(take),
            )?);
        }
        // One batch, not one per stored batch the rows came from: a table
        // fed by many small requests would hand the plan thousands.
        Ok(match out.first() {
            Some(first) => vec![concat_batches(&first.schema(), &out)?],
            None => out,
        })
    }
}
