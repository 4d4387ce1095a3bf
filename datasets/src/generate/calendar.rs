//! Per-day sampling weights and calendar facts: when people buy.

use super::*;

/// Per-day sampling weights and calendar facts.
pub(super) struct Calendar {
    pub(super) days: u32,
    /// `cum[d]` = total weight of days before `d`.
    pub(super) cum: Vec<u64>,
    pub(super) promo_618: Vec<bool>,
}

impl Calendar {
    pub(super) fn new(start: DateTime<FixedOffset>, days: u32) -> Self {
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
    pub(super) fn sample(&self, rng: &mut Rng, a: u32, b: u32) -> i64 {
        let (lo, hi) = (self.cum[a as usize], self.cum[b as usize]);
        let u = lo + rng.below(hi - lo);
        let d = self.cum.partition_point(|&c| c <= u) - 1;
        let hour = rng.weighted(&HOUR_WEIGHTS) as i64;
        d as i64 * DAY + hour * 3600 + rng.below(3600) as i64
    }
}
