//! The people: how many orders each places, where they live, which
//! numbers, mailboxes, devices and channels they have, and whom heavy buyers
//! ship to. Households and offices ([`super::groups`]) and life events
//! ([`super::events`]) are cast on top of them.

use super::Rates;
use super::abroad::{ForeignAddress, IntlPhone, pick_country};
use super::basket::Category;
use super::channel::Channel;
use super::groups::{Household, Office};
use super::handles::{Provider, draw_email};
use super::ids::{Scrambler, hash};
use super::phones::{Carrier, Landline};
use super::places::{Address, CITIES, pick_city};
use crate::rng::{FxHashSet, Rng};

/// No index: a person outside any household, office or loan.
pub(super) const NONE: u32 = u32::MAX;

/// Stream tags: each phase of casting draws from its own streams.
const TAG_KIND: u64 = 0x4B1D;
const TAG_TRAITS: u64 = 0x7A17;

/// How much someone buys, and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// One order in the period.
    OneOff,
    /// Two or three orders.
    Light,
    /// A steady customer: 3-15 orders a year.
    Regular,
    /// 16-49 orders a year.
    Frequent,
    /// A reseller or daigou buying for clients, in bursts around promotions.
    Reseller,
    /// Ships gifts to many friends and relatives.
    GiftSender,
    /// Buys for the company, to a few office addresses.
    OfficeBuyer,
    /// Stocks up a household (and the parents' one).
    FamilyStocker,
}

impl Kind {
    /// Whether this is one of the heavy buyers (50-500 orders a year).
    pub(super) fn is_heavy(self) -> bool {
        matches!(
            self,
            Kind::Reseller | Kind::GiftSender | Kind::OfficeBuyer | Kind::FamilyStocker
        )
    }
}

/// Whether a person's number passed through a carrier's recycling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Recycling {
    None,
    /// The person's (old) number was later reissued to someone else.
    Released,
    /// The person's number was someone else's before.
    Reissued,
}

/// One real person.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) kind: Kind,
    pub(super) orders: u32,
    /// First and last day (inclusive) the person orders on.
    pub(super) first_day: u32,
    pub(super) last_day: u32,
    pub(super) main: Channel,
    pub(super) second: Channel,
    pub(super) category: Category,
    pub(super) side_category: Category,
    pub(super) home: Address,
    /// Day of a move and the new home.
    pub(super) moved: Option<(u32, Address)>,
    /// Mainland mobile number; 0 when the person has none.
    pub(super) phone: u64,
    /// Day the person switched to a new number, and the number.
    pub(super) new_phone: Option<(u32, u64)>,
    /// Days after a phone change during which WeChat still hands out the
    /// old number.
    pub(super) wechat_lag_days: u32,
    /// A second line heavy buyers run for their business; 0 when none.
    pub(super) work_phone: u64,
    pub(super) abroad: Option<(IntlPhone, ForeignAddress)>,
    pub(super) email: Option<Box<str>>,
    pub(super) ios: bool,
    pub(super) zeroed: bool,
    /// Day the person replaces the phone (a new advertising id).
    pub(super) renewed: Option<u32>,
    pub(super) household: u32,
    pub(super) office: u32,
    pub(super) masked_only: bool,
    /// Extra accounts opened for new-customer coupons, and where.
    pub(super) extra_accounts: u8,
    pub(super) hunt_channel: Channel,
    /// The relative whose phone the person uses once.
    pub(super) borrows_from: u32,
    pub(super) recycling: Recycling,
    /// Clients, friends, parents or company sites the person ships to:
    /// a range of [`Cast::contacts`].
    pub(super) contacts: (u32, u32),
    /// The dealer shop the person walks into.
    pub(super) shop: u32,
}

impl Person {
    /// The person's own mobile number on `day`.
    pub(super) fn phone_on(&self, day: u32) -> u64 {
        match self.new_phone {
            Some((from, number)) if day >= from => number,
            _ => self.phone,
        }
    }

    /// The home on `day`.
    pub(super) fn home_on(&self, day: u32) -> Address {
        match self.moved {
            Some((from, address)) if day >= from => address,
            _ => self.home,
        }
    }

    /// The number recycled through this person, if any.
    pub(super) fn recycled_number(&self) -> Option<u64> {
        (self.recycling != Recycling::None).then_some(self.phone)
    }
}

/// Someone a heavy buyer ships to: a client, friend, parent or company
/// site; `phone` is 0 where the buyer's own number is given.
#[derive(Debug, Clone, Copy)]
pub(super) struct Contact {
    pub(super) address: Address,
    pub(super) phone: u64,
}

