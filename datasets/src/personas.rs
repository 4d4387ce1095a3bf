//! Named personas: small, hand-written stories of orders, each with the
//! truth of which real person placed every order.
//!
//! A persona states what is true about the people in it, not what any
//! resolver makes of them. Each persona owns its identifiers (phones,
//! e-mails, unionIDs, channel accounts, devices, addresses): no other
//! persona reuses them, except the well-known [`PLACEHOLDERS`] that
//! unrelated people type everywhere. Order ids start with the persona's
//! name, so the whole catalogue can be dropped into one large background
//! population without clashes. Persona phones use real mainland prefixes
//! (147, 166, 190, 192, 196, 197) and privacy numbers use the 162 range,
//! which the background generator does not draw from.
//!
//! Rows carry the variation of real exports: one phone spelled several
//! ways, e-mails in other cases or with stray spaces, addresses written
//! differently, masked and relay numbers, device ids in either case, and
//! statuses that are mostly `signed`. Everything is derived from a seed made
//! of the persona's name, so the catalogue is the same on every run.

mod changes;
mod faces;
mod households;
mod mint;
mod places;
mod recycled;
mod spell;
mod story;
mod strangers;
mod thin;
mod volume;

#[cfg(test)]
mod tests;

use crate::OrderRow;

/// The placeholder phone dealer clerks type when a buyer gives none.
pub const PLACEHOLDER_PHONE: &str = "13800000000";
/// The placeholder e-mail typed into checkouts that insist on one.
pub const PLACEHOLDER_EMAIL: &str = "test@test.com";
/// The all-zero IDFA a device reports when ad tracking is off.
pub const ZERO_IDFA: &str = "00000000-0000-0000-0000-000000000000";
/// Well-known placeholders: the only values unrelated personas share.
pub const PLACEHOLDERS: [&str; 5] = [
    PLACEHOLDER_PHONE,
    PLACEHOLDER_EMAIL,
    "123@qq.com",
    "123456@qq.com",
    ZERO_IDFA,
];

/// One named story of orders with its truth.
#[derive(Debug, Clone)]
pub struct Persona {
    /// Unique name; also the prefix of every order id in `rows`.
    pub name: &'static str,
    /// Who the people are, what happens, and what the right answer is.
    pub story: &'static str,
    /// What a careful resolver can be held to.
    pub expect: Expect,
    /// The orders, in time order; `person` numbers the people from 0.
    pub rows: Vec<OrderRow>,
}

/// What the evidence in a persona lets a careful resolver achieve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The identifiers suffice: a careful resolver must reproduce the truth partition exactly.
    Exact,
    /// The evidence cannot tell (e.g. masked-only orders): no two people may share a customer, but one person may be split.
    NoFalseMerge,
}

/// Every persona of the catalogue.
pub fn all() -> Vec<Persona> {
    vec![
        volume::reseller(),
        volume::gift_sender(),
        volume::daigou(),
        volume::office_buyer(),
        volume::livestream_binge(),
        volume::coupon_hunter(),
        volume::masked_regular(),
        recycled::quiet_45_days(),
        recycled::quiet_90_days(),
        recycled::quiet_a_year(),
        recycled::old_holder_returns(),
        recycled::work_phone_handover(),
        changes::phone_change(),
        changes::new_life(),
        changes::mover(),
        households::family_ipad(),
        households::couple_phone(),
        households::student_parent_phone(),
        households::twins_device(),
        households::family_jd_account(),
        strangers::office_email(),
        strangers::clerk_shop_phone(),
        strangers::relay_reuse(),
        strangers::test_email(),
        strangers::zero_idfa(),
        strangers::namesakes(),
        faces::seven_channels(),
        faces::overseas_shopify(),
        faces::hk_commuter(),
        faces::two_miniprograms(),
        faces::walk_in_goes_online(),
        faces::dealer_typo(),
        thin::tmall_masked(),
        thin::masked_two_platforms(),
        thin::device_only(),
        thin::mask_twins(),
    ]
}
