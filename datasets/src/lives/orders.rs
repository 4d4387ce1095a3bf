//! One person's orders: when and where they buy, who each parcel goes to,
//! and what each channel exports about it, with the situations the order
//! is in.

use super::Rates;
use super::abroad::{ForeignAddress, IntlPhone, foreign_ip};
use super::basket::{Appetite, amount, coupon, status};
use super::calendar::Calendar;
use super::cast::{Cast, Kind, NONE, Person};
use super::channel::{Channel, PhoneView};
use super::handles::{Accounts, Device, PLACEHOLDER_EMAILS, spell_email};
use super::ids::hash;
use super::phones::{self, Landline, PLACEHOLDERS, RelayPool, mistype, spell_mobile};
use super::places::{Address, city_name, home_ip, mobile_ip, office_ip};
use super::traps::{self, Sightings};
use crate::OrderRow;
use crate::rng::Rng;

const TAG_ORDERS: u64 = 0x0D0E;

/// Orders written so far, with what the ground truth needs to label them.
#[derive(Debug, Default)]
pub(super) struct Drafts {
    pub(super) rows: Vec<OrderRow>,
    pub(super) times: Vec<i64>,
    pub(super) masks: Vec<u16>,
    pub(super) recycled: Sightings,
    pub(super) tablets: Sightings,
}

/// Everything an order is rendered from.
#[derive(Debug)]
pub(super) struct World<'a> {
    pub(super) cast: &'a Cast,
    pub(super) calendar: &'a Calendar,
    pub(super) rates: &'a Rates,
    pub(super) accounts: Accounts,
    pub(super) relays: RelayPool,
    pub(super) seed: u64,
    pub(super) key: u64,
}

/// One planned order before rendering.
#[derive(Debug, Clone, Copy)]
struct Plan {
    t: i64,
    channel: Channel,
    /// Account slot: 0 is the person's own, 1.. extra accounts.
    slot: u8,
}

/// Where a parcel goes.
#[derive(Debug, Clone, Copy)]
enum Destination {
    Home(Address),
    Abroad(ForeignAddress),
}

/// The number given for delivery.
#[derive(Debug, Clone, Copy)]
enum Contact {
    Mobile(u64),
    Landline(Landline),
    Intl(IntlPhone),
}

