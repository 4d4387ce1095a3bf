//! A second, independent generator of e-commerce orders with ground truth,
//! built from its own model of people.
//!
//! # The people
//!
//! A mid-size consumer brand (pet devices, cosmetics, baby goods, apparel)
//! sells on Tmall, JD, Pinduoduo, its Douyin shops, two WeChat
//! mini-programs, a Shopify site for overseas buyers, and through offline
//! dealers who key orders into a dealer app. Over the period (13 months by
//! default) its buyers place the requested number of orders.
//!
//! **How much people buy** is heavy-tailed. Over half the people order
//! once; about a fifth two or three times; a quarter are regulars with 3-15
//! orders a year; 2 % buy 16-49 times a year; and 0.5 % (scaled by
//! [`Rates::heavy_share`]) are heavy buyers with 50-500 orders a year:
//! resellers and daigou who ship to tens of clients (in one city or spread
//! out) and buy in bursts around promotions, gift senders shipping to
//! friends, office buyers shipping to a few company sites, and families
//! stocking up for themselves and their parents. Heavy buyers keep one main
//! channel and a second one; resellers and office buyers often run a second
//! business line. The counts are then scaled, with random rounding, so that
//! the total is exact: at the default size 56 % of people order once and
//! heavy buyers place a quarter of the orders.
//!
//! **When people buy** follows the retail calendar: Double 11 and the weeks
//! before it, Double 12, 618, Women's Day, the Spring Festival dip when
//! logistics stop; Douyin peaks on the brand's live-stream evenings; Shopify
//! follows Black Friday, Cyber Monday and Christmas in the buyer's own time
//! zone; dealers keep shop hours and are busiest at weekends. Everyone shops
//! at lunch and in the evening, and at midnight when a big promotion opens.
//!
//! **What each channel exports.** Tmall shows a buyer nick, mostly a
//! masked phone (`138****5678`, `138*****678`) or a platform relay number
//! with an extension (`17012345678-1234`, `170 1234 5678 转 1234`) that the
//! platform reuses for other buyers later, a full phone only sometimes, and
//! rarely an email. JD shows an account pin, a masked or full phone or a
//! `95013…` relay number, sometimes an email. Pinduoduo shows a numeric account and
//! mostly relay numbers or masks. Douyin shows a per-shop buyer id and
//! masked or relay phones. The mini-programs show a per-app openid, the
//! WeChat unionid (the same across both apps), and the number WeChat's phone
//! authorization gives (which stays the old one for a while after a phone
//! change). Shopify shows an email (mixed case, Gmail dots and `+tags`),
//! international phones in local spellings, or mainland phones with `+86`.
//! Dealers have no accounts; clerks type the phone in any spelling (spaces,
//! dashes, `+86`/`0086`/`86-`/`(+86)`, full-width digits, stray whitespace)
//! and sometimes mistype it. App orders carry the phone's advertising id,
//! upper- or lower-case by channel, all zeros under limited ad tracking;
//! people replace their phones every two to three years. Addresses are
//! spelled a little differently on every order (with or without province,
//! `号` or `#`, `栋`/`幢`/`号楼`, `3-2-501`, spaces, full-width digits).
//! Orders show their latest status: most are signed, recent ones paid or
//! shipped, some unpaid, cancelled or refunded.
//!
//! **Life situations**, each with a multiplier in [`Rates`]:
//!
//! - *Phone change*: a repeat buyer gets a new number mid-period and keeps
//!   accounts, unionid and email; the old number goes quiet.
//! - *Recycled numbers*: a carrier reissues a released number (after a
//!   phone change, or from a buyer who stopped ordering) to a stranger after
//!   weeks to months; the new holder starts ordering with it, anywhere.
//! - *Family devices*: a household orders from one family tablet.
//! - *Shared phones and accounts*: household members give each other's
//!   phone for a delivery or order from each other's account now and then.
//! - *Borrowed phones*: a student or relative uses someone's phone once.
//! - *Offices*: colleagues ship to the office with the front-desk landline,
//!   the admin's mobile or a shared mailbox.
//! - *Coupon hunters* open extra accounts for new-customer coupons, with the
//!   same phone, device and address.
//! - *Placeholders*: dealer clerks type the shop's phone or `13800000000`,
//!   `11111111111`, `12345678901`… for walk-ins; forms get `123@qq.com`,
//!   `a@a.com`, `test@test.com`….
//! - *Masked phones*: platforms mask numbers, and some people only ever buy
//!   on Tmall and JD and never show a full one.
//! - *Relay numbers* and *limited ad tracking* (all-zero device ids).
//! - *Movers* change city or address; *overseas buyers* order on Shopify
//!   with international phones and foreign addresses.
//! - *Clerk typos* on dealer orders.
//!
//! The ground truth is the human who placed each order: a parcel sent to a
//! client with the client's phone, an order from a partner's account, or a
//! borrowed phone still belongs to the person who ordered. Each order's
//! `trap` names the situation most likely to mislead a matcher among those
//! it is in (see [`crate::TRAPS`]); a recycled number or a family tablet
//! counts only where more than one person actually shows it.

mod abroad;
mod basket;
mod calendar;
mod cast;
mod channel;
mod events;
mod groups;
mod handles;
mod ids;
mod order_ids;
mod orders;
mod phones;
mod places;
mod traps;

use chrono::{DateTime, FixedOffset};

