//! Each person's orders: when they are placed, and how the channel
//! exports them (phone formats, masking, amounts, statuses).

use super::*;

/// An order before rendering: enough to sort it by time and to render it
/// independently of every other order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Skeleton {
    pub(super) ts: i64,
    pub(super) person: u32,
    /// Position among the person's orders, by time.
    pub(super) seq: u32,
    /// Index into the person's `channels`.
    pub(super) ci: u8,
    /// The channel itself (index into [`CHANNELS`]).
    pub(super) channel: u8,
    /// Index into that channel's accounts.
    pub(super) acct: u8,
    pub(super) first_on_account: bool,
    /// Placed after the person's phone change.
    pub(super) changed: bool,
}

/// What the collision passes need to know about a rendered order.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Shown {
    /// [`render::masked_key`] of the mainland number shown, if any.
    pub(super) phone_key: Option<u32>,
    pub(super) masked: bool,
    /// pdd privacy number as `host_index * 10_000 + extension`.
    pub(super) virtual_code: Option<u32>,
}

pub(super) fn full_phone(
    phone: Phone,
    styles: &[u32; 10],
    rng: &mut Rng,
    key: &mut Option<u32>,
) -> String {
    let mut s = String::with_capacity(24);
    match phone {
        Phone::Cn(n) => {
            render::cn_full(&mut s, n, styles, rng);
            *key = Some(render::masked_key(n));
        }
        Phone::Intl { region, national } => render::intl_full(&mut s, region, national, rng),
    }
    s
}

/// Skewed amount in fen with shop-like price endings.
pub(super) fn amount(rng: &mut Rng, channel: usize) -> i64 {
    // (low yuan, high yuan, weight): median around 100-200 CNY, a thin tail
    // above 5000.
    pub(super) const BUCKETS: [(u64, u64, u32); 9] = [
        (1, 20, 800),
        (20, 50, 1500),
        (50, 100, 2000),
        (100, 200, 2200),
        (200, 500, 1800),
        (500, 1000, 900),
        (1000, 2000, 500),
        (2000, 5000, 250),
        (5000, 20000, 4),
    ];
    let weights = BUCKETS.map(|b| b.2);
    let (lo, hi, _) = BUCKETS[rng.weighted(&weights)];
    // Percent multiplier: pdd skews cheap, dealers sell bigger items.
    let pct = match channel {
        vocab::PDD => 60,
        vocab::DEALER => 150,
        _ => 100,
    };
    let yuan = (rng.range(lo, hi - 1) * pct / 100).max(1);
    let r = rng.f64();
    let cents = if r < 0.35 {
        yuan * 100
    } else if r < 0.55 {
        (yuan / 10 * 10 + 9) * 100
    } else if r < 0.70 {
        yuan * 100 + *rng.pick(&[90, 99])
    } else {
        yuan * 100 + rng.below(100)
    };
    cents as i64
}

/// Status given the order's age at the end of the horizon.
pub(super) fn status(rng: &mut Rng, age: i64, channel: usize) -> &'static str {
    // Indices into STATUSES: created, paid, shipped, signed, refunded, cancelled.
    let weights: [u32; 6] = if channel == vocab::DEALER {
        // Counter sales are handed over on the spot.
        [0, 0, 2, 90, 4, 4]
    } else if age < DAY {
        [15, 45, 25, 0, 0, 15]
    } else if age < 4 * DAY {
        [1, 10, 70, 10, 3, 6]
    } else {
        [1, 0, 1, 80, 8, 10]
    };
    STATUSES[rng.weighted(&weights)]
}