/// A dealer's shop: its city and the phone its clerks type for walk-ins.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shop {
    pub(super) city: u16,
    pub(super) landline: Option<Landline>,
    pub(super) mobile: u64,
}

/// Everyone, and what ties them together.
#[derive(Debug)]
pub(super) struct Cast {
    pub(super) people: Vec<Person>,
    pub(super) households: Vec<Household>,
    pub(super) offices: Vec<Office>,
    pub(super) contacts: Vec<Contact>,
    pub(super) shops: Vec<Shop>,
    /// Per city, a range of [`Cast::shops`].
    shops_by_city: Vec<(u32, u32)>,
}

/// A probability: `p` capped to `[0, 1]`.
pub(super) fn clamp01(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// A log-uniform draw in `[lo, hi]`.
pub(super) fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo * (hi / lo).powf(rng.f64())
}

/// Orders of each kind of buyer over `years` years, before the totals are
/// fitted to the requested order count.
fn draw_kind(rng: &mut Rng, rates: &Rates, years: f64) -> (Kind, u32) {
    let heavy = clamp01(0.005 * rates.heavy_share);
    let u = rng.f64();
    let scaled = |rng: &mut Rng, lo: f64, hi: f64| {
        (log_uniform(rng, lo, hi) * years).round().max(1.0) as u32
    };
    if u < heavy {
        let kind = [
            Kind::Reseller,
            Kind::Reseller,
            Kind::GiftSender,
            Kind::OfficeBuyer,
            Kind::FamilyStocker,
        ][rng.index(5)];
        (kind, scaled(rng, 50.0, 500.0))
    } else if u < heavy + 0.02 {
        (Kind::Frequent, scaled(rng, 16.0, 49.0))
    } else if u < heavy + 0.27 {
        let base = 3.0 + 12.99 * rng.f64().powf(3.5);
        (Kind::Regular, ((base * years).round() as u32).max(3))
    } else if u < heavy + 0.49 {
        (Kind::Light, 2 + u32::from(rng.chance(0.3)))
    } else {
        (Kind::OneOff, 1)
    }
}

/// Fits per-person counts to exactly `total`: proportional scaling with
/// random rounding (which keeps the shape of the distribution), then
/// single-order adjustments on random people (never taking a person below
/// one order unless there are fewer orders than people).
fn fit_counts(counts: &mut [u32], total: usize, rng: &mut Rng) {
    if counts.is_empty() {
        return;
    }
    let floor = u32::from(total >= counts.len());
    let raw: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let factor = total as f64 / raw.max(1) as f64;
    for c in counts.iter_mut() {
        let scaled = f64::from(*c) * factor;
        let rounded = scaled.floor() as u32 + u32::from(rng.f64() < scaled.fract());
        *c = rounded.max(floor);
    }
    let mut sum: i64 = counts.iter().map(|&c| i64::from(c)).sum();
    let target = total as i64;
    while sum < target {
        // Add to someone who already buys, weighted toward repeat buyers.
        let i = rng.index(counts.len());
        if counts[i] > 1 || rng.chance(0.3) {
            counts[i] += 1;
            sum += 1;
        }
    }
    while sum > target {
        let i = rng.index(counts.len());
        if counts[i] > floor {
            counts[i] -= 1;
            sum -= 1;
        }
    }
}

/// A mainland channel other than `not`, by market share.
fn other_channel(rng: &mut Rng, not: Channel) -> Channel {
    let options: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|&c| c != not && c != Channel::Shopify)
        .collect();
    *rng.weighted_by(&options, |c| c.main_share())
}

fn pick_category(rng: &mut Rng) -> Category {
    Category::ALL[rng.weighted(&[30, 30, 20, 20])]
}

/// A company's email domain.
pub(super) fn company_domain(rng: &mut Rng) -> String {
    const WORDS: [&str; 12] = [
        "huaxin",
        "zhongke",
        "tianyu",
        "hengtong",
        "jinmao",
        "ruifeng",
        "boyuan",
        "xinda",
        "kaiyuan",
        "shengshi",
        "yuanhang",
        "lianchuang",
    ];
    let suffix = ["com.cn", "com", "cn"][rng.index(3)];
    format!(
        "{}-{}.{suffix}",
        WORDS[rng.index(WORDS.len())],
        ["tech", "trade", "group", "media"][rng.index(4)]
    )
}

