//! Normalizing an ingest's identifiers beside the rest of the ingest.
//!
//! Normalizing (phones above all) is most of an ingest's CPU time outside
//! the identity graph, and the graph's apply loop runs on one thread. So the
//! input's rows are normalized in chunks by helper threads started as soon
//! as its keys are hashed: they work while the ingest is checked against
//! the store and logged, and while the graph applies the chunks already
//! done; the applying thread normalizes a chunk itself rather than wait for
//! one. Rows the check finds unchanged, or superseded later in the same
//! input, are normalized for nothing and dropped: they are rare.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use crate::identity::{
    IdentityColumns, IdentityConfig, NONE, OrderInput, OrderInputs, city_key, place_key,
};
use crate::table::orders_col as c;

/// Statuses that show who holds an identifier: money changed hands.
const VALID_STATUSES: [&str; 3] = ["paid", "shipped", "signed"];

/// Rows per chunk: small enough that the graph starts soon after the first
/// one, large enough that the apply loop's prefetching, which does not look
/// across chunks, rarely runs dry.
const CHUNK: usize = 1024;

/// An ingest's identity inputs, being normalized.
#[derive(Debug)]
pub(crate) struct Normalizing {
    job: Arc<Job>,
    done: mpsc::Receiver<(usize, OrderInputs)>,
    /// Per input row, its order number if it feeds the graph, else
    /// [`NONE`]; empty until [`Self::select`].
    order_of_row: Vec<u32>,
    selected: usize,
}

#[derive(Debug)]
struct Job {
    /// The input, its columns in [`crate::table::ORDERS`] order.
    input: RecordBatch,
    /// Key hash per input row.
    keys: Arc<Vec<u64>>,
    config: IdentityConfig,
    /// The first chunk nobody has claimed yet.
    next: AtomicUsize,
    /// Set when the ingest is dropped unapplied: helpers stop.
    abandoned: AtomicBool,
}

impl Normalizing {
    /// Starts normalizing every row of `input` on helper threads.
    pub(crate) fn start(input: RecordBatch, keys: Arc<Vec<u64>>, config: &IdentityConfig) -> Self {
        let job = Arc::new(Job {
            input,
            keys,
            config: config.clone(),
            next: AtomicUsize::new(0),
            abandoned: AtomicBool::new(false),
        });
        let (sender, done) = mpsc::channel();
        // The applying thread takes the last core. One chunk needs no helper.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for _ in 0..(cores - 1).min(job.chunks().saturating_sub(1)) {
            let (job, sender) = (Arc::clone(&job), sender.clone());
            // A helper that cannot start leaves its share to the others.
            let _ = std::thread::Builder::new()
                .name("normalize".into())
                .spawn(move || {
                    while let Some(k) = job.claim() {
                        if sender.send((k, job.normalize(k))).is_err() {
                            break;
                        }
                    }
                });
        }
        Self {
            job,
            done,
            order_of_row: Vec::new(),
            selected: 0,
        }
    }

    /// Says which rows feed the graph, as which orders: `order_of_row` has
    /// an order number or [`NONE`] per input row.
    pub(crate) fn select(&mut self, order_of_row: Vec<u32>) {
        assert_eq!(order_of_row.len(), self.job.input.num_rows());
        self.selected = order_of_row.iter().filter(|&&o| o != NONE).count();
        self.order_of_row = order_of_row;
    }

    /// Number of orders selected.
    pub(crate) fn len(&self) -> usize {
        self.selected
    }

    /// The selected orders, normalized, chunk after chunk in input order.
    pub(crate) fn into_chunks(self) -> Chunks {
        Chunks {
            ready: (0..self.job.chunks()).map(|_| None).collect(),
            normalizing: self,
            at: 0,
        }
    }
}

impl Drop for Normalizing {
    fn drop(&mut self) {
        self.job.abandoned.store(true, Ordering::Relaxed);
    }
}

/// See [`Normalizing::into_chunks`].
#[derive(Debug)]
pub(crate) struct Chunks {
    normalizing: Normalizing,
    /// Chunks done ahead of their turn.
    ready: Vec<Option<OrderInputs>>,
    /// The next chunk to hand out.
    at: usize,
}

impl Iterator for Chunks {
    type Item = OrderInputs;

    fn next(&mut self) -> Option<OrderInputs> {
        while self.at < self.ready.len() {
            let mut inputs = self.take(self.at);
            self.at += 1;
            let order_of_row = &self.normalizing.order_of_row;
            inputs.renumber(|row| order_of_row[row as usize]);
            if !inputs.is_empty() {
                return Some(inputs);
            }
        }
        None
    }
}

