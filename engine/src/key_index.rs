//! Numbers by 64-bit key: identifier numbers by identity key in the graph,
//! order numbers by key hash in the store.
//!
//! An open-addressing table with linear probing rather than a general hash
//! map, because a key's home slot follows from the key alone: a loop over
//! many keys prefetches the slots of the keys a few steps ahead. In a full
//! load almost every lookup misses the cache, and the prefetches overlap
//! those misses instead of waiting on each in turn.

/// Marks a free slot; never a number held.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    /// `NONE` marks a free slot.
    id: u32,
}

const FREE: Entry = Entry { key: 0, id: NONE };

const SLOTS_PER_LINE: usize = 64 / std::mem::size_of::<Entry>();

/// Number by key; keys are never removed.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    /// A power of two long, at most two thirds full.
    slots: Vec<Entry>,
    len: usize,
    /// 64 minus log2 of the slot count: the home slot is the top bits of
    /// the key times a constant (Fibonacci hashing), which spreads keys a
    /// hostile input chose to share their low bits.
    shift: u32,
}

impl KeyIndex {
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The number held under `key`.
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let entry = self.slots[at];
            if entry.id == NONE {
                return None;
            }
            if entry.key == key {
                return Some(entry.id);
            }
            at = (at + 1) & mask;
        }
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every key and its number, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots
            .iter()
            .filter(|e| e.id != NONE)
            .map(|e| (e.key, e.id))
    }

    /// Adds `key`, which must not be in the index yet, with a number other
    /// than `u32::MAX`.
    pub(crate) fn insert(&mut self, key: u64, id: u32) {
        debug_assert!(id != NONE && self.get(key).is_none());
        self.reserve(1);
        self.place(Entry { key, id });
        self.len += 1;
    }

    fn place(&mut self, entry: Entry) {
        let mask = self.slots.len() - 1;
        let mut at = self.home(entry.key);
        while self.slots[at].id != NONE {
            at = (at + 1) & mask;
        }
        self.slots[at] = entry;
    }

    /// Makes room for `additional` more keys without growing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = (self.len + additional) * 3 / 2 + 1;
        if needed <= self.slots.len() {
            return;
        }
        let count = needed.next_power_of_two().max(16);
        let old = std::mem::replace(&mut self.slots, vec![FREE; count]);
        self.shift = 64 - count.trailing_zeros();
        for entry in old.into_iter().filter(|e| e.id != NONE) {
            self.place(entry);
        }
    }

    /// Starts loading the cache lines a lookup of `key` reads: the home
    /// slot's, and the next. At up to two thirds full, a key that is not
    /// held (a new order, a new identifier) probes about four slots, which
    /// most often run into the next line.
    pub(crate) fn prefetch(&self, key: u64) {
        if !self.slots.is_empty() {
            let home = self.home(key);
            prefetch_lines(&self.slots[home]);
            prefetch_lines(&self.slots[(home + SLOTS_PER_LINE) & (self.slots.len() - 1)]);
        }
    }
}

/// Asks the CPU to start loading the cache lines holding `value`: a hint,
/// with no effect on results (and none at all on targets without one).
pub(crate) fn prefetch_lines<T>(value: &T) {
    let start = (value as *const T).cast::<i8>();
    // From the line holding the first byte to the one holding the last.
    let skew = start as usize % 64;
    for offset in (0..skew + std::mem::size_of::<T>()).step_by(64) {
        prefetch(start.wrapping_add(offset).wrapping_sub(skew));
    }
}

fn prefetch(at: *const i8) {
    // SAFETY: SSE is part of every x86-64 CPU, and a prefetch never
    // dereferences: it cannot fault, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_it_holds_across_growth() {
        let mut index = KeyIndex::default();
        assert_eq!(index.get(7), None);
        // Enough keys that homes collide and probes wrap around the end;
        // key 0 is a key like any other.
        let keys: Vec<u64> = (0..20_000u64)
            .map(|i| i.wrapping_mul(0x2545_f491_4f6c_dd1d))
            .collect();
        for (id, &key) in keys.iter().enumerate() {
            index.insert(key, id as u32);
        }
        for (id, &key) in keys.iter().enumerate() {
            assert_eq!(index.get(key), Some(id as u32), "key {key:#x}");
        }
        assert_eq!(index.get(12345), None);
        assert!(index.slots.len() >= keys.len() * 3 / 2);
        assert_eq!(index.len(), keys.len());
        let mut held: Vec<(u64, u32)> = index.iter().collect();
        held.sort_unstable_by_key(|&(_, id)| id);
        assert_eq!(
            held,
            keys.iter()
                .enumerate()
                .map(|(id, &k)| (k, id as u32))
                .collect::<Vec<_>>()
        );
    }
}