impl Cast {
    /// Casts `people` people placing `orders` orders over `days` days.
    pub(super) fn new(people: usize, orders: usize, days: u32, seed: u64, rates: &Rates) -> Self {
        let people = if orders > 0 { people.max(1) } else { people };
        let years = f64::from(days) / 365.0;
        let mut kinds = Vec::with_capacity(people);
        let mut counts = Vec::with_capacity(people);
        for i in 0..people {
            let (kind, count) = draw_kind(&mut Rng::stream(seed, TAG_KIND, i as u64), rates, years);
            kinds.push(kind);
            counts.push(count);
        }
        fit_counts(
            &mut counts,
            orders,
            &mut Rng::stream(seed, TAG_KIND, u64::MAX),
        );

        let mut cast = Cast {
            people: Vec::with_capacity(people),
            households: Vec::new(),
            offices: Vec::new(),
            contacts: Vec::new(),
            shops: Vec::new(),
            shops_by_city: Vec::new(),
        };
        let mut carrier = Carrier::new(hash(seed, &[0xCA221E2]));
        cast.open_shops(seed, &mut carrier);
        let mut emails = FxHashSet::default();
        let mut intl = FxHashSet::default();
        let qq = Scrambler::new(hash(seed, &[0x99]), 5);
        for (i, (&kind, &count)) in kinds.iter().zip(&counts).enumerate() {
            let mut rng = Rng::stream(seed, TAG_TRAITS, i as u64);
            let person = cast.draw_person(
                &mut rng,
                i as u32,
                kind,
                count,
                days,
                rates,
                &mut carrier,
                &mut emails,
                &mut intl,
                &qq,
            );
            cast.people.push(person);
        }
        cast.form_groups(seed, rates, &mut emails);
        cast.live(seed, rates, days, &mut carrier);
        cast.recycle(seed, days);
        cast
    }