use crate::{Dataset, OrderRow};
use calendar::Calendar;
use cast::Cast;
use channel::Channel;
use handles::Accounts;
use ids::hash;
use order_ids::OrderIds;
use orders::{Drafts, World};
use phones::RelayPool;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct LivesConfig {
    /// Real people (some may place no order when there are fewer orders
    /// than people).
    pub people: usize,
    /// Orders, exactly.
    pub orders: usize,
    /// Seed: equal configurations give identical datasets.
    pub seed: u64,
    /// Start of the period; its offset is the one orders are exported in.
    pub start: DateTime<FixedOffset>,
    /// Length of the period in days.
    pub days: u32,
    /// How common each life situation is.
    pub rates: Rates,
}

impl Default for LivesConfig {
    /// 62,000 people placing 238,000 orders over 13 months from
    /// 2025-11-01 (+08:00).
    fn default() -> Self {
        LivesConfig {
            people: 62_000,
            orders: 238_000,
            seed: 1,
            start: DateTime::parse_from_rfc3339("2025-11-01T00:00:00+08:00").unwrap_or_default(),
            days: 396,
            rates: Rates::default(),
        }
    }
}

/// Multipliers on how common each life situation is (1.0 is the model's
/// own estimate; probabilities are capped at certainty).
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// Repeat buyers switching to a new number (7 % of them).
    pub phone_change: f64,
    /// Released numbers reissued to strangers who then order: 30 % of
    /// changed numbers, and the numbers of 0.4 % of buyers, who stop
    /// ordering and cancel their line.
    pub recycled_phone: f64,
    /// Households ordering from a family tablet (40 % of households).
    pub family_device: f64,
    /// Households whose members use each other's phone or account (35 %).
    pub shared_phone: f64,
    /// People who use a relative's phone once (1.5 %).
    pub borrowed_phone: f64,
    /// Colleagues shipping to their office with its shared landline, the
    /// admin's mobile or a shared mailbox (about 3 % of people).
    pub office_sharing: f64,
    /// Repeat buyers opening extra accounts for coupons (2.5 % of them).
    pub coupon_hunter: f64,
    /// Dealer orders with the shop's or a fake phone (15 %).
    pub placeholder_phone: f64,
    /// Placeholder emails typed into forms (5 % of mini-program, 2 % of
    /// Shopify and 0.5 % of JD orders).
    pub placeholder_email: f64,
    /// Platforms masking phones (about half of marketplace orders), and
    /// people who only ever buy on Tmall and JD and never show a full
    /// number (8 % of people).
    pub masked_phone: f64,
    /// Platforms giving relay numbers instead of the buyer's (40 % of Tmall,
    /// 57 % of Pinduoduo, 38 % of Douyin and 8 % of JD orders).
    pub relay_phone: f64,
    /// Limited ad tracking: all-zero device ids (30 % of iPhones, 5 % of
    /// Android phones).
    pub zero_device: f64,
    /// Repeat buyers who move (6 % of them).
    pub mover: f64,
    /// Overseas buyers on Shopify (2.5 % of people).
    pub overseas: f64,
    /// Dealer clerks mistyping a phone (3 % of typed numbers).
    pub clerk_typo: f64,
    /// Multiplier on the share of heavy buyers (0.5 % of people).
    pub heavy_share: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates::scaled(1.0)
    }
}

impl Rates {
    /// Every situation multiplied by `factor`; the heavy-buyer share stays
    /// at 1.0.
    pub fn scaled(factor: f64) -> Rates {
        Rates {
            phone_change: factor,
            recycled_phone: factor,
            family_device: factor,
            shared_phone: factor,
            borrowed_phone: factor,
            office_sharing: factor,
            coupon_hunter: factor,
            placeholder_phone: factor,
            placeholder_email: factor,
            masked_phone: factor,
            relay_phone: factor,
            zero_device: factor,
            mover: factor,
            overseas: factor,
            clerk_typo: factor,
            heavy_share: 1.0,
        }
    }
}

/// Generates the orders of `cfg`, sorted by time, with each order's person
/// and trap.
pub fn generate(cfg: &LivesConfig) -> Dataset {
    let days = cfg.days.max(1);
    let calendar = Calendar::new(cfg.start, days, cfg.seed);
    let cast = Cast::new(cfg.people, cfg.orders, days, cfg.seed, &cfg.rates);
    let key = hash(cfg.seed, &[0x11FE5]);
    let world = World {
        cast: &cast,
        calendar: &calendar,
        rates: &cfg.rates,
        accounts: Accounts::new(key),
        relays: RelayPool::new(hash(key, &[0x4E1A]), cfg.orders / 3),
        seed: cfg.seed,
        key,
    };
    let mut drafts = Drafts {
        rows: Vec::with_capacity(cfg.orders),
        times: Vec::with_capacity(cfg.orders),
        masks: Vec::with_capacity(cfg.orders),
        ..Drafts::default()
    };
    for person in 0..cast.people.len() {
        world.write_person(person as u32, &mut drafts);
    }
    let Drafts {
        rows,
        times,
        mut masks,
        recycled,
        tablets,
    } = drafts;
    recycled.keep_shared(&mut masks, traps::RECYCLED_PHONE);
    tablets.keep_shared(&mut masks, traps::SHARED_DEVICE);

    let mut order: Vec<(i64, u32)> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| (t, i as u32))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<OrderRow>> = rows.into_iter().map(Some).collect();
    let mut ids = OrderIds::new(key);
    let rows = order
        .iter()
        .filter_map(|&(_, i)| {
            let mut row = slots[i as usize].take()?;
            let channel = Channel::ALL
                .into_iter()
                .find(|c| c.name() == row.channel)
                .unwrap_or(Channel::Tmall);
            row.order_id = ids.next(channel, row.ordered_at);
            row.trap = traps::label(masks[i as usize]);
            Some(row)
        })
        .collect();
    Dataset { rows }
}

#[cfg(test)]
mod tests;
