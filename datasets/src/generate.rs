//! Synthesis of persons and their orders, with ground truth and trap labels.
//!
//! Generation runs in phases, each drawing from its own seeded stream (and
//! per-person streams inside a phase), so the output is a pure function of
//! [`GenConfig`]:
//! 1. order counts per person (heavy-tailed, summing exactly to `orders`);
//! 2. households and roles (phone changers, recycled-number pairs, coupon
//!    abusers);
//! 3. person identities (unique phones, e-mails, unionids, devices, accounts);
//! 4. each person's orders, rendered as the channel would export them;
//! 5. a time-ordered pass assigning order ids and pdd privacy numbers, then
//!    labelling collision traps.
//!
//! [`GenConfig::trap_scale`] and [`GenConfig::heavy_scale`] scale the trap
//! rates and the share of heavy buyers; at 1.0 they change no draw, so the
//! default output stays the same.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike};

use crate::render::{self, Device, Phone, Region};
use crate::rng::{FxHashSet, Rng};
use crate::vocab::{self, *};

const DAY: i64 = 86_400;

/// Minimum quiet period before a carrier hands a number to someone else.
const RECYCLE_QUIET_DAYS: u32 = 90;

/// Parameters of one generated dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Number of real persons.
    pub customers: usize,
    /// Exact number of orders generated.
    pub orders: usize,
    /// Seed; equal configs give identical datasets.
    pub seed: u64,
    /// Start of the order horizon; its offset is the one written out.
    pub start: DateTime<FixedOffset>,
    /// Length of the order horizon in days (clamped to 1..=36_500).
    pub days: u32,
    /// Multiplies the rate of every identity trap (see [`crate::TRAPS`]):
    /// the shares of phone changers, recycled-number pairs, coupon abusers,
    /// shared-device households, overseas buyers (international phones) and
    /// zero (tracking-off) devices; the chances of a dealer's placeholder
    /// phone, a shopify placeholder e-mail and a reissued pdd privacy
    /// number; and the density of mainland numbers that look alike once
    /// masked. Scaled probabilities and shares are clamped to `[0, 1]`; a
    /// negative or NaN scale counts as 0. 1.0 is the calibrated default.
    /// Up to about x3 every trap grows with the scale; beyond that the roles
    /// compete for the persons with enough orders (phone changers come
    /// first, coupon abusers need four orders), so some shrink again.
    pub trap_scale: f64,
    /// Multiplies the share of heavy buyers, the people who average about 60
    /// orders (1% of persons at 1.0; clamped to `[0, 1]`). The other persons
    /// give up the orders these buyers add, so a heavy buyer keeps about the
    /// same order count and the total stays `orders`; once heavy buyers
    /// would need nearly every order (beyond about x5) their own counts
    /// shrink instead. 1.0 is the calibrated default.
    pub heavy_scale: f64,
}

impl GenConfig {
    /// The horizon length actually generated: `days` clamped to 1..=36_500
    /// (the upper clamp keeps second offsets within 32 bits for sorting).
    pub(crate) fn horizon_days(&self) -> u32 {
        self.days.clamp(1, 36_500)
    }

    /// Probability or share `p` times [`Self::trap_scale`], clamped to
    /// `[0, 1]`. Exactly `p` at scale 1.0.
    fn trap_p(&self, p: f64) -> f64 {
        unit(p * self.trap_scale)
    }
}

/// `x` clamped to `[0, 1]`, with NaN as 0.
fn unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            customers: 62_000,
            orders: 238_000,
            seed: 1,
            start: DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00")
                .expect("valid RFC 3339 literal"),
            days: 180,
            trap_scale: 1.0,
            heavy_scale: 1.0,
        }
    }
}

/// One order as a channel exports it, plus the ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// Channel-specific id; unique within the channel only.
    pub order_id: String,
    /// One of [`crate::CHANNELS`].
    pub channel: &'static str,
    /// Order time in the configured offset.
    pub ordered_at: DateTime<FixedOffset>,
    /// Channel account of the buyer.
    pub account_id: Option<String>,
    /// Phone as exported: full and noisy, masked, a privacy number, or a
    /// placeholder.
    pub phone: Option<String>,
    /// E-mail as typed.
    pub email: Option<String>,
    /// WeChat unionid.
    pub wechat_unionid: Option<String>,
    /// IDFA/GAID as exported.
    pub device_id: Option<String>,
    /// Amount in fen (CNY cents).
    pub amount_cents: i64,
    /// Order status.
    pub status: &'static str,
    /// Shipping city.
    pub ship_city: Option<String>,
    /// Shipping address.
    pub ship_address: Option<String>,
    /// Buyer IPv4 address.
    pub ip: Option<String>,
    /// Coupon code used.
    pub coupon: Option<String>,
    /// Ground truth: the real person who placed the order.
    pub person: u32,
    /// Ground truth: the trap this order carries (one of [`crate::TRAPS`]).
    pub trap: Option<&'static str>,
}

