//! Order keys: the hash of `(channel, order_id)`, the index from hashes to
//! order numbers, and the orders of one input by key.

use super::*;

/// How many keys ahead of the one being looked up (or inserted) its index
/// slot is prefetched: far enough for the cache miss to arrive in time.
pub(super) const PREFETCH_AHEAD: usize = 16;

/// The key of `(channel, order_id)`: xxh3 of `channel 0x1f order_id`, built
/// on the stack (the streaming hasher costs more than the hash).
pub(super) fn key_hash(channel: &str, order_id: &str) -> u64 {
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
pub(super) fn key_hashes(channels: &StringArray, order_ids: &StringArray) -> Vec<u64> {
    pub(super) const BLOCK: usize = 256;
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
pub(super) struct Pending {
    /// Position of that version among the accepted rows.
    pub(super) position: u32,
    pub(super) order: u32,
    pub(super) version: u32,
}

/// The orders of one input by key hash. Entries whose keys share a hash are
/// chained, so a 64-bit collision cannot merge two orders.
#[derive(Debug)]
pub(super) struct PendingKeys {
    pub(super) heads: HashMap<u64, u32>,
    /// Each entry and the next one with the same hash.
    pub(super) entries: Vec<(Pending, u32)>,
}

impl PendingKeys {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            heads: HashMap::with_capacity_and_hasher(n, Default::default()),
            entries: Vec::with_capacity(n),
        }
    }

    /// The entry under `key` for which `is_same` holds, and where it is.
    pub(super) fn find(
        &self,
        key: u64,
        is_same: impl Fn(&Pending) -> bool,
    ) -> Option<(Pending, u32)> {
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
    pub(super) fn replace(&mut self, at: u32, entry: Pending) {
        self.entries[at as usize].0 = entry;
    }

    /// Records the first version of an order not in the input before.
    pub(super) fn add(&mut self, key: u64, entry: Pending) {
        let fresh = self.entries.len() as u32;
        let next = self.heads.insert(key, fresh).unwrap_or(NONE);
        self.entries.push((entry, next));
    }

    /// Positions of each order's latest version, ascending.
    pub(super) fn last_positions(&self) -> Vec<usize> {
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
pub(super) fn same_row(a: &RecordBatch, i: usize, b: &RecordBatch, j: usize) -> bool {
    (0..ORDERS.columns.len()).all(|col| same_value(a.column(col), i, b.column(col), j))
}

pub(super) fn same_value(a: &ArrayRef, i: usize, b: &ArrayRef, j: usize) -> bool {
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
pub(super) struct OrderIndex {
    /// The first order under each hash.
    pub(super) first: KeyIndex,
    /// Any further orders under a hash (keys that collide): almost always
    /// empty.
    pub(super) more: HashMap<u64, Vec<u32>>,
}

impl OrderIndex {
    /// The orders under `key`, first to last.
    pub(super) fn orders(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let more = self.more.get(&key).map_or(&[][..], Vec::as_slice);
        self.first.get(key).into_iter().chain(more.iter().copied())
    }

    pub(super) fn insert(&mut self, key: u64, order: u32) {
        if self.first.get(key).is_some() {
            self.more.entry(key).or_default().push(order);
        } else {
            self.first.insert(key, order);
        }
    }

    pub(super) fn reserve(&mut self, additional: usize) {
        self.first.reserve(additional);
    }

    /// Starts loading where a lookup of `key` begins.
    pub(super) fn prefetch(&self, key: u64) {
        self.first.prefetch(key);
    }

    /// Distinct hashes held.
    pub(super) fn len(&self) -> usize {
        self.first.len()
    }

    /// Each hash with its orders, in no particular order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (u64, Vec<u32>)> + '_ {
        self.first
            .iter()
            .map(|(key, _)| (key, self.orders(key).collect()))
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
