//! Persons: how many orders each places, their roles and households, and
//! their identifiers.

use super::*;

/// Tiers of expected extra orders per person, as `(share of persons, mean)`:
/// most buy once or twice, a few are heavy buyers with 50+ orders. The heavy
/// share is scaled by `heavy_scale` and the other shares shrink or grow
/// together to keep the sum at 1; the other tiers' means are scaled so the
/// expected total weight stays put (as far as it can), which keeps the heavy
/// buyers' order counts. Exactly the base tiers at scale 1.
pub(super) fn count_tiers(heavy_scale: f64) -> [(f64, f64); 5] {
    pub(super) const TIERS: [(f64, f64); 5] = [
        (0.50, 0.3),
        (0.28, 2.0),
        (0.15, 6.0),
        (0.06, 14.0),
        (0.01, 60.0),
    ];
    pub(super) const HEAVY: usize = TIERS.len() - 1;
    let (base_share, heavy_mean) = TIERS[HEAVY];
    let heavy_share = |scale: f64| unit(base_share * scale);
    // Expected weight of the light tiers with the heavy share at `h`.
    let light = |h: f64| -> f64 {
        let f = (1.0 - h) / (1.0 - base_share);
        TIERS[..HEAVY].iter().map(|&(s, m)| s * f * m).sum()
    };
    let h = heavy_share(heavy_scale);
    // At scale 1 `h` is `base_share` bit for bit, so `f` and `k` are
    // exactly 1.
    let target = light(base_share) + (base_share * heavy_mean - h * heavy_mean);
    let k = target / light(h);
    let k = if k.is_finite() { k.max(0.05) } else { 1.0 };
    let f = (1.0 - h) / (1.0 - base_share);
    let mut tiers = TIERS;
    for t in &mut tiers[..HEAVY] {
        *t = (t.0 * f, t.1 * k);
    }
    tiers[HEAVY].0 = h;
    tiers
}

