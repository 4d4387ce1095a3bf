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
}

mod calendar;
mod collisions;
mod orders;
mod people;
mod places;
mod registry;

use calendar::*;
use collisions::*;
use orders::*;
use places::*;
use registry::*;

#[cfg(test)]
mod tests;
