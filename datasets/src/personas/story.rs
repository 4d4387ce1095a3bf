//! The builder persona orders are written with: a [`Story`] collects one
//! persona's orders, a [`Draft`] fills in one order the way a channel's
//! export spells it, and [`Story::finish`] numbers the orders in time order.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

use super::mint::Mint;
use super::places::Place;
use super::spell::{self, EVERYDAY, EVERYDAY_EMAIL, Spelling};
use super::{Expect, Persona};
use crate::{OrderRow, TRAPS};

pub(super) const TMALL: &str = "tmall";
pub(super) const JD: &str = "jd";
pub(super) const PDD: &str = "pdd";
pub(super) const DOUYIN: &str = "douyin";
pub(super) const MINIPROGRAM: &str = "miniprogram";
pub(super) const SHOPIFY: &str = "shopify";
pub(super) const DEALER: &str = "dealer";

/// Shanghai business time, `+08:00`.
pub(super) fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A day written `YYYY-MM-DD`.
pub(super) fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad day {text}: {e}"))
}

/// A Shanghai local time written `YYYY-MM-DD HH:MM`.
pub(super) fn at(text: &str) -> DateTime<FixedOffset> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("bad time {text}: {e}"))
        .and_local_timezone(shanghai())
        .single()
        .expect("fixed offsets are unambiguous")
}

/// One persona's orders under construction.
#[derive(Debug)]
pub(super) struct Story {
    name: &'static str,
    rows: Vec<OrderRow>,
    /// The persona's seeded choices and identifiers.
    pub(super) mint: Mint,
}

impl Story {
    /// An empty story whose randomness is seeded by `name`.
    pub(super) fn new(name: &'static str) -> Self {
        Self {
            name,
            rows: Vec::new(),
            mint: Mint::new(name),
        }
    }

    /// Adds an order `person` placed on `channel` at `time`, with a status
    /// and amount drawn as most orders have them; the [`Draft`] fills in
    /// the rest.
    pub(super) fn order(
        &mut self,
        person: u32,
        channel: &'static str,
        time: DateTime<FixedOffset>,
    ) -> Draft<'_> {
        let row = OrderRow {
            order_id: String::new(),
            channel,
            ordered_at: time,
            account_id: None,
            phone: None,
            email: None,
            wechat_unionid: None,
            device_id: None,
            amount_cents: self.mint.cents(29, 599),
            status: self.mint.status(),
            ship_city: None,
            ship_address: None,
            ip: None,
            coupon: None,
            person,
            trap: None,
        };
        self.rows.push(row);
        Draft {
            row: self.rows.last_mut().expect("just pushed"),
            mint: &mut self.mint,
        }
    }

    /// The finished persona: orders in time order, numbered
    /// `<name>-0001`, `<name>-0002`, ...
    pub(super) fn finish(mut self, story: &'static str, expect: Expect) -> Persona {
        self.rows.sort_by_key(|r| r.ordered_at);
        for (i, row) in self.rows.iter_mut().enumerate() {
            row.order_id = format!("{}-{:04}", self.name, i + 1);
        }
        Persona {
            name: self.name,
            story,
            expect,
            rows: self.rows,
        }
    }
}

/// One order being filled in; every setter returns the draft for chaining.
#[derive(Debug)]
pub(super) struct Draft<'a> {
    row: &'a mut OrderRow,
    mint: &'a mut Mint,
}