impl World<'_> {
    /// Appends person `index`'s orders to `out`.
    pub(super) fn write_person(&self, index: u32, out: &mut Drafts) {
        let p = &self.cast.people[index as usize];
        if p.orders == 0 {
            return;
        }
        let mut rng = Rng::stream(self.seed, TAG_ORDERS, u64::from(index));
        let plans = self.plan(p, &mut rng);
        let borrowed = (p.borrows_from != NONE).then(|| rng.index(plans.len()));
        let mut opened: Vec<(Channel, u8)> = Vec::new();
        for (k, plan) in plans.iter().enumerate() {
            let first_on_account = !opened.contains(&(plan.channel, plan.slot));
            if first_on_account {
                opened.push((plan.channel, plan.slot));
            }
            self.write_order(
                index,
                p,
                plan,
                borrowed == Some(k),
                first_on_account,
                &mut rng,
                out,
            );
        }
    }

    fn choose_channel(&self, p: &Person, rng: &mut Rng) -> Channel {
        if p.abroad.is_some() {
            return if p.phone != 0 && rng.chance(0.12) {
                p.second
            } else {
                p.main
            };
        }
        let (main, second) = match p.kind {
            _ if p.masked_only => (0.75, 0.25),
            Kind::OneOff => (0.85, 0.1),
            k if k.is_heavy() => (0.75, 0.2),
            _ => (0.68, 0.22),
        };
        let u = rng.f64();
        if u < main {
            p.main
        } else if u < main + second {
            p.second
        } else {
            let options = [
                Channel::Tmall,
                Channel::Jd,
                Channel::Pdd,
                Channel::Douyin,
                Channel::MiniProgram,
                Channel::Dealer,
            ];
            *rng.weighted_by(&options, |c| c.main_share())
        }
    }

    /// When and where each order is placed, in time order.
    fn plan(&self, p: &Person, rng: &mut Rng) -> Vec<Plan> {
        let cal = self.calendar;
        let n = p.orders as usize;
        let (first, last) = (p.first_day, p.last_day.max(p.first_day));
        let tz = p.abroad.map_or(8, |(_, a)| a.tz_hours());
        let bursts: Vec<u32> = if p.kind == Kind::Reseller {
            (0..rng.range(6, 20))
                .map(|_| cal.burst_day(rng, first, last))
                .collect()
        } else {
            Vec::new()
        };
        let mut plans: Vec<Plan> = (0..n)
            .map(|_| {
                let channel = self.choose_channel(p, rng);
                let day = if !bursts.is_empty() && rng.chance(0.5) {
                    *rng.pick(&bursts)
                } else {
                    cal.day(rng, channel, first, last)
                };
                Plan {
                    t: cal.moment(rng, channel, day, tz),
                    channel,
                    slot: 0,
                }
            })
            .collect();
        // A phone change or a move shows only if orders fall on both sides.
        for split in [p.new_phone.map(|c| c.0), p.moved.map(|m| m.0)]
            .into_iter()
            .flatten()
        {
            if n < 2 || split <= first || split > last {
                continue;
            }
            let before = plans.iter().filter(|o| cal.day_of(o.t) < split).count();
            let redo = if before == 0 {
                Some((0, first, split - 1))
            } else if before == n {
                Some((n - 1, split, last))
            } else {
                None
            };
            if let Some((k, from, to)) = redo {
                let day = cal.day(rng, plans[k].channel, from, to);
                plans[k].t = cal.moment(rng, plans[k].channel, day, tz);
            }
        }
        plans.sort_by_key(|o| o.t);
        // Extra accounts, each used for one or two orders with a
        // new-customer coupon.
        let mut free: Vec<usize> = (1..n).collect();
        for slot in 1..=p.extra_accounts {
            for _ in 0..1 + usize::from(rng.chance(0.4)) {
                if free.is_empty() {
                    break;
                }
                let k = free.swap_remove(rng.index(free.len()));
                plans[k].channel = p.hunt_channel;
                plans[k].slot = slot;
            }
        }
        plans
    }

    #[allow(clippy::too_many_arguments)]
    fn write_order(
        &self,
        index: u32,
        p: &Person,
        plan: &Plan,
        borrowed: bool,
        first_on_account: bool,
        rng: &mut Rng,
        out: &mut Drafts,
    ) {
        let cal = self.calendar;
        let rates = self.rates;
        let cast = self.cast;
        let row = out.rows.len();
        let (t, channel) = (plan.t, plan.channel);
        let day = cal.day_of(t);
        let habit = hash(self.key, &[u64::from(index), 0x4AB1]);
        let mut mask = 0u16;
        let own = p.phone_on(day);
        let own_or_work = |rng: &mut Rng| {
            if p.work_phone != 0 && rng.chance(0.4) {
                p.work_phone
            } else {
                own
            }
        };
        let household = cast.household(p);
        let office = cast.office(p);
        let contacts = cast.contacts_of(p);

        // Where the parcel goes and which number is given for it.
        let mut at_office = false;
        let (mut destination, mut contact) = match (p.abroad, channel) {
            (Some((phone, address)), Channel::Shopify) => {
                (Destination::Abroad(address), Contact::Intl(phone))
            }
            _ => (Destination::Home(p.home_on(day)), Contact::Mobile(own)),
        };
        let to_contact = match p.kind {
            Kind::Reseller => !rng.chance(0.1),
            Kind::GiftSender => !rng.chance(0.3),
            Kind::OfficeBuyer => true,
            Kind::FamilyStocker => rng.chance(0.2),
            _ => false,
        };
        if to_contact && !contacts.is_empty() {
            let c = contacts[rng.index(contacts.len())];
            destination = Destination::Home(c.address);
            contact = if c.phone != 0 && rng.chance(0.55) {
                Contact::Mobile(c.phone)
            } else {
                Contact::Mobile(own_or_work(rng))
            };
        } else if p.kind.is_heavy() {
            contact = Contact::Mobile(own_or_work(rng));
        }
        if let Some(o) = office
            && rng.chance(0.35)
        {
            at_office = true;
            destination = Destination::Home(o.address);
            if rng.chance(0.6) {
                contact = match o.landline {
                    Some(l) => Contact::Landline(l),
                    None => Contact::Mobile(cast.people[o.admin as usize].phone_on(day)),
                };
            }
        }
        if let Some(h) = household
            && h.shares_phone
            && rng.chance(0.2)
        {
            let partner = &cast.people[h.partner_of(index) as usize];
            contact = Contact::Mobile(partner.phone_on(day));
        }
        if borrowed {
            contact = Contact::Mobile(cast.people[p.borrows_from as usize].phone_on(day));
        }

        // The phone field, as this channel shows it.
        let mut shown_in_full = None;
        let phone = match contact {
            Contact::Intl(number) => {
                mask |= traps::INTL_PHONE;
                Some(number.spell(rng))
            }
            Contact::Landline(l) => Some(l.spell(rng)),
            Contact::Mobile(number) => match channel {
                Channel::Dealer => {
                    if rng.chance((0.15 * rates.placeholder_phone).min(1.0)) {
                        mask |= traps::PLACEHOLDER_PHONE;
                        let shop = cast.shop(p.shop);
                        Some(match (rng.chance(0.4), shop.landline) {
                            (true, Some(l)) => l.spell(rng),
                            (true, None) => spell_mobile(shop.mobile, rng, channel, true),
                            _ => PLACEHOLDERS[rng.index(PLACEHOLDERS.len())].to_string(),
                        })
                    } else if rng.chance((0.03 * rates.clerk_typo).min(1.0)) {
                        Some(mistype(number, rng))
                    } else {
                        shown_in_full = Some(number);
                        Some(spell_mobile(number, rng, channel, true))
                    }
                }
                Channel::MiniProgram => {
                    // WeChat's phone authorization gives the buyer's bound
                    // number, which lags a phone change; otherwise the
                    // address form's number.
                    let number = if rng.chance(0.7) {
                        match p.new_phone {
                            Some((from, _)) if day >= from && day < from + p.wechat_lag_days => {
                                p.phone
                            }
                            _ => own,
                        }
                    } else {
                        number
                    };
                    shown_in_full = Some(number);
                    Some(spell_mobile(number, rng, channel, false))
                }
                Channel::Shopify => {
                    shown_in_full = Some(number);
                    Some(spell_mobile(number, rng, channel, true))
                }
                _ => {
                    // Masked-only buyers never show a full number.
                    let [full, masked, relay] = channel.phone_views();
                    let w = [
                        if p.masked_only { 0.0 } else { full },
                        masked * rates.masked_phone.max(0.0),
                        relay * rates.relay_phone.max(0.0),
                    ];
                    let total = w[0] + w[1] + w[2];
                    let u = rng.f64() * total;
                    let view = if total <= 0.0 {
                        PhoneView::Masked
                    } else if u < w[0] {
                        PhoneView::Full
                    } else if u < w[0] + w[1] {
                        PhoneView::Masked
                    } else {
                        PhoneView::Relay
                    };
                    match view {
                        PhoneView::Full => {
                            shown_in_full = Some(number);
                            Some(spell_mobile(number, rng, channel, false))
                        }
                        PhoneView::Masked => {
                            mask |= traps::MASKED_PHONE;
                            Some(phones::mask(number, rng, channel))
                        }
                        PhoneView::Relay => {
                            mask |= traps::VIRTUAL_PHONE;
                            Some(self.relays.spell(rng, channel))
                        }
                    }
                }
            },
        };
        if let Some(number) = shown_in_full {
            let own_numbers = [p.phone, p.new_phone.map_or(0, |c| c.1)];
            if p.new_phone.is_some() && own_numbers.contains(&number) {
                mask |= traps::PHONE_CHANGE;
            }
            if p.recycled_number() == Some(number) {
                mask |= traps::RECYCLED_PHONE;
                out.recycled.note(number, index, row);
            }
        }

        // Account, unionid, email.
        if plan.slot > 0 {
            mask |= traps::COUPON_ABUSE;
        }
        let venue = ((habit >> 20) & 1) as u8 ^ u8::from(rng.chance(0.15));
        let account_holder = match household {
            Some(h) if h.shares_phone && plan.slot == 0 && rng.chance(0.1) => h.partner_of(index),
            _ => index,
        };
        let account_id = match channel {
            Channel::Shopify if rng.chance(0.3) => None,
            _ => self
                .accounts
                .account(account_holder, channel, plan.slot, venue),
        };
        let wechat_unionid = (channel == Channel::MiniProgram && rng.chance(0.92))
            .then(|| self.accounts.unionid(index));
        let placeholder_email = match channel {
            Channel::MiniProgram => 0.05,
            Channel::Shopify => 0.02,
            Channel::Jd => 0.005,
            _ => 0.0,
        } * rates.placeholder_email;
        let email = if rng.chance(placeholder_email.min(1.0)) {
            mask |= traps::PLACEHOLDER_EMAIL;
            Some(PLACEHOLDER_EMAILS[rng.index(PLACEHOLDER_EMAILS.len())].to_string())
        } else {
            let office_email = office
                .filter(|_| at_office && rng.chance(0.5))
                .and_then(|o| o.email.as_deref());
            let shows = rng.chance(channel.email_share());
            match (office_email, p.email.as_deref()) {
                (Some(e), _) if shows || channel == Channel::Shopify => {
                    Some(spell_email(e, rng, channel))
                }
                (_, Some(e)) if shows => Some(spell_email(e, rng, channel)),
                _ => None,
            }
        };

        // Device and IP.
        let device_id = if rng.chance(channel.device_share()) {
            let tablet = household.filter(|h| h.tablet && rng.chance(0.4));
            let device = match tablet {
                Some(h) => {
                    mask |= traps::SHARED_DEVICE;
                    out.tablets.note(u64::from(p.household), index, row);
                    Device::draw(
                        self.key,
                        u64::from(h.first) | 1 << 40,
                        0,
                        h.tablet_ios,
                        false,
                    )
                }
                None => {
                    let generation = u64::from(p.renewed.is_some_and(|d| day >= d));
                    if p.zeroed && generation == 0 {
                        mask |= traps::ZERO_DEVICE;
                    }
                    Device::draw(
                        self.key,
                        u64::from(index),
                        generation,
                        p.ios,
                        p.zeroed && generation == 0,
                    )
                }
            };
            Some(device.spell(rng, channel))
        } else {
            None
        };
        let ip = rng
            .chance(channel.ip_share())
            .then(|| match (p.abroad, office) {
                (Some((phone, _)), _) if channel == Channel::Shopify => {
                    foreign_ip(rng, phone.country, hash(self.key, &[u64::from(index), 1]))
                }
                (_, Some(_)) if at_office => office_ip(self.key, u64::from(p.office), p.home.city),
                _ if rng.chance(0.5) => {
                    let line = if p.household != NONE {
                        u64::from(p.household) | 1 << 40
                    } else {
                        u64::from(index)
                    };
                    let lease = 20 + (habit >> 32) % 70;
                    home_ip(self.key, line, p.home_on(day).city, day, lease as u32)
                }
                _ => mobile_ip(rng),
            });

        // What was bought and what became of it.
        let promotion = cal.promotion(t);
        let new_customer = first_on_account && (plan.slot > 0 || rng.chance(0.35));
        let coupon = coupon(rng, channel, new_customer, promotion);
        let category = if rng.chance(0.8) {
            p.category
        } else {
            p.side_category
        };
        let appetite = match p.kind {
            Kind::Reseller | Kind::OfficeBuyer => Appetite::Bulk,
            Kind::FamilyStocker | Kind::GiftSender => Appetite::Household,
            _ => Appetite::Personal,
        };
        let amount_cents = amount(
            rng,
            category,
            appetite,
            channel,
            coupon.is_some(),
            promotion.is_some(),
        );
        let age_days = (cal.end() - t) as f64 / 86_400.0;
        let status = status(rng, channel, age_days, p.kind == Kind::Reseller);
        let pickup = channel == Channel::Dealer && rng.chance(0.6);
        let (ship_city, ship_address) = if pickup {
            (Some(city_name(cast.shop(p.shop).city, rng)), None)
        } else {
            match destination {
                Destination::Home(a) => (Some(a.city_name(rng)), Some(a.spell(rng, habit))),
                Destination::Abroad(a) => (Some(a.city_name().to_string()), Some(a.spell(rng))),
            }
        };

        out.rows.push(OrderRow {
            order_id: String::new(),
            channel: channel.name(),
            ordered_at: cal.datetime(t),
            account_id,
            phone,
            email,
            wechat_unionid,
            device_id,
            amount_cents,
            status,
            ship_city,
            ship_address,
            ip,
            coupon,
            person: index,
            trap: None,
        });
        out.times.push(t);
        out.masks.push(mask);
    }
}
