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
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::{concat_batches, filter_record_batch, take_record_batch};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::row::{RowConverter, SortField};
use ordergraph_udfs::{mcid_bytes, mcid_of, mcid_str};
use roaring::RoaringBitmap;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::codec::{DecodeResult, Reader, Writer};
use crate::identity::{ApplyStats, Constraints, IdentityConfig, IdentityGraph, NONE};
use crate::key_index::KeyIndex;
use crate::log::BatchLog;
use crate::normalizer::Normalizing;
use crate::table::{ORDERS, orders_col as c, timestamp_type};
use crate::{Error, Result};

mod keys;
mod prepare;
mod recovery;
mod segments;

pub(crate) use keys::content_hashes;
use keys::*;
pub use prepare::{IngestReport, Prepared, RowReports};
pub(crate) use recovery::StoreCheckpoint;
use segments::*;
pub use segments::{orders_schema, versions_schema};

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

impl OrderStore {
    /// Opens the store in `dir`: loads the checkpoint, if any, then
    /// replays the log written after it.
    pub fn open(dir: &Path, identity: IdentityConfig) -> Result<Self> {
        Self::open_from(dir, identity, None)
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

    /// `(channel, order_id)` of every order of customer `mcid`, sorted.
    pub(crate) fn orders_of_customer(&self, mcid: u64) -> Vec<(String, String)> {
        let mut orders: Vec<(String, String)> = self
            .graph
            .mcids()
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m == mcid)
            .filter_map(|(o, _)| self.order_key_of(o as u32))
            .collect();
        orders.sort();
        orders
    }

    /// The key an order is hashed to, as corrections name it.
    pub(crate) fn order_key(channel: &str, order_id: &str) -> u64 {
        key_hash(channel, order_id)
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

#[cfg(test)]
mod tests;