impl Chunks {
    /// The `k`th chunk, numbered by input row.
    fn take(&mut self, k: usize) -> OrderInputs {
        let Normalizing { job, done, .. } = &self.normalizing;
        loop {
            if let Some(inputs) = self.ready[k].take() {
                return inputs;
            }
            while let Ok((j, inputs)) = done.try_recv() {
                self.ready[j] = Some(inputs);
            }
            if self.ready[k].is_some() {
                continue;
            }
            // Rather than wait, do the next chunk nobody has started.
            if let Some(j) = job.claim() {
                let inputs = job.normalize(j);
                if j == k {
                    return inputs;
                }
                self.ready[j] = Some(inputs);
                continue;
            }
            // A helper has chunk `k`.
            match done.recv() {
                Ok((j, inputs)) => self.ready[j] = Some(inputs),
                // Every helper is gone and `k` never came: one panicked.
                // Normalizing is deterministic, so do it here.
                Err(_) => return job.normalize(k),
            }
        }
    }
}

impl Job {
    fn chunks(&self) -> usize {
        self.input.num_rows().div_ceil(CHUNK)
    }

    /// Takes the next chunk nobody has started, if any.
    fn claim(&self) -> Option<usize> {
        if self.abandoned.load(Ordering::Relaxed) {
            return None;
        }
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        (k < self.chunks()).then_some(k)
    }

    /// Normalizes the `k`th chunk; each order is numbered by its input row
    /// until [`Chunks`] renumbers it.
    fn normalize(&self, k: usize) -> OrderInputs {
        let rows = k * CHUNK..((k + 1) * CHUNK).min(self.input.num_rows());
        let s = |i: usize| self.input.column(i).as_string::<i32>();
        let (statuses, cities, addresses) = (s(c::STATUS), s(c::SHIP_CITY), s(c::SHIP_ADDRESS));
        let columns = IdentityColumns::of(&self.input).expect("orders carry identifier columns");
        let at = self
            .input
            .column(c::ORDERED_AT)
            .as_primitive::<TimestampMicrosecondType>();
        let config = &self.config;
        let mut inputs = OrderInputs::with_capacity(rows.len());
        for row in rows {
            let raw = columns.row(row);
            let in_store = config.in_store(raw.channel);
            let input = OrderInput {
                order: row as u32,
                key: self.keys[row],
                at: at.value(row),
                valid: opt(statuses, row).is_some_and(|s| VALID_STATUSES.contains(&s)),
                phone_sig: None,
                in_store,
                place: match opt(addresses, row) {
                    Some(address) if in_store => place_key(address),
                    _ => 0,
                },
                city: opt(cities, row).map_or(0, city_key),
            };
            inputs.push_raw(input, &raw, config.region, &config.blocklist);
        }
        inputs
    }
}

fn opt(a: &StringArray, row: usize) -> Option<&str> {
    a.is_valid(row).then(|| a.value(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(orders: usize) -> RecordBatch {
        let dataset = ordergraph_datasets::generate(&ordergraph_datasets::GenConfig {
            customers: orders / 4,
            orders,
            seed: 5,
            ..Default::default()
        });
        let batches = dataset.to_record_batches(orders).unwrap();
        assert_eq!(batches.len(), 1);
        batches.into_iter().next().unwrap()
    }

    #[test]
    fn chunks_come_in_input_order_whoever_normalized_them() {
        let input = generated(3 * CHUNK + 5);
        let n = input.num_rows();
        let mut normalizing = Normalizing::start(input, Arc::new(vec![0; n]), &Default::default());
        // Every third row feeds the graph, numbered backwards.
        let order_of_row: Vec<u32> = (0..n as u32)
            .map(|row| {
                if row % 3 == 0 {
                    10 * (n as u32 - row)
                } else {
                    NONE
                }
            })
            .collect();
        normalizing.select(order_of_row.clone());
        let expected: Vec<u32> = order_of_row.into_iter().filter(|&o| o != NONE).collect();
        assert_eq!(normalizing.len(), expected.len());
        let chunks: Vec<OrderInputs> = normalizing.into_chunks().collect();
        assert_eq!(chunks.len(), n.div_ceil(CHUNK));
        let seen: Vec<u32> = chunks.iter().flat_map(|c| c.order_numbers()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn chunks_left_empty_are_skipped() {
        let input = generated(2 * CHUNK + 1);
        let n = input.num_rows();
        let mut normalizing = Normalizing::start(input, Arc::new(vec![0; n]), &Default::default());
        // Only the last chunk's one row feeds the graph.
        let mut order_of_row = vec![NONE; n];
        order_of_row[n - 1] = 42;
        normalizing.select(order_of_row);
        let chunks: Vec<OrderInputs> = normalizing.into_chunks().collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].order_numbers(), vec![42]);
    }

    #[test]
    fn an_ingest_dropped_unapplied_hands_out_no_more_chunks() {
        let input = generated(64 * CHUNK);
        let n = input.num_rows();
        let normalizing = Normalizing::start(input, Arc::new(vec![0; n]), &Default::default());
        let job = Arc::clone(&normalizing.job);
        drop(normalizing);
        assert!(job.claim().is_none());
        // Helpers finish the chunk they hold, then stop.
        while Arc::strong_count(&job) > 1 {
            std::thread::yield_now();
        }
    }
}
