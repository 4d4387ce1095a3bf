//! The time-ordered pass over all orders: order ids, pdd privacy numbers,
//! and the traps that only show across persons.

use super::*;

/// A keyed bijection on `[0, m)` for `k < m`: a bit-mixing permutation of
/// the smallest power-of-two range covering `m`, cycle-walked back into
/// `[0, m)` (each step is invertible, so the walk is too).
pub(super) fn scramble(k: u64, m: u64, key: u64) -> u64 {
    debug_assert!(k < m && m >= 2);
    let bits = 64 - (m - 1).leading_zeros();
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let shift = (bits / 2).max(1);
    let mut x = k;
    loop {
        // Odd multipliers, xor-shifts and additions are each invertible
        // modulo 2^bits.
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & mask;
        x ^= x >> shift;
        x = x.wrapping_add(key) & mask;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB) & mask;
        x ^= x >> shift;
        if x < m {
            return x;
        }
    }
}

/// Reorders `items` so that position `i` holds the old `items[perm[i]]`,
/// following the permutation's cycles with swaps.
pub(super) fn permute<T>(items: &mut [T], mut perm: Vec<u32>) {
    for start in 0..items.len() {
        let mut cur = start;
        loop {
            let next = perm[cur] as usize;
            perm[cur] = cur as u32;
            if next == start || next == cur {
                break;
            }
            items.swap(cur, next);
            cur = next;
        }
    }
}

/// The pool of ~200 privacy host numbers pdd leases extensions on.
pub(super) fn privacy_hosts(seed: u64) -> Vec<u64> {
    let mut rng = Rng::stream(seed, T_HOSTS, 0);
    let mut seen = HashSet::new();
    let mut hosts = Vec::with_capacity(200);
    while hosts.len() < 200 {
        let n = rng.pick(PRIVACY_PREFIXES) * 100_000_000 + rng.below(100_000_000);
        if seen.insert(n) {
            hosts.push(n);
        }
    }
    hosts
}

impl Generator<'_> {
    /// Assigns order ids and pdd privacy numbers in time order, and labels
    /// the traps that only show across persons. `rows`, `shown` and
    /// `skeletons` are aligned and sorted by time.
    pub(super) fn finish(
        &self,
        mut rows: Vec<OrderRow>,
        mut shown: Vec<Shown>,
        skeletons: &[Skeleton],
    ) -> Dataset {
        let seed = self.cfg.seed;
        let mut rng = Rng::stream(seed, T_POST, 0);
        let hosts = privacy_hosts(seed);
        // Per-channel sequence numbers pass through keyed bijections, so ids
        // are unique yet look random and unrelated across channels.
        let salt = Rng::stream(seed, T_POST, 1).next_u64();
        let mix = |channel: usize, k: u64, m: u64| -> u64 {
            scramble(
                k,
                m,
                salt ^ (channel as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            )
        };
        let mut seq = [0u64; 7];
        let mut jd_next: u64 = salt % 1_000_000_000;
        let mut issued: Vec<(u32, u32)> = Vec::new();
        let reissue_p = self.cfg.trap_p(0.12);
        for ((row, s), sk) in rows.iter_mut().zip(shown.iter_mut()).zip(skeletons) {
            let channel = sk.channel as usize;
            let k = seq[channel];
            seq[channel] += 1;
            let at = row.ordered_at;
            row.order_id = match channel {
                TMALL => (3_000_000_000_000_000_000 + mix(TMALL, k, 1_000_000_000_000_000_000))
                    .to_string(),
                JD => {
                    // JD ids grow with time.
                    jd_next += 1 + rng.below(40);
                    (286_000_000_000 + jd_next).to_string()
                }
                PDD => format!(
                    "{:02}{:02}{:02}-{:015}",
                    at.year() % 100,
                    at.month(),
                    at.day(),
                    mix(PDD, k, 1_000_000_000_000_000)
                ),
                DOUYIN => (6_900_000_000_000_000_000 + mix(DOUYIN, k, 100_000_000_000_000_000))
                    .to_string(),
                // Unique unless 10,000 orders share one second.
                MINIPROGRAM => format!(
                    "WX{:04}{:02}{:02}{:02}{:02}{:02}{:04}",
                    at.year(),
                    at.month(),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second(),
                    mix(MINIPROGRAM, k % 10_000, 10_000)
                ),
                // Short sequential ids: shopify and dealer ids collide.
                _ => (1001 + k).to_string(),
            };
            if channel == PDD {
                // Privacy numbers are leased per order and recycled across
                // buyers; some orders get a number another buyer had.
                let mut code = None;
                if !issued.is_empty() && rng.chance(reissue_p) {
                    for _ in 0..4 {
                        let (c, owner) = issued[rng.index(issued.len())];
                        if owner != sk.person {
                            code = Some(c);
                            break;
                        }
                    }
                }
                let code = code.unwrap_or_else(|| {
                    (rng.below(hosts.len() as u64) * 10_000 + rng.below(10_000)) as u32
                });
                issued.push((code, sk.person));
                s.virtual_code = Some(code);
                let host = hosts[(code / 10_000) as usize];
                let sep = if rng.chance(0.4) { "转" } else { "-" };
                row.phone = Some(format!("{host}{sep}{:04}", code % 10_000));
            }
        }

        // Collision traps: a value shown for more than one person. Both key
        // spaces are below 2 million, so dense tables beat hashing.
        const KEYS: usize = 2_000_000;
        const UNSEEN: u32 = u32::MAX;
        let multi = |key: fn(&Shown) -> Option<u32>| -> Vec<bool> {
            let mut first = vec![UNSEEN; KEYS];
            let mut shared = vec![false; KEYS];
            for (s, sk) in shown.iter().zip(skeletons) {
                if let Some(k) = key(s) {
                    let slot = &mut first[k as usize];
                    if *slot == UNSEEN {
                        *slot = sk.person;
                    } else if *slot != sk.person {
                        shared[k as usize] = true;
                    }
                }
            }
            shared
        };
        let shared_virtual = multi(|s| s.virtual_code);
        let shared_masked = multi(|s| s.phone_key);
        for (row, s) in rows.iter_mut().zip(&shown) {
            if s.virtual_code.is_some_and(|c| shared_virtual[c as usize]) {
                mark(&mut row.trap, "virtual_phone");
            }
            if s.masked && s.phone_key.is_some_and(|k| shared_masked[k as usize]) {
                mark(&mut row.trap, "masked_phone");
            }
        }
        Dataset { rows }
    }
}