impl Generator<'_> {
    /// Heavy-tailed order counts summing exactly to `cfg.orders`.
    pub(super) fn order_counts(&self) -> Vec<u32> {
        let n = self.cfg.customers;
        let mut rng = Rng::stream(self.cfg.seed, T_COUNTS, 0);
        let mut counts = vec![0u32; n];
        let base = self.cfg.orders.min(n);
        for c in counts.iter_mut().take(base) {
            *c = 1;
        }
        let extra = self.cfg.orders - base;
        if extra == 0 {
            return counts;
        }
        let tiers = count_tiers(self.cfg.heavy_scale);
        let mut cum = Vec::with_capacity(n);
        let mut total = 0.0f64;
        for _ in 0..n {
            let r = rng.f64();
            let mut acc = 0.0;
            let mut mean = tiers[tiers.len() - 1].1;
            for (share, m) in tiers {
                acc += share;
                if r < acc {
                    mean = m;
                    break;
                }
            }
            total += mean * (0.5 + rng.f64());
            cum.push(total);
        }
        // Multinomial draw: sorted uniform points swept against the
        // cumulative weights, which stays cache-friendly at millions of
        // orders where a binary search per order would not.
        let mut points: Vec<f64> = (0..extra).map(|_| rng.f64() * total).collect();
        points.sort_unstable_by(f64::total_cmp);
        let mut i = 0;
        for u in points {
            while i + 1 < n && cum[i] <= u {
                i += 1;
            }
            counts[i] += 1;
        }
        counts
    }

    pub(super) fn roles_and_households(&mut self, counts: &[u32]) -> (Vec<Role>, Vec<Option<u32>>) {
        let cfg = self.cfg;
        let n = counts.len();
        let days = self.cal.days;
        let mut household_of = vec![None; n];
        {
            let mut rng = Rng::stream(self.cfg.seed, T_HOUSEHOLDS, 0);
            let mut i = 0;
            while i < n {
                // ~1% of positions start a household of 2-4: ~3% of persons.
                if counts[i] > 0 && rng.chance(cfg.trap_p(0.01)) {
                    let size = rng.range(2, 4) as usize;
                    let id = self.households.len() as u32;
                    let city = rng.weighted(&CITIES.iter().map(|c| c.weight).collect::<Vec<_>>());
                    self.households.push(Household {
                        city,
                        address: mainland_address(&mut rng, city),
                        home_ip: home_ip(&mut rng),
                        device: Device::random(&mut rng, true, false),
                    });
                    for slot in household_of.iter_mut().skip(i).take(size) {
                        *slot = Some(id);
                    }
                    i += size;
                } else {
                    i += 1;
                }
            }
        }

        let mut rng = Rng::stream(self.cfg.seed, T_ROLES, 0);
        let mut shuffled: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut shuffled);
        // Shares of persons, scaled with the traps.
        let pct = |p: f64| (n as f64 * cfg.trap_p(p)).round() as usize;
        // Recycling needs 90 quiet days plus room on both sides.
        let want_pairs = if days >= RECYCLE_QUIET_DAYS + 30 {
            pct(0.01)
        } else {
            0
        };
        let want_changers = pct(0.05).saturating_sub(want_pairs);
        let want_abusers = pct(0.05);
        let mut roles = vec![Role::Plain; n];
        let (mut donors, mut recipients) = (Vec::new(), Vec::new());
        let (mut changers, mut abusers) = (0, 0);
        for &p in &shuffled {
            let c = counts[p as usize];
            let i = p as usize;
            if c >= 2 && donors.len() < want_pairs {
                let switch_day = rng.range(
                    (days / 10).max(1) as u64,
                    (days - RECYCLE_QUIET_DAYS - 10) as u64,
                ) as u32;
                roles[i] = Role::Donor { switch_day };
                donors.push(p);
            } else if c >= 2 && changers < want_changers {
                roles[i] = Role::Changer;
                changers += 1;
            } else if c >= 4 && abusers < want_abusers && household_of[i].is_none() {
                roles[i] = Role::Abuser;
                abusers += 1;
            } else if c >= 1 && recipients.len() < want_pairs && household_of[i].is_none() {
                recipients.push(p);
            }
        }
        for (i, &r) in recipients.iter().enumerate() {
            match donors.get(i) {
                Some(&d) => roles[r as usize] = Role::Recipient { donor: d },
                None => break,
            }
        }
        // Donors without a recipient are still phone changers.
        for &d in donors.iter().skip(recipients.len()) {
            roles[d as usize] = Role::Changer;
        }
        (roles, household_of)
    }

    pub(super) fn build_persons(
        &mut self,
        counts: &[u32],
        roles: &[Role],
        household_of: &[Option<u32>],
    ) {
        let mut reg = Registry::new(counts.len(), self.cfg.trap_scale);
        let city_weights: Vec<u32> = CITIES.iter().map(|c| c.weight).collect();
        let overseas_p = self.cfg.trap_p(0.05);
        let zero_p = self.cfg.trap_p(0.25);
        let days = self.cal.days;
        let seed = self.cfg.seed;
        let mut persons = Vec::with_capacity(counts.len());
        for (i, &n) in counts.iter().enumerate() {
            let mut rng = Rng::stream(seed, T_PERSON, i as u64);
            let role = roles[i];
            let household = household_of[i];
            let max_channels = (n as usize).clamp(1, 3);
            let mut k = [1, 1, 1, 2, 2, 3][rng.index(6)].min(max_channels);
            if role == Role::Abuser {
                k = k.max(2).min(max_channels);
            }
            let mut channels = match (household, role) {
                (Some(_), _) => pick_channels(&mut rng, k, Some(&[DOUYIN, MINIPROGRAM]), None),
                (None, Role::Abuser) => pick_channels(&mut rng, k, None, Some(DEALER)),
                _ => pick_channels(&mut rng, k, None, None),
            };
            let overseas = if role == Role::Plain
                && household.is_none()
                && channels.contains(&SHOPIFY)
                && rng.chance(overseas_p)
            {
                channels = vec![SHOPIFY];
                Some(match rng.weighted(&OVERSEAS.map(|o| o.weight)) {
                    0 => Region::HongKong,
                    1 => Region::Singapore,
                    _ => Region::Us,
                })
            } else {
                None
            };

            let (ship_city, address, city_len, home_ip, city) = match (overseas, household) {
                (Some(region), _) => {
                    let idx = region as usize;
                    (
                        OVERSEAS[idx].city,
                        overseas_address(&mut rng, region),
                        0,
                        home_ip(&mut rng),
                        None,
                    )
                }
                (None, Some(h)) => {
                    let h = &self.households[h as usize];
                    let c = &CITIES[h.city];
                    (
                        c.name,
                        h.address.clone(),
                        c.name.len(),
                        h.home_ip,
                        Some(h.city),
                    )
                }
                (None, None) => {
                    let city = rng.weighted(&city_weights);
                    let c = &CITIES[city];
                    (
                        c.name,
                        mainland_address(&mut rng, city),
                        c.name.len(),
                        home_ip(&mut rng),
                        Some(city),
                    )
                }
            };
            let alt_address = match city {
                Some(c) if rng.chance(0.25) => Some(office_address(&mut rng, c)),
                _ => None,
            };

            let phone = match (overseas, role) {
                (Some(region), _) => Phone::Intl {
                    region,
                    national: reg.intl_phone(&mut rng, region),
                },
                // Filled in from the donor once all phones exist.
                (None, Role::Recipient { .. }) => Phone::Cn(0),
                _ => Phone::Cn(reg.phone(&mut rng)),
            };
            let new_phone = match role {
                Role::Changer | Role::Donor { .. } => Some(reg.phone(&mut rng)),
                _ => None,
            };
            let email = if overseas.is_some() || channels.contains(&SHOPIFY) || rng.chance(0.6) {
                Some(reg.email(&mut rng, overseas.is_some()))
            } else {
                None
            };
            let unionid =
                (overseas.is_none() && rng.chance(0.7)).then(|| render::unionid(&mut rng));
            let ios = rng.chance(0.45);
            let zero = rng.chance(zero_p);
            let mut devices = vec![Device::random(&mut rng, ios, zero)];
            if rng.chance(0.4) {
                let ios2 = rng.chance(0.45);
                let zero = rng.chance(zero_p);
                devices.push(Device::random(&mut rng, ios2, zero));
            }

            // Abusers open 2-3 accounts per channel, bounded so every account
            // gets at least one order.
            let mut slots_left = n as usize;
            let mut accounts = Vec::with_capacity(channels.len());
            for (ci, &c) in channels.iter().enumerate() {
                let remaining_channels = channels.len() - ci - 1;
                let mut want = if c == DEALER { 0 } else { 1 };
                if role == Role::Abuser && c != DEALER {
                    want = (rng.range(2, 3) as usize)
                        .min(slots_left.saturating_sub(remaining_channels))
                        .max(1);
                }
                slots_left = slots_left.saturating_sub(want.max(1));
                accounts.push((0..want).map(|_| reg.account(&mut rng, c)).collect());
            }

            let window = if rng.chance(0.45) || n >= 20 {
                (0, days)
            } else {
                let min_len = (days / 5).max(7).min(days);
                let len = rng.range(min_len as u64, days as u64) as u32;
                let a = rng.range(0, (days - len) as u64) as u32;
                (a, a + len)
            };

            persons.push(Person {
                n,
                role,
                household,
                ship_city,
                address,
                alt_address,
                city_len,
                phone,
                new_phone,
                email,
                unionid,
                devices,
                channels,
                accounts,
                home_ip,
                window,
            });
        }
        // A recipient's number is its donor's old one.
        for i in 0..persons.len() {
            if let Role::Recipient { donor } = persons[i].role {
                persons[i].phone = persons[donor as usize].phone;
            }
        }
        self.persons = persons;
    }
}