impl Generator<'_> {
    /// Sorted order times of `p` and the index of the first order placed
    /// with the new phone (`n` if the phone never changes).
    pub(super) fn order_times(&self, p: u32, rng: &mut Rng) -> (Vec<i64>, usize) {
        let person = &self.persons[p as usize];
        let n = person.n as usize;
        let days = self.cal.days;
        let mut times = Vec::with_capacity(n);
        let split = match person.role {
            Role::Donor { switch_day } => {
                let s = rng.range(1, n as u64 - 1) as usize;
                for j in 0..n {
                    let (a, b) = if j < s {
                        (0, switch_day)
                    } else {
                        (switch_day, days)
                    };
                    times.push(self.cal.sample(rng, a, b));
                }
                times[..s].sort_unstable();
                times[s..].sort_unstable();
                return (times, s);
            }
            Role::Changer => rng.range(1, n as u64 - 1) as usize,
            _ => n,
        };
        let (a, b) = match person.role {
            Role::Recipient { donor } => {
                let last = self.donor_last_use.get(&donor).copied().unwrap_or(0);
                let first = (last / DAY) as u32 + RECYCLE_QUIET_DAYS + 1 + rng.below(5) as u32;
                (first.min(days - 1), days)
            }
            _ => person.window,
        };
        for _ in 0..n {
            times.push(self.cal.sample(rng, a, b));
        }
        times.sort_unstable();
        (times, split)
    }

    /// Appends the skeletons of `p`'s orders; returns when a donor last used
    /// its old number.
    pub(super) fn skeletons(&self, p: u32, out: &mut Vec<Skeleton>) -> Option<i64> {
        let mut rng = Rng::stream(self.cfg.seed, T_ORDERS, p as u64);
        let (times, split) = self.order_times(p, &mut rng);
        let person = &self.persons[p as usize];

        // Every (channel, account) gets one of the first orders, so each
        // account really appears and its first order can claim NEWCUST.
        let slots: Vec<(usize, usize)> = person
            .accounts
            .iter()
            .enumerate()
            .flat_map(|(ci, accts)| (0..accts.len().max(1)).map(move |a| (ci, a)))
            .collect();
        let mut used = vec![false; slots.len()];
        let channel_weights: Vec<u32> = (0..person.channels.len())
            .map(|ci| if ci == 0 { 3 } else { 1 })
            .collect();
        for (j, &ts) in times.iter().enumerate() {
            let (ci, acct) = if j < slots.len() {
                slots[j]
            } else {
                let ci = rng.weighted(&channel_weights);
                let a = rng.index(person.accounts[ci].len().max(1));
                (ci, a)
            };
            let slot = slots.iter().position(|&s| s == (ci, acct)).unwrap_or(0);
            out.push(Skeleton {
                ts,
                person: p,
                seq: j as u32,
                ci: ci as u8,
                channel: person.channels[ci] as u8,
                acct: acct as u8,
                first_on_account: !used[slot],
                changed: j >= split,
            });
            used[slot] = true;
        }
        matches!(person.role, Role::Donor { .. }).then(|| times[split - 1])
    }

    /// Renders one order as its channel exports it, except for the order id
    /// and pdd's privacy number, which depend on the global time order.
    pub(super) fn render(&self, sk: &Skeleton) -> (OrderRow, Shown) {
        // One stream per order keeps rendering independent of processing
        // order.
        let mut rng = Rng::stream(
            self.cfg.seed,
            T_RENDER,
            (sk.person as u64) << 32 | sk.seq as u64,
        );
        let p = sk.person;
        let person = &self.persons[p as usize];
        let horizon_end = self.cal.days as i64 * DAY;
        let abuser = person.role == Role::Abuser;
        let household_device = person.household.map(|h| self.households[h as usize].device);
        let (ci, acct, ts) = (sk.ci as usize, sk.acct as usize, sk.ts);
        let (first_on_account, changed) = (sk.first_on_account, sk.changed);
        let c = person.channels[ci];
        let mut trap = None;
        let mut phone_key = None;
        let mut masked = false;
        let phone_now = match (changed, person.new_phone) {
            (true, Some(n)) => Phone::Cn(n),
            _ => person.phone,
        };
        // Which phone-level trap a shown number carries.
        let phone_trap = |trap: &mut Option<&'static str>| match (person.role, phone_now) {
            (_, Phone::Intl { .. }) => mark(trap, "intl_phone"),
            (Role::Recipient { .. }, _) => mark(trap, "recycled_phone"),
            (Role::Donor { .. }, _) if !changed => mark(trap, "recycled_phone"),
            (Role::Donor { .. } | Role::Changer, _) if changed => mark(trap, "phone_change"),
            _ => {}
        };

        let account_id = person.accounts[ci].get(acct).cloned();
        let mut phone = None;
        let mut email = None;
        let mut unionid = None;
        let mut device_id = None;
        let mut ip = None;
        match c {
            TMALL | JD | DOUYIN => {
                if let Phone::Cn(n) = phone_now
                    && rng.chance(0.97)
                {
                    let mut s = String::with_capacity(16);
                    render::cn_masked(&mut s, n, &mut rng);
                    phone = Some(s);
                    phone_key = Some(render::masked_key(n));
                    masked = true;
                    phone_trap(&mut trap);
                }
                if rng.chance(0.03) {
                    email = person.email.clone();
                }
            }
            PDD => {
                // The privacy number is assigned in the time-ordered pass.
            }
            SHOPIFY => {
                let mut s = String::with_capacity(32);
                if rng.chance(self.cfg.trap_p(0.015)) {
                    s.push_str(rng.pick::<&str>(PLACEHOLDER_EMAILS));
                    mark(&mut trap, "placeholder_email");
                } else if let Some(e) = &person.email {
                    render::noisy_email(&mut s, e, &mut rng);
                }
                email = (!s.is_empty()).then_some(s);
                if rng.chance(0.92) {
                    phone = Some(full_phone(
                        phone_now,
                        &render::SHOPIFY_PHONE_STYLES,
                        &mut rng,
                        &mut phone_key,
                    ));
                    phone_trap(&mut trap);
                }
            }
            MINIPROGRAM => {
                if rng.chance(0.97) {
                    unionid = person.unionid.clone();
                }
                if rng.chance(0.85) {
                    phone = Some(full_phone(
                        phone_now,
                        &render::MINIPROGRAM_PHONE_STYLES,
                        &mut rng,
                        &mut phone_key,
                    ));
                    phone_trap(&mut trap);
                }
                if rng.chance(0.04) {
                    email = person.email.clone();
                }
            }
            _ => {
                // Dealer: a clerk types the number, or a placeholder.
                if rng.chance(self.cfg.trap_p(0.15)) {
                    phone = Some(rng.pick(PLACEHOLDER_PHONES).to_string());
                    mark(&mut trap, "placeholder_phone");
                } else if rng.chance(0.92) {
                    phone = Some(full_phone(
                        phone_now,
                        &render::DEALER_PHONE_STYLES,
                        &mut rng,
                        &mut phone_key,
                    ));
                    phone_trap(&mut trap);
                }
            }
        }
        let device_p = match c {
            DOUYIN => 0.80,
            MINIPROGRAM => 0.85,
            _ => 0.0,
        };
        if device_p > 0.0 && rng.chance(device_p) {
            let d = match household_device {
                Some(shared) if rng.chance(0.6) => {
                    mark(&mut trap, "shared_device");
                    shared
                }
                _ => *rng.pick(&person.devices),
            };
            if d.zero {
                mark(&mut trap, "zero_device");
            }
            let mut s = String::with_capacity(36);
            render::device(&mut s, d, &mut rng);
            device_id = Some(s);
        }
        let ip_p = match c {
            SHOPIFY => 0.95,
            MINIPROGRAM => 0.90,
            _ => 0.0,
        };
        if ip_p > 0.0 && rng.chance(ip_p) {
            let v = if rng.chance(0.55) {
                person.home_ip
            } else {
                mobile_ip(&mut rng)
            };
            ip = Some(ip_string(v));
        }

        let (ship_city, ship_address) = {
            let present = match c {
                DEALER => 1.0,
                MINIPROGRAM => 0.90,
                _ => 0.98,
            };
            if rng.chance(present) {
                let base = match &person.alt_address {
                    Some(alt) if rng.chance(0.15) => alt,
                    _ => &person.address,
                };
                let mut addr = if person.city_len > 0 && rng.chance(0.06) {
                    base[person.city_len..].to_string()
                } else {
                    base.clone()
                };
                if person.city_len > 0 && rng.chance(0.05) {
                    addr.retain(|ch| ch != ' ');
                }
                (Some(person.ship_city.to_string()), Some(addr))
            } else {
                (None, None)
            }
        };

        let coupon =
            if first_on_account && rng.chance(if abuser { 0.9 } else { 0.3 }) && c != DEALER {
                if abuser && acct > 0 {
                    mark(&mut trap, "coupon_abuse");
                }
                Some(NEWCUST.to_string())
            } else {
                let day = (ts / DAY) as usize;
                if self.cal.promo_618[day] && rng.chance(0.2) {
                    Some(COUPON_618.to_string())
                } else if rng.chance(0.12) {
                    Some(rng.pick(COUPONS).to_string())
                } else {
                    None
                }
            };

        let amount_cents = amount(&mut rng, c);
        let status = status(&mut rng, horizon_end - ts, c);
        let row = OrderRow {
            order_id: String::new(),
            channel: CHANNELS[c],
            ordered_at: self.cfg.start + TimeDelta::seconds(ts),
            account_id,
            phone,
            email,
            wechat_unionid: unionid,
            device_id,
            amount_cents,
            status,
            ship_city,
            ship_address,
            ip,
            coupon,
            person: p,
            trap,
        };
        (
            row,
            Shown {
                phone_key,
                masked,
                virtual_code: None,
            },
        )
    }
}