/// A generated dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    /// Orders sorted by `ordered_at`.
    pub rows: Vec<OrderRow>,
}

/// Generates the dataset for `cfg`.
pub fn generate(cfg: &GenConfig) -> Dataset {
    Generator::new(cfg).run()
}

// Stream tags: one per phase so phases do not share random draws.
const T_COUNTS: u64 = 1;
const T_HOUSEHOLDS: u64 = 2;
const T_ROLES: u64 = 3;
const T_PERSON: u64 = 4;
const T_ORDERS: u64 = 5;
const T_POST: u64 = 6;
const T_HOSTS: u64 = 7;
const T_RENDER: u64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// Switches to a new number partway through.
    Changer,
    /// A changer whose old number is later reassigned; switches on this day.
    Donor {
        switch_day: u32,
    },
    /// Gets the donor's old number (filled once the donor's orders exist).
    Recipient {
        donor: u32,
    },
    /// Opens extra accounts to claim NEWCUST again.
    Abuser,
}

struct Household {
    city: usize,
    address: String,
    home_ip: u32,
    device: Device,
}

struct Person {
    n: u32,
    role: Role,
    household: Option<u32>,
    ship_city: &'static str,
    address: String,
    alt_address: Option<String>,
    /// Byte length of the leading city name in the addresses (0 overseas).
    city_len: usize,
    phone: Phone,
    new_phone: Option<u64>,
    email: Option<String>,
    unionid: Option<String>,
    devices: Vec<Device>,
    channels: Vec<usize>,
    /// Accounts per entry of `channels` (empty for dealer).
    accounts: Vec<Vec<String>>,
    home_ip: u32,
    window: (u32, u32),
}

/// Per-day sampling weights and calendar facts.
struct Calendar {
    days: u32,
    /// `cum[d]` = total weight of days before `d`.
    cum: Vec<u64>,
    promo_618: Vec<bool>,
}

impl Calendar {
    fn new(start: DateTime<FixedOffset>, days: u32) -> Self {
        let mut cum = Vec::with_capacity(days as usize + 1);
        let mut promo_618 = Vec::with_capacity(days as usize);
        cum.push(0u64);
        for d in 0..days {
            let date = (start + TimeDelta::days(d as i64)).date_naive();
            let (y, m, day) = (date.year(), date.month(), date.day());
            let weekend = date.weekday().number_from_monday() >= 6;
            let mut w: u64 = if weekend { 110 } else { 100 };
            // Logistics pause around Spring Festival.
            let cny = match y {
                2025 => Some((1, 29)),
                2026 => Some((2, 17)),
                2027 => Some((2, 6)),
                _ => None,
            };
            if let Some((cm, cd)) = cny {
                let festival = chrono::NaiveDate::from_ymd_opt(y, cm, cd);
                if let Some(f) = festival {
                    let delta = (date - f).num_days();
                    if (-7..=7).contains(&delta) {
                        w = w * 45 / 100;
                    }
                }
            }
            let is_618 = m == 6 && day <= 18;
            if is_618 {
                w = if day == 18 { w * 4 } else { w * 3 / 2 };
            }
            if m == 11 && day <= 11 {
                w = if day == 11 { w * 5 } else { w * 3 / 2 };
            }
            if (m, day) == (12, 12) || (m, day) == (3, 8) {
                w *= 2;
            }
            cum.push(cum[d as usize] + w);
            promo_618.push(is_618);
        }
        Self {
            days,
            cum,
            promo_618,
        }
    }

    /// A second offset within days `[a, b)` following the day weights and the
    /// daily rhythm.
    fn sample(&self, rng: &mut Rng, a: u32, b: u32) -> i64 {
        let (lo, hi) = (self.cum[a as usize], self.cum[b as usize]);
        let u = lo + rng.below(hi - lo);
        let d = self.cum.partition_point(|&c| c <= u) - 1;
        let hour = rng.weighted(&HOUR_WEIGHTS) as i64;
        d as i64 * DAY + hour * 3600 + rng.below(3600) as i64
    }
}

/// Global uniqueness registries for identifiers.
#[derive(Default)]
struct Registry {
    phones: FxHashSet<u64>,
    intl: FxHashSet<(u8, u64)>,
    emails: FxHashSet<String>,
    accounts: [FxHashSet<u64>; 7],
    prefix_weights: Vec<u32>,
    domain_weights: Vec<u32>,
    /// Distinct last-four-digit values mainland numbers take: 10,000, or
    /// fewer to make masked lookalikes ([`render::masked_key`] collisions)
    /// denser when traps are scaled up.
    last4_values: u64,
    /// When traps are scaled down: the masked keys issued so far (a bitset
    /// over keys) and the chance a number repeating one is redrawn.
    masked_taken: Option<(Vec<u64>, f64)>,
}

