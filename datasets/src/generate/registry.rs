//! Global uniqueness registries: every phone, email, unionID, device and
//! account is handed out once, unless a trap shares it on purpose.

use super::*;

/// Global uniqueness registries for identifiers.
#[derive(Default)]
pub(super) struct Registry {
    pub(super) phones: FxHashSet<u64>,
    pub(super) intl: FxHashSet<(u8, u64)>,
    pub(super) emails: FxHashSet<String>,
    pub(super) accounts: [FxHashSet<u64>; 7],
    pub(super) prefix_weights: Vec<u32>,
    pub(super) domain_weights: Vec<u32>,
    /// Distinct last-four-digit values mainland numbers take: 10,000, or
    /// fewer to make masked lookalikes ([`render::masked_key`] collisions)
    /// denser when traps are scaled up.
    pub(super) last4_values: u64,
    /// When traps are scaled down: the masked keys issued so far (a bitset
    /// over keys) and the chance a number repeating one is redrawn.
    pub(super) masked_taken: Option<(Vec<u64>, f64)>,
}

/// Exclusive bound of [`render::masked_key`] values (prefixes are < 200).
pub(super) const MASKED_KEYS: usize = 2_000_000;

/// Most redraws of one number for a taken masked key, so a crowded key space
/// cannot stall generation.
pub(super) const MASKED_REDRAWS: u32 = 16;

impl Registry {
    pub(super) fn new(persons: usize, trap_scale: f64) -> Self {
        // Masked lookalikes come from the density of numbers over the
        // masked keys: scaling up shrinks the last-four space by the scale
        // (at most 100-fold, which keeps ample numbers per prefix); scaling
        // down redraws a number whose key is taken with chance 1 - scale.
        // Neither draws anything extra at scale 1.
        let s = if trap_scale.is_nan() {
            0.0
        } else {
            trap_scale.max(0.0)
        };
        let last4_values = if s > 1.0 {
            ((10_000.0 / s).round() as u64).clamp(100, 10_000)
        } else {
            10_000
        };
        let masked_taken = (s < 1.0).then(|| (vec![0u64; MASKED_KEYS.div_ceil(64)], 1.0 - s));
        let mut r = Self {
            prefix_weights: MOBILE_PREFIXES.iter().map(|p| p.1).collect(),
            domain_weights: EMAIL_DOMAINS.iter().map(|d| d.1).collect(),
            last4_values,
            masked_taken,
            ..Self::default()
        };
        // Sized up front: rehashing these sets dominated person synthesis.
        r.phones.reserve(persons + persons / 10 + 8);
        r.emails.reserve(persons);
        for set in &mut r.accounts {
            set.reserve(persons / 2);
        }
        r.phones.extend(PLACEHOLDER_PHONES.iter().copied());
        r.emails
            .extend(PLACEHOLDER_EMAILS.iter().map(|e| e.to_string()));
        r
    }

    pub(super) fn phone(&mut self, rng: &mut Rng) -> u64 {
        let mut redraws = 0;
        loop {
            let prefix = MOBILE_PREFIXES[rng.weighted(&self.prefix_weights)].0;
            let mut n = prefix * 100_000_000 + rng.below(100_000_000);
            if self.last4_values < 10_000 {
                // Spread the allowed values evenly over 0000-9999.
                let m = self.last4_values;
                let last4 = n % 10_000 * m / 10_000 * 10_000 / m;
                n = n - n % 10_000 + last4;
            }
            let key = render::masked_key(n) as usize;
            let (word, bit) = (key / 64, 1u64 << (key % 64));
            if let Some((taken, redraw_p)) = &self.masked_taken
                && taken[word] & bit != 0
                && redraws < MASKED_REDRAWS
                && rng.chance(*redraw_p)
            {
                redraws += 1;
                continue;
            }
            if self.phones.insert(n) {
                if let Some((taken, _)) = &mut self.masked_taken {
                    taken[word] |= bit;
                }
                return n;
            }
        }
    }

    pub(super) fn intl_phone(&mut self, rng: &mut Rng, region: Region) -> u64 {
        loop {
            let n = match region {
                Region::HongKong => [5, 6, 9][rng.index(3)] * 10_000_000 + rng.below(10_000_000),
                Region::Singapore => [8, 9][rng.index(2)] * 10_000_000 + rng.below(10_000_000),
                Region::Us => {
                    let area = *rng.pick(&[415u64, 650, 408, 510, 628, 212, 646, 917]);
                    area * 10_000_000 + rng.range(200, 999) * 10_000 + rng.below(10_000)
                }
            };
            if self.intl.insert((region as u8, n)) {
                return n;
            }
        }
    }

    pub(super) fn email(&mut self, rng: &mut Rng, overseas: bool) -> String {
        loop {
            let domain = if overseas {
                *rng.pick(INTL_EMAIL_DOMAINS)
            } else {
                EMAIL_DOMAINS[rng.weighted(&self.domain_weights)].0
            };
            let mut local = String::with_capacity(24);
            if domain == "qq.com" && rng.chance(0.55) {
                // A QQ number.
                let digits = rng.range(6, 10) as u32;
                let lo = 10u64.pow(digits - 1);
                local.push_str(&(lo + rng.below(lo * 9)).to_string());
            } else {
                if overseas {
                    local.push_str(rng.pick::<&str>(LATIN_FIRST));
                    local.push(*rng.pick(&['.', '_', '.']));
                    local.push_str(rng.pick::<&str>(SURNAMES));
                } else {
                    local.push_str(rng.pick::<&str>(SURNAMES));
                    if rng.chance(0.2) {
                        local.push(*rng.pick(&['.', '_']));
                    }
                    local.push_str(rng.pick::<&str>(GIVEN));
                    if rng.chance(0.4) {
                        local.push_str(rng.pick::<&str>(GIVEN));
                    }
                }
                match rng.below(4) {
                    0 => {}
                    1 => local.push_str(&rng.range(1970, 2006).to_string()),
                    _ => local.push_str(&rng.below(10_000).to_string()),
                }
            }
            let email = format!("{local}@{domain}");
            if self.emails.insert(email.clone()) {
                return email;
            }
        }
    }

    pub(super) fn account(&mut self, rng: &mut Rng, channel: usize) -> String {
        let space = render::account_space(channel);
        loop {
            // Skip tiny values so ids look issued, not hand-picked.
            let n = space / 100 + rng.below(space - space / 100);
            if self.accounts[channel].insert(n) {
                return render::account(channel, n);
            }
        }
    }
}
