//! The crate's own pseudo-random number generator.
//!
//! A hand-written xoshiro256** seeded through SplitMix64, so that a seed maps
//! to the same dataset on every platform and every future build: no external
//! crate can change its stream under us, and only integer arithmetic and exact
//! floating-point operations are used.

/// SplitMix64 step; used to expand seeds and to derive independent streams.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// Seeds the generator from one 64-bit value.
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for v in &mut s {
            *v = splitmix64(&mut sm);
        }
        // SplitMix64 never yields four zero words, but the all-zero state would
        // be a fixed point, so guard anyway.
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    /// An independent stream for `(seed, tag, index)`; lets each generation
    /// phase and each person draw without disturbing the others, so changing
    /// one phase does not reshuffle everything downstream.
    pub(crate) fn stream(seed: u64, tag: u64, index: u64) -> Self {
        let mut sm = seed ^ tag.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let a = splitmix64(&mut sm);
        let mut sm2 = a ^ index.wrapping_mul(0xA24B_AED4_963E_E407);
        Self::new(splitmix64(&mut sm2))
    }

    /// Next 64 random bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, n)`; `n` must be positive. Lemire's multiply-shift; the
    /// bias (< n / 2^64) is irrelevant for synthetic data.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    #[inline]
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in the inclusive range `[lo, hi]`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 bits; exact arithmetic, hence portable.
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Picks an element of `items`.
    #[inline]
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index drawn proportionally to integer `weights` (not all zero).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        self.weighted_index(weights.len(), |i| weights[i])
    }

    /// Element of `items` drawn proportionally to `weight` (not all zero),
    /// without collecting the weights first.
    pub(crate) fn weighted_by<'a, T>(
        &mut self,
        items: &'a [T],
        weight: impl Fn(&T) -> u32,
    ) -> &'a T {
        &items[self.weighted_index(items.len(), |i| weight(&items[i]))]
    }

    /// Index in `0..n` drawn proportionally to `weight(i)`: one draw, then a
    /// walk over the cumulative weights.
    fn weighted_index(&mut self, n: usize, weight: impl Fn(usize) -> u32) -> usize {
        let total: u64 = (0..n).map(|i| weight(i) as u64).sum();
        let mut r = self.below(total);
        for i in 0..n {
            let w = weight(i) as u64;
            if r < w {
                return i;
            }
            r -= w;
        }
        n - 1
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// A fast, non-cryptographic hasher for the generator's uniqueness sets
/// (FxHash). The sets are only probed, never iterated, so the hash cannot
/// influence output; SipHash's DoS resistance buys nothing here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes its control bits from the top; fold the
        // well-mixed low bits up there.
        self.hash.rotate_left(26)
    }
}

/// `HashSet` with [`FxHasher`].
pub(crate) type FxHashSet<T> =
    std::collections::HashSet<T, std::hash::BuildHasherDefault<FxHasher>>;

/// `HashMap` with [`FxHasher`]; like the sets, only probed, never iterated.
pub(crate) type FxHashMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_stable() {
        // Pins the generator: if this changes, every published dataset changes.
        let mut r = Rng::new(1);
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut again = Rng::new(1);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(
            Rng::stream(1, 2, 3).next_u64(),
            Rng::stream(1, 2, 4).next_u64()
        );
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            let v = r.range(5, 7);
            assert!((5..=7).contains(&v));
            let f = r.f64();
            assert!((0.0..1.0).contains(&f));
        }
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.weighted(&[1, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0]);
    }
}