    fn open_shops(&mut self, seed: u64, carrier: &mut Carrier) {
        let mut rng = Rng::stream(seed, TAG_TRAITS, u64::MAX);
        for (c, city) in CITIES.iter().enumerate() {
            let first = self.shops.len() as u32;
            let n = 1 + city.area_code.len() as u32 % 2 + u32::from(rng.chance(0.5));
            for _ in 0..n {
                let landline = rng
                    .chance(0.6)
                    .then(|| Landline::draw(&mut rng, city.area_code, false));
                self.shops.push(Shop {
                    city: c as u16,
                    landline,
                    mobile: carrier.issue(&mut rng),
                });
            }
            self.shops_by_city.push((first, n));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_person(
        &mut self,
        rng: &mut Rng,
        index: u32,
        kind: Kind,
        orders: u32,
        days: u32,
        rates: &Rates,
        carrier: &mut Carrier,
        emails: &mut FxHashSet<Box<str>>,
        intl: &mut FxHashSet<IntlPhone>,
        qq: &Scrambler,
    ) -> Person {
        let overseas = !kind.is_heavy() && rng.chance(clamp01(0.025 * rates.overseas));
        let city = pick_city(rng);
        let home = Address::home(rng, city);
        let (main, second, abroad) = if overseas {
            let country = pick_country(rng);
            let mut phone = IntlPhone::draw(rng, country);
            while !intl.insert(phone) {
                phone = IntlPhone::draw(rng, country);
            }
            let address = ForeignAddress::draw(rng, country);
            (Channel::Shopify, Channel::Tmall, Some((phone, address)))
        } else {
            let main = *rng.weighted_by(&Channel::ALL, |c| c.main_share());
            (main, other_channel(rng, main), None)
        };
        let masked_only =
            !overseas && !kind.is_heavy() && rng.chance(clamp01(0.08 * rates.masked_phone));
        let (main, second) = if masked_only {
            if rng.chance(0.6) {
                (Channel::Tmall, Channel::Jd)
            } else {
                (Channel::Jd, Channel::Tmall)
            }
        } else {
            (main, second)
        };
        let phone = if overseas && rng.chance(0.6) {
            0
        } else {
            carrier.issue(rng)
        };
        let work_phone = if matches!(kind, Kind::Reseller | Kind::OfficeBuyer) && rng.chance(0.35) {
            carrier.issue(rng)
        } else {
            0
        };
        let needs_email = overseas || main == Channel::Shopify || second == Channel::Shopify;
        let company = (kind == Kind::OfficeBuyer).then(|| company_domain(rng));
        let email = if needs_email || company.is_some() || rng.chance(0.55) {
            let provider = if company.is_some() {
                Provider::Company
            } else if overseas {
                [
                    Provider::Gmail,
                    Provider::Gmail,
                    Provider::Outlook,
                    Provider::Hotmail,
                    Provider::Yahoo,
                    Provider::Icloud,
                    Provider::Qq,
                ][rng.index(7)]
            } else {
                [
                    Provider::Qq,
                    Provider::Netease163,
                    Provider::Netease126,
                    Provider::Sina,
                    Provider::Foxmail,
                    Provider::Gmail,
                    Provider::Icloud,
                    Provider::Outlook,
                ][rng.weighted(&[55, 18, 7, 4, 4, 5, 4, 3])]
            };
            let mut address = draw_email(
                rng,
                provider,
                qq.apply(u64::from(index)),
                company.as_deref(),
            );
            while emails.contains(address.as_str()) {
                let at = address.find('@').unwrap_or(0);
                address.insert_str(at, &rng.below(10).to_string());
            }
            let address: Box<str> = address.into();
            emails.insert(address.clone());
            Some(address)
        } else {
            None
        };
        let ios = rng.chance(if overseas { 0.6 } else { 0.42 });
        let zero_share = if ios { 0.3 } else { 0.05 } * rates.zero_device;
        let zeroed = rng.chance(clamp01(zero_share));
        let renewed = rng.chance(0.4).then(|| rng.below(u64::from(days)) as u32);
        let contacts = self.draw_contacts(rng, kind, city, home, carrier);
        let (shop_first, shop_count) = self.shops_by_city[city as usize];
        Person {
            kind,
            orders,
            first_day: 0,
            last_day: days - 1,
            main,
            second,
            category: pick_category(rng),
            side_category: pick_category(rng),
            home,
            moved: None,
            phone,
            new_phone: None,
            wechat_lag_days: 0,
            work_phone,
            abroad,
            email,
            ios,
            zeroed,
            renewed,
            household: NONE,
            office: NONE,
            masked_only,
            extra_accounts: 0,
            hunt_channel: main,
            borrows_from: NONE,
            recycling: Recycling::None,
            contacts,
            shop: shop_first + rng.below(u64::from(shop_count)) as u32,
        }
    }

    /// Clients, friends, parents or company sites of heavy buyers.
    fn draw_contacts(
        &mut self,
        rng: &mut Rng,
        kind: Kind,
        city: u16,
        home: Address,
        carrier: &mut Carrier,
    ) -> (u32, u32) {
        let first = self.contacts.len() as u32;
        let (n, same_city) = match kind {
            Kind::Reseller => (rng.range(20, 80), rng.chance(0.5)),
            Kind::GiftSender => (rng.range(10, 40), rng.chance(0.3)),
            Kind::OfficeBuyer => (rng.range(1, 4), rng.chance(0.8)),
            Kind::FamilyStocker => (rng.range(1, 2), rng.chance(0.4)),
            _ => (0, true),
        };
        for _ in 0..n {
            let city = if same_city && rng.chance(0.9) {
                city
            } else {
                pick_city(rng)
            };
            let address = match kind {
                Kind::OfficeBuyer => Address::office(rng, city),
                Kind::FamilyStocker if rng.chance(0.3) => home.next_door(rng),
                _ => Address::home(rng, city),
            };
            let phone = if kind == Kind::OfficeBuyer {
                0
            } else {
                carrier.issue(rng)
            };
            self.contacts.push(Contact { address, phone });
        }
        (first, n as u32)
    }

    /// A dealer shop.
    pub(super) fn shop(&self, index: u32) -> &Shop {
        &self.shops[index as usize]
    }

    /// The person's household, if any.
    pub(super) fn household(&self, person: &Person) -> Option<&Household> {
        (person.household != NONE).then(|| &self.households[person.household as usize])
    }

    /// The person's office, if any.
    pub(super) fn office(&self, person: &Person) -> Option<&Office> {
        (person.office != NONE).then(|| &self.offices[person.office as usize])
    }

    /// The person's contacts.
    pub(super) fn contacts_of(&self, person: &Person) -> &[Contact] {
        let (first, n) = person.contacts;
        &self.contacts[first as usize..(first + n) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fit_exactly() {
        let mut rng = Rng::new(4);
        let mut counts = vec![1, 5, 300, 2, 1, 1, 40];
        fit_counts(&mut counts, 100, &mut rng);
        assert_eq!(counts.iter().sum::<u32>(), 100);
        assert!(counts.iter().all(|&c| c >= 1));
        let mut few = vec![3, 3, 3, 3];
        fit_counts(&mut few, 2, &mut rng);
        assert_eq!(few.iter().sum::<u32>(), 2);
    }
}
