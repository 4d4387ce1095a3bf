//! When people order: the Chinese retail calendar (Double 11, Double 12,
//! 618, the Spring Festival dip), overseas shopping days, the brand's
//! Douyin live streams, the weekly rhythm and the hours of the day.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};

use super::channel::Channel;
use crate::rng::Rng;

/// Spring Festival (Chinese New Year) dates.
const SPRING_FESTIVALS: [(i32, u32, u32); 9] = [
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
];

/// Hourly weights of online shopping in mainland China (local time):
/// quiet nights, a lunch break peak and the evening peak.
const ONLINE_HOURS: [f64; 24] = [
    3.0, 1.5, 0.8, 0.4, 0.3, 0.3, 0.6, 1.5, 2.5, 3.5, 4.5, 5.0, 6.0, 5.5, 4.5, 4.5, 4.5, 4.5, 5.0,
    6.0, 7.5, 8.5, 8.0, 5.0,
];

/// Douyin: live streams carry the evening.
const LIVE_HOURS: [f64; 24] = [
    3.5, 1.5, 0.6, 0.3, 0.2, 0.2, 0.4, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 4.0, 3.0, 3.0, 3.0, 3.0, 4.0,
    7.0, 12.0, 14.0, 12.0, 7.0,
];

/// Dealers: shop opening hours.
const SHOP_HOURS: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 3.0, 5.0, 6.0, 5.0, 4.5, 5.5, 6.0, 6.0, 5.5, 5.0,
    5.5, 5.0, 3.0, 0.5, 0.0,
];

/// A promotion day's midnight rush: the first hour after the start.
const RUSH_HOURS: [f64; 24] = [
    30.0, 8.0, 2.0, 0.6, 0.3, 0.3, 0.6, 1.5, 2.5, 3.5, 4.5, 5.0, 6.0, 5.5, 4.5, 4.5, 4.5, 4.5, 5.0,
    6.0, 9.0, 10.0, 9.0, 6.0,
];

/// The days of the generated period and how busy each is per channel.
#[derive(Debug)]
pub(super) struct Calendar {
    offset: FixedOffset,
    /// Unix seconds of local midnight of the first day.
    midnight: i64,
    /// Unix seconds of the configured start.
    start: i64,
    days: u32,
    /// Per channel, cumulative day weights: `cum[c][d]` sums days `< d`.
    cum: Vec<Vec<f64>>,
    /// Cumulative weights with promotions emphasised: resellers' bursts.
    burst_cum: Vec<f64>,
    /// Days whose first hour is a rush (11.11, 6.18, 12.12).
    rush: Vec<bool>,
}

/// How much busier than usual a mainland date is for promotions and
/// holidays.
fn mainland_promo(date: NaiveDate) -> f64 {
    let (m, d) = (date.month(), date.day());
    let mut w = match (m, d) {
        (11, 11) => 7.0,
        (11, 1..=3) => 2.5,
        (11, 4..=10) => 1.5,
        (11, 12..=13) => 1.3,
        (10, 20..=31) => 1.6,
        (12, 12) => 3.0,
        (12, 10..=11) => 1.3,
        (6, 18) => 5.0,
        (6, 1) => 2.5,
        (6, 2..=17) => 1.4,
        (6, 19..=20) => 1.2,
        (5, 20..=31) => 1.5,
        (3, 7..=8) => 1.8,
        (9, 9) => 1.4,
        (8, 18) => 1.3,
        _ => 1.0,
    };
    if let Some(cny) = spring_festival(date.year()) {
        let from_cny = (date - cny).num_days();
        w *= match from_cny {
            -3..=3 => 0.3,
            -10..=8 => 0.45,
            -30..=-11 => 1.2,
            _ => 1.0,
        };
    }
    w
}

