//! Households and offices: people who share a home (and with it a family
//! tablet, each other's phones and accounts) or an office front desk (its
//! landline, the admin's mobile, a shared mailbox).

use super::Rates;
use super::cast::{Cast, Person, clamp01, company_domain};
use super::phones::Landline;
use super::places::{Address, CITIES};
use crate::rng::{FxHashSet, Rng};

const TAG_GROUPS: u64 = 0x6A0B;

/// People sharing a home.
#[derive(Debug, Clone)]
pub(super) struct Household {
    pub(super) first: u32,
    /// A family tablet (or hand-me-down phone) everyone orders from.
    pub(super) tablet: bool,
    pub(super) tablet_ios: bool,
    /// Spouses or parents and children who order with each other's phone
    /// or account now and then.
    pub(super) shares_phone: bool,
}

impl Household {
    /// The member whose phone and account others borrow.
    pub(super) fn partner_of(&self, person: u32) -> u32 {
        if person == self.first {
            self.first + 1
        } else {
            self.first
        }
    }
}

/// Colleagues at one office: a shared front-desk phone or mailbox.
#[derive(Debug, Clone)]
pub(super) struct Office {
    pub(super) address: Address,
    pub(super) landline: Option<Landline>,
    /// The colleague whose mobile is given for deliveries when there is no
    /// landline.
    pub(super) admin: u32,
    pub(super) email: Option<Box<str>>,
}

impl Cast {
    /// Households and offices: small groups of neighbouring indices (whose
    /// traits were drawn independently, so neighbours are strangers until
    /// grouped here).
    pub(super) fn form_groups(
        &mut self,
        seed: u64,
        rates: &Rates,
        emails: &mut FxHashSet<Box<str>>,
    ) {
        let mut rng = Rng::stream(seed, TAG_GROUPS, 0);
        let n = self.people.len();
        let office_start = clamp01(0.005 * rates.office_sharing);
        let mut i = 0;
        while i < n {
            let grouped = |p: &Person| p.abroad.is_none() && p.orders > 0;
            if !grouped(&self.people[i]) {
                i += 1;
                continue;
            }
            let u = rng.f64();
            let wanted = if u < 0.06 {
                2 + rng.weighted(&[55, 30, 15])
            } else if u < 0.06 + office_start {
                rng.range(3, 12) as usize
            } else {
                i += 1;
                continue;
            };
            let mut size = 1;
            while size < wanted && i + size < n && grouped(&self.people[i + size]) {
                size += 1;
            }
            if size < 2 {
                i += 1;
                continue;
            }
            if u < 0.06 {
                let id = self.households.len() as u32;
                let home = self.people[i].home;
                for p in &mut self.people[i..i + size] {
                    p.home = home;
                    p.household = id;
                }
                self.households.push(Household {
                    first: i as u32,
                    tablet: rng.chance(clamp01(0.4 * rates.family_device)),
                    tablet_ios: rng.chance(0.6),
                    shares_phone: rng.chance(clamp01(0.35 * rates.shared_phone)),
                });
            } else {
                let id = self.offices.len() as u32;
                let city = self.people[i].home.city;
                let address = Address::office(&mut rng, city);
                let landline = rng
                    .chance(0.6)
                    .then(|| Landline::draw(&mut rng, CITIES[city as usize].area_code, true));
                let email = rng.chance(0.5).then(|| {
                    let domain = company_domain(&mut rng);
                    let local = ["admin", "hr", "office", "xingzheng", "front"][rng.index(5)];
                    let mut address = format!("{local}@{domain}");
                    while emails.contains(address.as_str()) {
                        address.insert(0, 'x');
                    }
                    let address: Box<str> = address.into();
                    emails.insert(address.clone());
                    address
                });
                for p in &mut self.people[i..i + size] {
                    p.office = id;
                    if p.home.city != city {
                        // Colleagues live in the office's city.
                        p.home = Address::home(&mut rng, city);
                    }
                }
                self.offices.push(Office {
                    address,
                    landline,
                    admin: i as u32,
                    email,
                });
            }
            i += size;
        }
    }
}
