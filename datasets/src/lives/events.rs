//! Life events over the period: phone changes, carriers reissuing released
//! numbers to strangers, people who stop or start ordering, moves, coupon
//! hunting with extra accounts, and phones borrowed from relatives.

use super::Rates;
use super::cast::{Cast, NONE, Recycling, clamp01, log_uniform};
use super::channel::Channel;
use super::phones::Carrier;
use super::places::{Address, pick_city};
use crate::rng::Rng;

const TAG_LIVES: u64 = 0x11FE;
const TAG_PAIRS: u64 = 0x9A1A;

impl Cast {
    /// Life events: phone changes, churn, moves, coupon hunting, borrowed
    /// phones, and late starters.
    pub(super) fn live(&mut self, seed: u64, rates: &Rates, days: u32, carrier: &mut Carrier) {
        let n = self.people.len();
        let span = |rng: &mut Rng, lo: f64, hi: f64| -> u32 {
            let d = f64::from(days);
            ((lo + (hi - lo) * rng.f64()) * d) as u32
        };
        for i in 0..n {
            let mut rng = Rng::stream(seed, TAG_LIVES, i as u64);
            let p = &self.people[i];
            if p.orders == 0 {
                continue;
            }
            let mainland = p.abroad.is_none();
            let repeat = p.orders >= 2;
            let mut changed = None;
            let mut released = false;
            let mut churn = None;
            if repeat && mainland && rng.chance(clamp01(0.07 * rates.phone_change)) {
                changed = Some(span(&mut rng, 0.1, 0.85).max(1));
                released = rng.chance(clamp01(0.3 * rates.recycled_phone));
            } else if mainland
                && p.household == NONE
                && rng.chance(clamp01(0.004 * rates.recycled_phone))
            {
                churn = Some(span(&mut rng, 0.1, 0.6));
                released = true;
            }
            let lag = if rng.chance(0.5) {
                rng.range(30, 240) as u32
            } else {
                0
            };
            let moves = repeat
                && mainland
                && p.household == NONE
                && rng.chance(clamp01(0.06 * rates.mover));
            let move_day = span(&mut rng, 0.15, 0.85).max(1);
            let new_city = if rng.chance(0.5) {
                p.home.city
            } else {
                pick_city(&mut rng)
            };
            let new_home = Address::home(&mut rng, new_city);
            let hunts = repeat && rng.chance(clamp01(0.025 * rates.coupon_hunter));
            let extras = rng.range(1, 4).min(u64::from(p.orders - 1)) as u8;
            let borrows = mainland && rng.chance(clamp01(0.015 * rates.borrowed_phone));
            let lender = rng.index(n) as u32;
            let student = rng.chance(0.6);
            let late_start = repeat && !p.kind.is_heavy() && rng.chance(0.2);
            let early_end = repeat && !p.kind.is_heavy() && rng.chance(0.1);
            let new_number = changed.map(|_| carrier.issue(&mut rng));
            let campus = Address::campus(&mut rng, p.home.city);

            let p = &mut self.people[i];
            if late_start && changed.is_none() && churn.is_none() && !moves {
                p.first_day = span(&mut rng, 0.0, 0.7);
            }
            if early_end && changed.is_none() && churn.is_none() && !moves {
                p.last_day = p.first_day.max(span(&mut rng, 0.3, 1.0).min(days - 1));
            }
            if let (Some(day), Some(number)) = (changed, new_number) {
                p.new_phone = Some((day.min(days - 1), number));
                if !released {
                    p.wechat_lag_days = lag;
                }
            }
            if let Some(day) = churn {
                p.last_day = day;
            }
            if released {
                p.recycling = Recycling::Released;
            }
            if moves {
                p.moved = Some((move_day.min(days - 1), new_home));
            }
            if hunts {
                p.extra_accounts = extras;
                p.hunt_channel = if p.main.allows_extra_accounts() {
                    p.main
                } else if p.second.allows_extra_accounts() {
                    p.second
                } else {
                    Channel::Pdd
                };
            }
            let lender_ok = {
                let l = &self.people[lender as usize];
                lender as usize != i && l.orders > 0 && l.abroad.is_none() && l.phone != 0
            };
            let p = &mut self.people[i];
            if borrows && lender_ok {
                p.borrows_from = lender;
                if student && p.household == NONE && p.moved.is_none() {
                    p.home = campus;
                }
            }
        }
    }

    /// Pairs each released number with a stranger who gets it after a
    /// quiet period of weeks to months.
    pub(super) fn recycle(&mut self, seed: u64, days: u32) {
        let mut rng = Rng::stream(seed, TAG_PAIRS, 0);
        let n = self.people.len();
        for donor in 0..n {
            if self.people[donor].recycling != Recycling::Released {
                continue;
            }
            let d = &self.people[donor];
            let released_on = match d.new_phone {
                Some((day, _)) => day,
                None => d.last_day + 1,
            };
            let room = f64::from(days.saturating_sub(8 + released_on).min(540));
            let mut receiver = None;
            if room >= 21.0 {
                for _ in 0..50 {
                    let j = rng.index(n);
                    let r = &self.people[j];
                    if j != donor
                        && r.orders > 0
                        && r.abroad.is_none()
                        && r.recycling == Recycling::None
                        && r.new_phone.is_none()
                        && r.moved.is_none()
                        && r.office == NONE
                        && r.borrows_from == NONE
                        && r.phone != 0
                    {
                        receiver = Some(j);
                        break;
                    }
                }
            }
            let Some(j) = receiver else {
                self.people[donor].recycling = Recycling::None;
                continue;
            };
            let quiet = log_uniform(&mut rng, 21.0, room) as u32;
            let number = self.people[donor].phone;
            let r = &mut self.people[j];
            r.phone = number;
            r.recycling = Recycling::Reissued;
            r.first_day = (released_on + quiet).min(days - 1);
            r.last_day = days - 1;
        }
    }
}
