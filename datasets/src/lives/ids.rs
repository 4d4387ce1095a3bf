//! Identifier arithmetic: a keyed bijection on decimal numbers, so that
//! counters become random-looking numbers that never collide, and a keyed
//! hash for identifiers derived from who owns them.

use crate::rng::splitmix64;

/// Mixes `parts` under `key` into 64 well-spread bits.
pub(super) fn hash(key: u64, parts: &[u64]) -> u64 {
    let mut state = key;
    let mut out = splitmix64(&mut state);
    for &p in parts {
        state ^= p.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ out;
        out = splitmix64(&mut state);
    }
    out
}

/// A keyed permutation of `0..10^(2 * half)`: a four-round Feistel network
/// over two halves of `half` decimal digits. Distinct inputs below the
/// domain size give distinct outputs, which is what keeps order ids, phone
/// numbers and account numbers unique without a lookup table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scrambler {
    key: u64,
    modulus: u64,
}

impl Scrambler {
    /// A permutation of numbers with `2 * half` decimal digits.
    pub(super) fn new(key: u64, half: u32) -> Self {
        debug_assert!((1..=9).contains(&half));
        Self {
            key,
            modulus: 10u64.pow(half),
        }
    }

    /// Size of the domain.
    pub(super) fn domain(&self) -> u64 {
        self.modulus * self.modulus
    }

    /// The image of `x` (taken modulo the domain size).
    pub(super) fn apply(&self, x: u64) -> u64 {
        let x = x % self.domain();
        let (mut left, mut right) = (x / self.modulus, x % self.modulus);
        for round in 0..4u64 {
            let f = hash(self.key, &[round, right]) % self.modulus;
            (left, right) = (right, (left + f) % self.modulus);
        }
        left * self.modulus + right
    }
}

/// Characters of WeChat's openid/unionid alphabet (URL-safe base64).
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` characters of URL-safe base64 drawn from `bits` and its rehashes.
pub(super) fn push_base64(out: &mut String, mut bits: u64, len: usize) {
    let mut left = 10;
    for _ in 0..len {
        if left == 0 {
            bits = hash(bits, &[len as u64]);
            left = 10;
        }
        out.push(ID_ALPHABET[(bits & 63) as usize] as char);
        bits >>= 6;
        left -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrambler_is_a_permutation() {
        let s = Scrambler::new(42, 2);
        let mut seen = vec![false; s.domain() as usize];
        for x in 0..s.domain() {
            let y = s.apply(x) as usize;
            assert!(!seen[y]);
            seen[y] = true;
        }
        let wide = Scrambler::new(7, 9);
        assert!(wide.apply(123) < wide.domain());
        assert_ne!(wide.apply(1), wide.apply(2));
    }
}