impl Draft<'_> {
    /// Applies `fill` only when `condition` holds.
    pub(super) fn when(self, condition: bool, fill: impl FnOnce(Self) -> Self) -> Self {
        if condition { fill(self) } else { self }
    }

    /// Applies `fill` with the value, when there is one.
    pub(super) fn maybe<T>(self, value: Option<T>, fill: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(v) => fill(self, v),
            None => self,
        }
    }

    /// The channel account (Taobao nick, JD pin, openid, member card, ...).
    pub(super) fn account(self, account: &str) -> Self {
        self.row.account_id = Some(account.to_string());
        self
    }

    /// The phone in one of its everyday spellings, mostly plain.
    pub(super) fn phone(self, phone: u64) -> Self {
        let how = *self.mint.pick(&EVERYDAY);
        self.phone_as(phone, how)
    }

    /// The phone spelled exactly as `how` says.
    pub(super) fn phone_as(self, phone: u64, how: Spelling) -> Self {
        let text = spell::phone(phone, how);
        let draft = self.phone_text(&text);
        if how == Spelling::Masked {
            draft.trap("masked_phone")
        } else {
            draft
        }
    }

    /// The phone masked as Tmall and JD export it (`166****0995`).
    pub(super) fn masked(self, phone: u64) -> Self {
        self.phone_as(phone, Spelling::Masked)
    }

    /// The phone, masked when `masked` holds and spelled as usual otherwise.
    pub(super) fn phone_masked_if(self, phone: u64, masked: bool) -> Self {
        if masked {
            self.masked(phone)
        } else {
            self.phone(phone)
        }
    }

    /// The phone field as given: relay numbers, landlines, placeholders,
    /// foreign numbers.
    pub(super) fn phone_text(self, text: &str) -> Self {
        self.row.phone = Some(text.to_string());
        self
    }

    /// The e-mail in one of its everyday spellings, mostly as registered.
    pub(super) fn email(self, address: &str) -> Self {
        let how = *self.mint.pick(&EVERYDAY_EMAIL);
        self.email_text(&spell::email(address, how))
    }

    /// The e-mail field as given.
    pub(super) fn email_text(self, text: &str) -> Self {
        self.row.email = Some(text.to_string());
        self
    }

    /// The WeChat unionID.
    pub(super) fn unionid(self, unionid: &str) -> Self {
        self.row.wechat_unionid = Some(unionid.to_string());
        self
    }

    /// The device id, now and then exported in the other case.
    pub(super) fn device(self, device: &str) -> Self {
        let text = if self.mint.chance(15) {
            spell::swap_case(device)
        } else {
            device.to_string()
        };
        self.device_text(&text)
    }

    /// The device id as given.
    pub(super) fn device_text(self, text: &str) -> Self {
        self.row.device_id = Some(text.to_string());
        self
    }

    /// Ships to `place`, written in one of its spellings (mostly the full
    /// one), with the city now and then without `市`.
    pub(super) fn ship(self, place: &Place) -> Self {
        let spelling = if self.mint.chance(60) {
            0
        } else {
            1 + self.mint.below(place.spellings() - 1)
        };
        let short = self.mint.chance(15);
        self.row.ship_city = Some(place.city(short).to_string());
        self.row.ship_address = Some(place.spelling(spelling).to_string());
        self
    }

    /// The amount, drawn between `lo` and `hi` yuan.
    pub(super) fn amount(self, lo: i64, hi: i64) -> Self {
        self.row.amount_cents = self.mint.cents(lo, hi);
        self
    }

    /// The status, instead of the drawn one.
    pub(super) fn status(self, status: &'static str) -> Self {
        self.row.status = status;
        self
    }

    /// The client IP.
    pub(super) fn ip(self, ip: &str) -> Self {
        self.row.ip = Some(ip.to_string());
        self
    }

    /// The coupon code claimed.
    pub(super) fn coupon(self, coupon: &str) -> Self {
        self.row.coupon = Some(coupon.to_string());
        self
    }

    /// Labels the trap the order shows; of several, the one listed first in
    /// [`TRAPS`] wins.
    pub(super) fn trap(self, trap: &'static str) -> Self {
        let rank = |t: &str| {
            TRAPS
                .iter()
                .position(|known| *known == t)
                .unwrap_or_else(|| panic!("unknown trap {t}"))
        };
        if self.row.trap.is_none_or(|old| rank(trap) < rank(old)) {
            self.row.trap = Some(trap);
        }
        self
    }
}