/// Exclusive bound of [`render::masked_key`] values (prefixes are < 200).
const MASKED_KEYS: usize = 2_000_000;

/// Most redraws of one number for a taken masked key, so a crowded key space
/// cannot stall generation.
const MASKED_REDRAWS: u32 = 16;

impl Registry {
    fn new(persons: usize, trap_scale: f64) -> Self {
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

    fn phone(&mut self, rng: &mut Rng) -> u64 {
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

    fn intl_phone(&mut self, rng: &mut Rng, region: Region) -> u64 {
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

    fn email(&mut self, rng: &mut Rng, overseas: bool) -> String {
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

    fn account(&mut self, rng: &mut Rng, channel: usize) -> String {
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

fn mainland_address(rng: &mut Rng, city: usize) -> String {
    let c = &CITIES[city];
    let district = rng.pick(c.districts);
    let street = if rng.chance(0.6) {
        rng.pick(c.streets)
    } else {
        rng.pick(COMMON_STREETS)
    };
    let num = rng.range(1, 1888);
    let building = rng.range(1, 32);
    let floor = rng.range(1, 33);
    let unit = rng.range(1, 6);
    if rng.chance(0.55) {
        format!(
            "{}{district}{street}{num}号 {building}栋{floor}{unit:02}",
            c.name
        )
    } else {
        let compound = rng.pick(COMPOUNDS);
        let entrance = rng.range(1, 4);
        format!(
            "{}{district}{street}{num}号{compound} {building}号楼{entrance}单元{floor}{unit:02}室",
            c.name
        )
    }
}

fn office_address(rng: &mut Rng, city: usize) -> String {
    let c = &CITIES[city];
    let district = rng.pick(c.districts);
    let street = rng.pick(c.streets);
    let tower = rng.pick(&["创新", "国际", "科技", "金融", "环球", "时代", "中心"]);
    format!(
        "{}{district}{street}{}号{tower}大厦{}层",
        c.name,
        rng.range(1, 999),
        rng.range(2, 40)
    )
}

fn overseas_address(rng: &mut Rng, region: Region) -> String {
    match region {
        Region::HongKong => format!(
            "{}{}號 {}樓{}室",
            rng.pick(HK_STREETS),
            rng.range(1, 899),
            rng.range(1, 40),
            *rng.pick(&['A', 'B', 'C', 'D', 'E'])
        ),
        Region::Singapore => format!(
            "{} {}, #{:02}-{:02}, Singapore {}",
            rng.range(1, 400),
            rng.pick(SG_STREETS),
            rng.range(2, 30),
            rng.range(1, 20),
            rng.range(100_000, 829_999)
        ),
        Region::Us => format!(
            "{} {} Apt {}, San Francisco, CA 941{:02}",
            rng.range(100, 3999),
            rng.pick(US_STREETS),
            rng.range(1, 40),
            rng.range(2, 34)
        ),
    }
}

fn home_ip(rng: &mut Rng) -> u32 {
    let a = *rng.pick(HOME_IP_OCTETS) as u32;
    (a << 24)
        | ((rng.below(256) as u32) << 16)
        | ((rng.below(256) as u32) << 8)
        | rng.range(1, 254) as u32
}

fn mobile_ip(rng: &mut Rng) -> u32 {
    let p = rng.pick(MOBILE_IP_PREFIXES);
    ((p[0] as u32) << 24)
        | ((p[1] as u32) << 16)
        | ((rng.below(32) as u32) << 8)
        | rng.range(1, 254) as u32
}

fn ip_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

/// Weighted sample of `k` distinct channels, optionally forcing the first
/// from `first_from` and excluding `exclude`.
fn pick_channels(
    rng: &mut Rng,
    k: usize,
    first_from: Option<&[usize]>,
    exclude: Option<usize>,
) -> Vec<usize> {
    let mut weights = CHANNEL_WEIGHTS;
    if let Some(e) = exclude {
        weights[e] = 0;
    }
    let mut out = Vec::with_capacity(k);
    if let Some(allowed) = first_from {
        let w: Vec<u32> = allowed.iter().map(|&c| weights[c]).collect();
        let c = allowed[rng.weighted(&w)];
        out.push(c);
        weights[c] = 0;
    }
    while out.len() < k && weights.iter().any(|&w| w > 0) {
        let c = rng.weighted(&weights);
        out.push(c);
        weights[c] = 0;
    }
    out
}

/// An order before rendering: enough to sort it by time and to render it
/// independently of every other order.
#[derive(Debug, Clone, Copy)]
struct Skeleton {
    ts: i64,
    person: u32,
    /// Position among the person's orders, by time.
    seq: u32,
    /// Index into the person's `channels`.
    ci: u8,
    /// The channel itself (index into [`CHANNELS`]).
    channel: u8,
    /// Index into that channel's accounts.
    acct: u8,
    first_on_account: bool,
    /// Placed after the person's phone change.
    changed: bool,
}

/// What the collision passes need to know about a rendered order.
#[derive(Debug, Clone, Copy, Default)]
struct Shown {
    /// [`render::masked_key`] of the mainland number shown, if any.
    phone_key: Option<u32>,
    masked: bool,
    /// pdd privacy number as `host_index * 10_000 + extension`.
    virtual_code: Option<u32>,
}

struct Generator<'a> {
    cfg: &'a GenConfig,
    cal: Calendar,
    persons: Vec<Person>,
    households: Vec<Household>,
    /// Last second each donor used its old number.
    donor_last_use: HashMap<u32, i64>,
}

/// Keeps the higher-precedence trap (earlier in [`TRAPS`]).
fn mark(slot: &mut Option<&'static str>, trap: &'static str) {
    let rank = |t: &str| TRAPS.iter().position(|x| *x == t).unwrap_or(usize::MAX);
    match slot {
        Some(current) if rank(current) <= rank(trap) => {}
        _ => *slot = Some(trap),
    }
}

impl<'a> Generator<'a> {
    fn new(cfg: &'a GenConfig) -> Self {
        let days = cfg.horizon_days();
        Self {
            cfg,
            cal: Calendar::new(cfg.start, days),
            persons: Vec::new(),
            households: Vec::new(),
            donor_last_use: HashMap::new(),
        }
    }

    fn run(mut self) -> Dataset {
        if self.cfg.customers == 0 || self.cfg.orders == 0 {
            return Dataset::default();
        }
        let counts = self.order_counts();
        let (roles, household_of) = self.roles_and_households(&counts);
        self.build_persons(&counts, &roles, &household_of);
        // Donors before recipients: a recipient's window depends on when its
        // donor last used the number.
        let is_recipient = |p: &Person| matches!(p.role, Role::Recipient { .. });
        let order: Vec<u32> = (0..self.persons.len() as u32)
            .filter(|&p| !is_recipient(&self.persons[p as usize]))
            .chain(
                (0..self.persons.len() as u32).filter(|&p| is_recipient(&self.persons[p as usize])),
            )
            .collect();
        let mut skeletons = Vec::with_capacity(self.cfg.orders);
        for p in order {
            if let Some(last) = self.skeletons(p, &mut skeletons) {
                self.donor_last_use.insert(p, last);
            }
        }
        // Render person by person, so each person's data stays in cache,
        // then reorder the rows in place: a second copy of the large rows
        // would cost more than the permutation.
        let n = skeletons.len();
        let mut rows = Vec::with_capacity(n);
        let mut shown = Vec::with_capacity(n);
        for sk in &skeletons {
            let (row, s) = self.render(sk);
            rows.push(row);
            shown.push(s);
        }
        // Ties on time break by generation order, which is itself a pure
        // function of the config. Packing both into one integer keeps the
        // sort on contiguous memory.
        let mut keys: Vec<u64> = skeletons
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.ts as u64) << 32) | i as u64)
            .collect();
        keys.sort_unstable();
        let order: Vec<u32> = keys.into_iter().map(|k| k as u32).collect();
        let sorted: Vec<Skeleton> = order.iter().map(|&i| skeletons[i as usize]).collect();
        let shown: Vec<Shown> = order.iter().map(|&i| shown[i as usize]).collect();
        drop(skeletons);
        permute(&mut rows, order);
        self.finish(rows, shown, &sorted)
    }

    /// Heavy-tailed order counts summing exactly to `cfg.orders`.
    fn order_counts(&self) -> Vec<u32> {
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

    fn roles_and_households(&mut self, counts: &[u32]) -> (Vec<Role>, Vec<Option<u32>>) {
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

    fn build_persons(&mut self, counts: &[u32], roles: &[Role], household_of: &[Option<u32>]) {
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

    /// Sorted order times of `p` and the index of the first order placed
    /// with the new phone (`n` if the phone never changes).
    fn order_times(&self, p: u32, rng: &mut Rng) -> (Vec<i64>, usize) {
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
    fn skeletons(&self, p: u32, out: &mut Vec<Skeleton>) -> Option<i64> {
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
    fn render(&self, sk: &Skeleton) -> (OrderRow, Shown) {
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

fn full_phone(phone: Phone, styles: &[u32; 10], rng: &mut Rng, key: &mut Option<u32>) -> String {
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

impl Generator<'_> {
    /// Assigns order ids and pdd privacy numbers in time order, and labels
    /// the traps that only show across persons. `rows`, `shown` and
    /// `skeletons` are aligned and sorted by time.
    fn finish(
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

/// Tiers of expected extra orders per person, as `(share of persons, mean)`:
/// most buy once or twice, a few are heavy buyers with 50+ orders. The heavy
/// share is scaled by `heavy_scale` and the other shares shrink or grow
/// together to keep the sum at 1; the other tiers' means are scaled so the
/// expected total weight stays put (as far as it can), which keeps the heavy
/// buyers' order counts. Exactly the base tiers at scale 1.
fn count_tiers(heavy_scale: f64) -> [(f64, f64); 5] {
    const TIERS: [(f64, f64); 5] = [
        (0.50, 0.3),
        (0.28, 2.0),
        (0.15, 6.0),
        (0.06, 14.0),
        (0.01, 60.0),
    ];
    const HEAVY: usize = TIERS.len() - 1;
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

/// A keyed bijection on `[0, m)` for `k < m`: a bit-mixing permutation of
/// the smallest power-of-two range covering `m`, cycle-walked back into
/// `[0, m)` (each step is invertible, so the walk is too).
fn scramble(k: u64, m: u64, key: u64) -> u64 {
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
fn permute<T>(items: &mut [T], mut perm: Vec<u32>) {
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
fn privacy_hosts(seed: u64) -> Vec<u64> {
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

/// Skewed amount in fen with shop-like price endings.
fn amount(rng: &mut Rng, channel: usize) -> i64 {
    // (low yuan, high yuan, weight): median around 100-200 CNY, a thin tail
    // above 5000.
    const BUCKETS: [(u64, u64, u32); 9] = [
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
fn status(rng: &mut Rng, age: i64, channel: usize) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Fingerprint of the 2,000-person, 8,000-order default-seed dataset.
    const FINGERPRINT_8K: u64 = 0x798b_9a48_25c6_8e6b;

    fn small_cfg() -> GenConfig {
        GenConfig {
            customers: 5_000,
            orders: 20_000,
            ..GenConfig::default()
        }
    }

    /// Digits of a full phone as a resolver would normalise it.
    fn digits(s: &str) -> String {
        let d: String = s
            .chars()
            .filter_map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - 0xFF10 + '0' as u32),
                c if c.is_ascii_digit() => Some(c),
                _ => None,
            })
            .collect();
        for prefix in ["0086", "86"] {
            if d.len() == 11 + prefix.len() && d.starts_with(prefix) {
                return d[prefix.len()..].to_string();
            }
        }
        d
    }

    #[test]
    fn deterministic_per_seed() {
        let cfg = GenConfig {
            customers: 1_000,
            orders: 4_000,
            ..GenConfig::default()
        };
        let a = generate(&cfg);
        assert_eq!(a, generate(&cfg));
        let b = generate(&GenConfig { seed: 2, ..cfg });
        assert_ne!(a, b);
        assert_eq!(b.rows.len(), 4_000);
    }

    #[test]
    fn shape_of_small_dataset() {
        let cfg = small_cfg();
        let d = generate(&cfg);
        assert_eq!(d.rows.len(), cfg.orders);
        assert!(
            d.rows
                .windows(2)
                .all(|w| w[0].ordered_at <= w[1].ordered_at)
        );
        let end = cfg.start + TimeDelta::days(cfg.days as i64);
        assert!(
            d.rows
                .iter()
                .all(|r| r.ordered_at >= cfg.start && r.ordered_at < end)
        );
        assert!(
            d.rows
                .iter()
                .all(|r| r.ordered_at.offset() == cfg.start.offset())
        );

        let persons: HashSet<u32> = d.rows.iter().map(|r| r.person).collect();
        assert!(persons.len() <= cfg.customers && persons.len() > cfg.customers * 9 / 10);
        let mut per_person: HashMap<u32, usize> = HashMap::new();
        for r in &d.rows {
            *per_person.entry(r.person).or_default() += 1;
        }
        let heavy = per_person.values().filter(|&&n| n >= 50).count();
        let light = per_person.values().filter(|&&n| n <= 2).count();
        assert!(
            heavy > 0 && light > persons.len() / 3,
            "heavy {heavy} light {light}"
        );

        for ch in CHANNELS {
            assert!(
                d.rows.iter().any(|r| r.channel == ch),
                "channel {ch} missing"
            );
        }
        let mut trap_counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &d.rows {
            if let Some(t) = r.trap {
                *trap_counts.entry(t).or_default() += 1;
            }
        }
        for t in TRAPS {
            assert!(
                trap_counts.contains_key(t),
                "trap {t} missing: {trap_counts:?}"
            );
        }
        for s in STATUSES {
            assert!(d.rows.iter().any(|r| r.status == s), "status {s} missing");
        }
        assert!(d.rows.iter().any(|r| r.amount_cents > 500_000));
        assert!(d.rows.iter().all(|r| r.amount_cents > 0));
        assert!(d.rows.iter().any(|r| r.coupon.as_deref() == Some(NEWCUST)));
    }

    #[test]
    fn order_ids_unique_per_channel_and_colliding_across() {
        let d = generate(&small_cfg());
        let mut keys = HashSet::new();
        let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
        for r in &d.rows {
            assert!(
                keys.insert((r.channel, r.order_id.as_str())),
                "dup {} {}",
                r.channel,
                r.order_id
            );
            ids.entry(r.channel).or_default().insert(&r.order_id);
        }
        assert!(ids["shopify"].intersection(&ids["dealer"]).next().is_some());
        let sample = |ch: &str| {
            d.rows
                .iter()
                .find(|r| r.channel == ch)
                .map(|r| r.order_id.clone())
                .unwrap_or_default()
        };
        assert_eq!(sample("tmall").len(), 19);
        assert!(sample("pdd").contains('-'));
        assert!(sample("miniprogram").starts_with("WX2026"));
    }

    #[test]
    fn channel_visibility() {
        let d = generate(&small_cfg());
        for r in &d.rows {
            match r.channel {
                "tmall" | "jd" | "douyin" => {
                    assert!(r.account_id.is_some());
                    if let Some(p) = &r.phone {
                        assert!(p.contains("****"), "{p}");
                    }
                }
                "pdd" => {
                    let p = r.phone.as_deref().unwrap_or_default();
                    assert!(
                        r.account_id
                            .as_deref()
                            .is_some_and(|a| a.starts_with("pdd"))
                    );
                    assert!(
                        p.len() >= 16 && (p.contains('-') || p.contains('转')),
                        "{p}"
                    );
                }
                "shopify" => assert!(r.email.is_some()),
                "miniprogram" => assert!(r.account_id.is_some()),
                "dealer" => {
                    assert!(r.account_id.is_none() && r.email.is_none());
                    assert!(r.ship_address.is_some());
                }
                other => panic!("unexpected channel {other}"),
            }
            if let Some(u) = &r.wechat_unionid {
                assert!(u.starts_with("o6_bm") && u.len() == 28);
            }
            if let Some(ip) = &r.ip {
                assert!(ip.parse::<std::net::Ipv4Addr>().is_ok());
            }
            if r.trap == Some("zero_device") {
                let dev = r.device_id.as_deref().unwrap_or_default();
                assert!(dev.chars().all(|c| c == '0' || c == '-'), "{dev}");
            }
        }
        let placeholders = d
            .rows
            .iter()
            .filter(|r| r.trap == Some("placeholder_phone"))
            .count();
        let dealer = d.rows.iter().filter(|r| r.channel == "dealer").count();
        assert!(placeholders * 100 > dealer * 8 && placeholders * 100 < dealer * 25);
    }

    #[test]
    fn identifiers_belong_to_one_person_except_traps() {
        let d = generate(&small_cfg());
        let mut unionids: HashMap<&str, u32> = HashMap::new();
        let mut devices: HashMap<String, HashSet<u32>> = HashMap::new();
        let mut phones: HashMap<String, Vec<(u32, DateTime<FixedOffset>)>> = HashMap::new();
        for r in &d.rows {
            if let Some(u) = &r.wechat_unionid {
                assert_eq!(*unionids.entry(u).or_insert(r.person), r.person);
            }
            if let Some(dev) = &r.device_id {
                let key = dev.to_ascii_lowercase().replace('-', "");
                devices.entry(key).or_default().insert(r.person);
            }
            if matches!(r.channel, "shopify" | "miniprogram" | "dealer")
                && r.trap != Some("placeholder_phone")
                && let Some(p) = &r.phone
            {
                let n = digits(p);
                if n.len() == 11 && n.starts_with('1') {
                    phones.entry(n).or_default().push((r.person, r.ordered_at));
                }
            }
        }
        // Devices are personal unless all-zero or a family's shared device.
        let zero = "0".repeat(32);
        let shared = devices
            .iter()
            .filter(|(k, ps)| **k != zero && ps.len() > 1)
            .count();
        assert!(shared > 0);
        for (k, ps) in &devices {
            if *k != zero && ps.len() > 4 {
                panic!("device {k} used by {} persons", ps.len());
            }
        }
        // A full number seen for two persons is a recycled one, with the
        // carrier's quiet period between the owners.
        let mut recycled = 0;
        for uses in phones.values() {
            let owners: HashSet<u32> = uses.iter().map(|u| u.0).collect();
            if owners.len() > 1 {
                assert_eq!(owners.len(), 2);
                recycled += 1;
                let mut by_owner: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = owners
                    .iter()
                    .map(|o| {
                        let ts = uses.iter().filter(|u| u.0 == *o).map(|u| u.1);
                        (ts.clone().min().unwrap(), ts.max().unwrap())
                    })
                    .collect();
                by_owner.sort();
                assert!(by_owner[1].0 - by_owner[0].1 >= TimeDelta::days(90));
            }
        }
        assert!(recycled > 0);
    }

    #[test]
    fn recycled_phone_orders_respect_quiet_period() {
        let d = generate(&small_cfg());
        // Trap orders cover both the old owner and the new one.
        let owners: HashSet<u32> = d
            .rows
            .iter()
            .filter(|r| r.trap == Some("recycled_phone"))
            .map(|r| r.person)
            .collect();
        assert!(owners.len() >= 40, "{}", owners.len());
    }

    #[test]
    fn degenerate_configs() {
        let empty = generate(&GenConfig {
            customers: 0,
            ..small_cfg()
        });
        assert!(empty.rows.is_empty());
        let few = generate(&GenConfig {
            customers: 100,
            orders: 30,
            days: 3,
            ..small_cfg()
        });
        assert_eq!(few.rows.len(), 30);
        let many = generate(&GenConfig {
            customers: 3,
            orders: 500,
            days: 1,
            ..small_cfg()
        });
        assert_eq!(many.rows.len(), 500);
    }

    #[test]
    fn scramble_is_a_bijection() {
        for m in [2u64, 10, 1000, 10_000] {
            let mut seen: Vec<u64> = (0..m).map(|k| scramble(k, m, 42)).collect();
            assert!(seen.iter().all(|&x| x < m));
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len() as u64, m);
        }
        assert_ne!(scramble(1, 1 << 40, 1), scramble(1, 1 << 40, 2));
    }

    #[test]
    fn permute_in_place() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        permute(&mut v, vec![3, 0, 4, 1, 2, 5]);
        assert_eq!(v, ['d', 'a', 'e', 'b', 'c', 'f']);
    }

    /// Trap-labelled orders per trap kind.
    fn trap_counts(d: &Dataset) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for t in d.rows.iter().filter_map(|r| r.trap) {
            *counts.entry(t).or_default() += 1;
        }
        counts
    }

    /// Persons with at least `min` orders.
    fn persons_with(d: &Dataset, min: usize) -> usize {
        let mut per_person: HashMap<u32, usize> = HashMap::new();
        for r in &d.rows {
            *per_person.entry(r.person).or_default() += 1;
        }
        per_person.values().filter(|&&n| n >= min).count()
    }

    /// FNV-1a over every field of every row.
    fn fingerprint(d: &Dataset) -> u64 {
        let mut h = 0xCBF2_9CE4_8422_2325u64;
        let mut feed = |s: &str| {
            for b in s.bytes().chain([0xFF]) {
                h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
            }
        };
        for r in &d.rows {
            feed(&r.order_id);
            feed(r.channel);
            feed(&r.ordered_at.to_rfc3339());
            for o in [
                &r.account_id,
                &r.phone,
                &r.email,
                &r.wechat_unionid,
                &r.device_id,
                &r.ship_city,
                &r.ship_address,
                &r.ip,
                &r.coupon,
            ] {
                feed(o.as_deref().unwrap_or("\u{1}"));
            }
            feed(&r.amount_cents.to_string());
            feed(r.status);
            feed(&r.person.to_string());
            feed(r.trap.unwrap_or("\u{1}"));
        }
        h
    }

    /// 30k orders with the default ratio of persons to orders.
    fn cfg_30k() -> GenConfig {
        GenConfig {
            customers: 30_000 * 62 / 238,
            orders: 30_000,
            ..GenConfig::default()
        }
    }

    #[test]
    fn unit_scales_are_the_default() {
        let cfg = GenConfig {
            customers: 2_000,
            orders: 8_000,
            ..GenConfig::default()
        };
        assert_eq!((cfg.trap_scale, cfg.heavy_scale), (1.0, 1.0));
        let explicit = GenConfig {
            trap_scale: 1.0,
            heavy_scale: 1.0,
            ..cfg.clone()
        };
        let d = generate(&cfg);
        assert_eq!(d, generate(&explicit));
        // Pinned from the generator before the scales existed: scale 1.0
        // must keep every seed's output.
        let fingerprint = fingerprint(&d);
        assert_eq!(fingerprint, FINGERPRINT_8K, "{fingerprint:#x}");
        assert_ne!(
            d,
            generate(&GenConfig {
                trap_scale: 1.5,
                ..cfg.clone()
            })
        );
        assert_ne!(
            d,
            generate(&GenConfig {
                heavy_scale: 1.5,
                ..cfg
            })
        );
    }

    #[test]
    fn unit_scales_change_no_parameter() {
        let cfg = GenConfig::default();
        for p in [0.01, 0.05, 0.25, 0.015, 0.15, 0.12] {
            assert_eq!(cfg.trap_p(p).to_bits(), f64::to_bits(p));
        }
        let reg = Registry::new(10, 1.0);
        assert_eq!(reg.last4_values, 10_000);
        assert!(reg.masked_taken.is_none());
        let base = [
            (0.50, 0.3),
            (0.28, 2.0),
            (0.15, 6.0),
            (0.06, 14.0),
            (0.01, 60.0),
        ];
        let bits = |t: [(f64, f64); 5]| t.map(|(s, m)| (s.to_bits(), m.to_bits()));
        assert_eq!(bits(count_tiers(1.0)), bits(base));
    }

    #[test]
    fn heavy_tiers_keep_their_weight() {
        let weight = |t: [(f64, f64); 5]| t.iter().map(|(s, m)| s * m).sum::<f64>();
        let base = weight(count_tiers(1.0));
        for scale in [0.0, 0.3, 3.0] {
            let t = count_tiers(scale);
            assert!((t.iter().map(|x| x.0).sum::<f64>() - 1.0).abs() < 1e-9);
            assert!((t[4].0 - 0.01 * scale).abs() < 1e-12);
            assert!((weight(t) - base).abs() < 1e-9, "{scale}");
        }
        let all = count_tiers(1e6);
        assert_eq!(all[4].0, 1.0);
        assert!(all.iter().all(|(s, m)| s.is_finite() && m.is_finite()));
    }

    #[test]
    fn trap_scale_scales_every_trap() {
        let low = generate(&GenConfig {
            trap_scale: 0.3,
            ..cfg_30k()
        });
        let high = generate(&GenConfig {
            trap_scale: 3.0,
            ..cfg_30k()
        });
        assert_eq!((low.rows.len(), high.rows.len()), (30_000, 30_000));
        let (lo, hi) = (trap_counts(&low), trap_counts(&high));
        for t in TRAPS {
            let (l, h) = (lo.get(t).copied(), hi.get(t).copied());
            if l.is_some() || h.is_some() {
                assert!(
                    h.unwrap_or(0) > l.unwrap_or(0),
                    "{t}: x0.3 {lo:?} x3 {hi:?}"
                );
            }
            assert!(h.is_some(), "{t} missing at x3: {hi:?}");
        }
    }

    #[test]
    fn heavy_scale_scales_heavy_buyers() {
        let low = generate(&GenConfig {
            heavy_scale: 0.3,
            ..cfg_30k()
        });
        let high = generate(&GenConfig {
            heavy_scale: 3.0,
            ..cfg_30k()
        });
        assert_eq!((low.rows.len(), high.rows.len()), (30_000, 30_000));
        let (l, h) = (persons_with(&low, 50), persons_with(&high, 50));
        assert!(h > l * 3, "x0.3 {l} x3 {h}");
    }

    #[test]
    fn extreme_scales_keep_exact_counts() {
        let cfg = GenConfig {
            customers: 600,
            orders: 2_500,
            ..GenConfig::default()
        };
        for (trap_scale, heavy_scale) in [
            (0.0, 0.0),
            (1e9, 1e9),
            (f64::NAN, f64::NAN),
            (-1.0, -1.0),
            (f64::INFINITY, 1.0),
        ] {
            let d = generate(&GenConfig {
                trap_scale,
                heavy_scale,
                ..cfg.clone()
            });
            assert_eq!(d.rows.len(), 2_500, "{trap_scale} {heavy_scale}");
        }
        // No trap role at all at x0; only chance collisions of privacy and
        // masked numbers remain.
        let none = trap_counts(&generate(&GenConfig {
            trap_scale: 0.0,
            ..cfg
        }));
        assert!(
            none.keys()
                .all(|t| matches!(*t, "virtual_phone" | "masked_phone")),
            "{none:?}"
        );
    }

    /// The benchmark-scale configuration.
    #[test]
    fn default_size() {
        let d = generate(&GenConfig::default());
        assert_eq!(d.rows.len(), 238_000);
    }
}