/// Overseas (Shopify) shoppers: Black Friday, Cyber Monday, the weeks
/// before Christmas, and a little of Double 11 among the diaspora.
fn overseas_promo(date: NaiveDate) -> f64 {
    let (m, d) = (date.month(), date.day());
    let black_friday = NaiveDate::from_weekday_of_month_opt(date.year(), 11, Weekday::Fri, 4);
    if let Some(bf) = black_friday {
        match (date - bf).num_days() {
            0 => return 3.5,
            1..=2 => return 2.0,
            3 => return 3.0,
            -6..=-1 => return 1.4,
            _ => {}
        }
    }
    match (m, d) {
        (12, 1..=20) => 1.5,
        (12, 24..=26) => 0.6,
        (11, 11) => 1.6,
        (2, 14) => 1.4,
        (5, 8..=12) => 1.3,
        _ => 1.0,
    }
}

fn spring_festival(year: i32) -> Option<NaiveDate> {
    SPRING_FESTIVALS
        .iter()
        .find(|(y, _, _)| *y == year)
        .and_then(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn weekday_factor(date: NaiveDate, channel: Channel) -> f64 {
    let online = [0.92, 0.95, 0.97, 0.98, 1.0, 1.08, 1.1];
    let shop = [0.85, 0.85, 0.9, 0.9, 1.0, 1.35, 1.4];
    let i = date.weekday().num_days_from_monday() as usize;
    if channel == Channel::Dealer {
        shop[i]
    } else {
        online[i]
    }
}

impl Calendar {
    /// The calendar of `days` local days from `start`'s date; `seed` places
    /// the brand's big Douyin live streams.
    pub(super) fn new(start: DateTime<FixedOffset>, days: u32, seed: u64) -> Self {
        let offset = *start.offset();
        let first = start.date_naive();
        let midnight = offset
            .from_local_datetime(&first.and_time(NaiveTime::MIN))
            .single()
            .map_or(start.timestamp(), |t| t.timestamp());
        let days = days.max(1);
        let mut rng = Rng::stream(seed, 0xCA1E_0DA7, 0);
        let dates: Vec<NaiveDate> = (0..days)
            .map(|d| first + chrono::Days::new(d as u64))
            .collect();
        // The brand streams every Friday and Saturday evening, and holds a
        // big live event about twice a month.
        let live: Vec<f64> = dates
            .iter()
            .map(|date| {
                let weekly = matches!(date.weekday(), Weekday::Fri | Weekday::Sat);
                let big = rng.chance(1.0 / 15.0);
                match (big, weekly) {
                    (true, _) => 3.0,
                    (false, true) => 1.5,
                    (false, false) => 1.0,
                }
            })
            .collect();
        let mut cum = Vec::with_capacity(Channel::ALL.len());
        for channel in Channel::ALL {
            let mut acc = Vec::with_capacity(days as usize + 1);
            let mut total = 0.0;
            acc.push(total);
            for (i, &date) in dates.iter().enumerate() {
                let promo = mainland_promo(date);
                let w = match channel {
                    Channel::Shopify => overseas_promo(date),
                    Channel::Dealer => 1.0 + (promo - 1.0) * 0.3,
                    Channel::Douyin => promo * live[i],
                    Channel::Pdd => promo.sqrt() * 1.1f64.powi(i32::from(date.day() == 10)),
                    _ => promo,
                } * weekday_factor(date, channel);
                total += w;
                acc.push(total);
            }
            cum.push(acc);
        }
        let mut burst_cum = Vec::with_capacity(days as usize + 1);
        let mut total = 0.0;
        burst_cum.push(total);
        for &date in &dates {
            let promo = mainland_promo(date);
            total += promo * promo;
            burst_cum.push(total);
        }
        let rush = dates
            .iter()
            .map(|d| matches!((d.month(), d.day()), (11, 11) | (6, 18) | (12, 12)))
            .collect();
        Calendar {
            offset,
            midnight,
            start: start.timestamp(),
            days,
            cum,
            burst_cum,
            rush,
        }
    }

    /// A day in `from..=to` drawn by how busy `channel` is on each.
    pub(super) fn day(&self, rng: &mut Rng, channel: Channel, from: u32, to: u32) -> u32 {
        pick_day(&self.cum[channel.index()], rng, from, to)
    }

    /// A day in `from..=to` drawn with promotions emphasised.
    pub(super) fn burst_day(&self, rng: &mut Rng, from: u32, to: u32) -> u32 {
        pick_day(&self.burst_cum, rng, from, to)
    }

    /// Unix seconds of a moment on `day` when someone orders on `channel`;
    /// `tz_hours` is the buyer's UTC offset, whose evening it follows.
    pub(super) fn moment(&self, rng: &mut Rng, channel: Channel, day: u32, tz_hours: i32) -> i64 {
        let table = match channel {
            _ if self.rush[day as usize] && channel.is_marketplace() => &RUSH_HOURS,
            Channel::Douyin => &LIVE_HOURS,
            Channel::Dealer => &SHOP_HOURS,
            _ => &ONLINE_HOURS,
        };
        let hour = weighted_hour(rng, table) as i64;
        let local_offset_hours = i64::from(self.offset.local_minus_utc() / 3600);
        let shift = local_offset_hours - i64::from(tz_hours);
        let second = rng.below(3600) as i64;
        let mut t = self.midnight + i64::from(day) * 86_400 + (hour + shift) * 3600 + second;
        let end = self.end();
        // A buyer's evening abroad that falls outside the period moves one
        // day inwards.
        if t >= end {
            t -= 86_400;
        } else if t < self.start {
            t += 86_400;
        }
        t.clamp(self.start, end - 1)
    }

    /// Unix seconds just past the last day.
    pub(super) fn end(&self) -> i64 {
        self.midnight + i64::from(self.days) * 86_400
    }

    /// The day a moment falls on.
    pub(super) fn day_of(&self, t: i64) -> u32 {
        ((t - self.midnight).max(0) / 86_400).min(i64::from(self.days) - 1) as u32
    }

    /// A moment as the channels export it, in the start's offset.
    pub(super) fn datetime(&self, t: i64) -> DateTime<FixedOffset> {
        DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .with_timezone(&self.offset)
    }

    /// The mainland promotion running at a moment, if any.
    pub(super) fn promotion(&self, t: i64) -> Option<&'static str> {
        let date = self.datetime(t).date_naive();
        match (date.month(), date.day()) {
            (10, 20..=31) | (11, 1..=13) => Some("双11"),
            (12, 10..=12) => Some("双12"),
            (5, 20..=31) | (6, 1..=20) => Some("618"),
            _ => None,
        }
    }
}

fn pick_day(cum: &[f64], rng: &mut Rng, from: u32, to: u32) -> u32 {
    let last = cum.len() as u32 - 2;
    let (from, to) = (from.min(last), to.min(last).max(from.min(last)));
    let lo = cum[from as usize];
    let hi = cum[to as usize + 1];
    let target = lo + rng.f64() * (hi - lo);
    let after = cum.partition_point(|&c| c <= target) as u32;
    after.saturating_sub(1).clamp(from, to)
}

fn weighted_hour(rng: &mut Rng, table: &[f64; 24]) -> usize {
    let total: f64 = table.iter().sum();
    let mut r = rng.f64() * total;
    for (h, &w) in table.iter().enumerate() {
        if r < w {
            return h;
        }
        r -= w;
    }
    23
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> Calendar {
        let start = DateTime::parse_from_rfc3339("2025-11-01T00:00:00+08:00").unwrap();
        Calendar::new(start, 396, 1)
    }

    #[test]
    fn double_eleven_outsells_an_ordinary_day() {
        let cal = calendar();
        let mut rng = Rng::new(3);
        let mut counts = vec![0u32; cal.days as usize];
        for _ in 0..60_000 {
            counts[cal.day(&mut rng, Channel::Tmall, 0, cal.days - 1) as usize] += 1;
        }
        // Day 10 is 2025-11-11; day 30 is 2025-12-01; day 108 is in the
        // Spring Festival dip (2026-02-17).
        assert!(counts[10] > 4 * counts[30], "{} {}", counts[10], counts[30]);
        assert!(counts[108] < counts[30]);
        for _ in 0..1000 {
            let d = cal.day(&mut rng, Channel::Jd, 50, 60);
            assert!((50..=60).contains(&d));
            let t = cal.moment(&mut rng, Channel::Dealer, d, 8);
            assert_eq!(cal.day_of(t), d);
        }
    }
}
