//! Values refused as identifiers (relay numbers, placeholders, blocklisted
//! values), with the orders that carried them. They are kept only to be
//! reported, never read while resolving: so an apply notes them in its loop
//! and files them after it, beside finding components.

use rustc_hash::FxHashMap as HashMap;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::postings::Postings;
use super::{IdentityKind, Refusal, Span};

/// Refused values by a hash of kind and value.
#[derive(Debug, Default)]
pub(super) struct RefusedValues {
    by_key: HashMap<u64, RefusedValue>,
    /// The key of each value noted, in order: append-only, read by
    /// watermark (see [`RefusedValues::noted_since`]).
    noted: Vec<u64>,
}

impl RefusedValues {
    /// Adds an order carrying `value`.
    pub(super) fn note(
        &mut self,
        kind: IdentityKind,
        value: &str,
        why: Refusal,
        order: u32,
        at: i64,
    ) {
        let key = self.key(kind, value);
        let entry = self.by_key.entry(key).or_insert_with(|| RefusedValue {
            kind,
            value: value.to_string(),
            why,
            orders: Postings::default(),
            first_seen: at,
            last_seen: at,
        });
        entry.orders.insert(order);
        entry.first_seen = entry.first_seen.min(at);
        entry.last_seen = entry.last_seen.max(at);
        self.noted.push(key);
    }

    /// The values noted since `seen` notes were read (a value once per
    /// note), moving `seen` on.
    pub(super) fn noted_since(&self, seen: &mut usize) -> impl Iterator<Item = &RefusedValue> {
        let from = (*seen).min(self.noted.len());
        *seen = self.noted.len();
        self.noted[from..].iter().map(|key| &self.by_key[key])
    }

    /// Adds a value whole, as a checkpoint kept it.
    pub(super) fn restore(&mut self, value: RefusedValue) {
        self.by_key
            .insert(self.key(value.kind, &value.value), value);
    }

    /// How many values [`Self::iter`] lists (forgotten ones are not).
    pub(super) fn len(&self) -> usize {
        self.iter().count()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &RefusedValue> {
        self.by_key.values().filter(|r| !r.value.is_empty())
    }

    /// Takes `orders` (erased) out of every value; forgets the text of a
    /// value left without orders. Returns how many it forgot.
    pub(super) fn forget(&mut self, orders: &[u32]) -> usize {
        let mut forgotten = 0;
        for r in self.by_key.values_mut() {
            for &o in orders {
                r.orders.remove(o);
            }
            if r.orders.is_empty() && !r.value.is_empty() {
                r.value.clear();
                forgotten += 1;
            }
        }
        forgotten
    }

    /// The key of a value: a hash of kind and value, moved on past other
    /// values under the same hash so none are merged. Values are never
    /// removed (a forgotten one keeps its place, its text emptied), so a
    /// lookup passes the same keys its insertion did.
    fn key(&self, kind: IdentityKind, value: &str) -> u64 {
        let mut key = xxh3_64_with_seed(value.as_bytes(), kind as u64);
        while let Some(r) = self.by_key.get(&key)
            && (r.kind != kind || r.value != value)
        {
            key = key.wrapping_add(1);
        }
        key
    }
}

/// Refused values one apply met, in order, to file after its loop.
#[derive(Debug, Default)]
pub(super) struct RefusedNotes {
    notes: Vec<Note>,
    /// The notes' values: the inputs holding them are gone by then.
    text: String,
}

#[derive(Debug)]
struct Note {
    kind: IdentityKind,
    why: Refusal,
    order: u32,
    at: i64,
    value: Span,
}

impl RefusedNotes {
    pub(super) fn push(
        &mut self,
        kind: IdentityKind,
        value: &str,
        why: Refusal,
        order: u32,
        at: i64,
    ) {
        let value = super::hold(&mut self.text, value);
        self.notes.push(Note {
            kind,
            why,
            order,
            at,
            value,
        });
    }

    pub(super) fn len(&self) -> usize {
        self.notes.len()
    }

    /// Files every note in `values`, in the order they were met.
    pub(super) fn file(&self, values: &mut RefusedValues) {
        for n in &self.notes {
            values.note(n.kind, n.value.of(&self.text), n.why, n.order, n.at);
        }
    }
}

/// A value refused as an identifier, with the orders that carried it.
#[derive(Debug, Clone)]
pub struct RefusedValue {
    /// The identifier kind.
    pub kind: IdentityKind,
    /// The normalized (or trimmed raw) value.
    pub value: String,
    /// Why it was refused.
    pub why: Refusal,
    /// Orders carrying it. Most refused values are a relay number on one
    /// order: postings keep those without a heap allocation.
    pub(crate) orders: Postings,
    /// Earliest `ordered_at` seen.
    pub first_seen: i64,
    /// Latest `ordered_at` seen.
    pub last_seen: i64,
}

impl RefusedValue {
    /// How many orders carry the value.
    pub fn order_count(&self) -> u64 {
        self.orders.len() as u64
    }
}
