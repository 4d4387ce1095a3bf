//! Mainland phone numbers: how they are issued, how each channel and each
//! clerk writes them, the masks and relay numbers platforms put in their
//! place, the fake numbers typed when a buyer gives none, and landlines.

use super::channel::Channel;
use super::ids::Scrambler;
use super::places::to_full_width;
use crate::rng::Rng;

/// Prefixes of numbers people hold (the virtual operators' 165/167/170/171
/// are left to platform relay numbers).
const PREFIXES: [u64; 34] = [
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153, 155, 156, 157,
    158, 159, 166, 173, 176, 177, 180, 181, 182, 183, 186, 187, 189, 198, 199,
];

/// Prefixes of platform relay (privacy) numbers.
const RELAY_PREFIXES: [u64; 4] = [170, 171, 165, 167];

/// What a buyer who gives no number gets typed in, besides the shop's own
/// phone.
pub(super) const PLACEHOLDERS: [&str; 10] = [
    "13800000000",
    "11111111111",
    "12345678901",
    "13888888888",
    "00000000000",
    "18888888888",
    "13800138000",
    "13000000000",
    "0",
    "1",
];

/// Issues mainland mobile numbers, each one to one holder.
#[derive(Debug)]
pub(super) struct Carrier {
    subscribers: Scrambler,
    issued: u64,
}

impl Carrier {
    pub(super) fn new(key: u64) -> Self {
        Carrier {
            subscribers: Scrambler::new(key, 4),
            issued: 0,
        }
    }

    /// A number never issued before.
    pub(super) fn issue(&mut self, rng: &mut Rng) -> u64 {
        let subscriber = self.subscribers.apply(self.issued);
        self.issued += 1;
        PREFIXES[rng.index(PREFIXES.len())] * 100_000_000 + subscriber
    }
}

/// Writes an 11-digit mobile number as `channel` exports it (`typed` marks
/// a clerk or a form typing it by hand).
pub(super) fn spell_mobile(number: u64, rng: &mut Rng, channel: Channel, typed: bool) -> String {
    let d = format!("{number:011}");
    // Weights of: plain, 3-4-4 spaced, 3-4-4 dashed, "+86 ", "+86",
    // "0086 ", "86-", "(+86)", full-width, stray whitespace.
    let weights: [u32; 10] = match channel {
        _ if typed => [44, 12, 10, 4, 3, 2, 2, 3, 8, 12],
        Channel::Shopify => [20, 0, 0, 40, 30, 10, 0, 0, 0, 0],
        Channel::Jd => [88, 0, 0, 2, 0, 0, 10, 0, 0, 0],
        Channel::MiniProgram => [86, 0, 0, 8, 4, 0, 0, 0, 0, 2],
        _ => [94, 0, 0, 3, 3, 0, 0, 0, 0, 0],
    };
    let (a, b, c) = (&d[..3], &d[3..7], &d[7..]);
    match rng.weighted(&weights) {
        0 => d,
        1 => format!("{a} {b} {c}"),
        2 => format!("{a}-{b}-{c}"),
        3 if channel == Channel::Shopify && rng.chance(0.6) => format!("+86 {a} {b} {c}"),
        3 => format!("+86 {d}"),
        4 => format!("+86{d}"),
        5 => format!("0086 {d}"),
        6 => format!("86-{d}"),
        7 => format!("(+86){d}"),
        8 => to_full_width(&d),
        _ => match rng.below(4) {
            0 => format!(" {d}"),
            1 => format!("{d} "),
            2 => format!("{d}\t"),
            _ => format!("{a} {b}{c}"),
        },
    }
}

/// A clerk's slip: a digit dropped, doubled or two swapped.
pub(super) fn mistype(number: u64, rng: &mut Rng) -> String {
    let mut d: Vec<u8> = format!("{number:011}").into_bytes();
    let at = 3 + rng.index(8);
    match rng.below(3) {
        0 => {
            d.remove(at);
        }
        1 => d.insert(at, d[at]),
        _ => d.swap(at - 1, at),
    }
    String::from_utf8(d).unwrap_or_default()
}

/// A platform's masked rendering of a number.
pub(super) fn mask(number: u64, rng: &mut Rng, channel: Channel) -> String {
    let d = format!("{number:011}");
    let style = match channel {
        Channel::Tmall => [0, 0, 0, 1, 1][rng.index(5)],
        Channel::Jd => [0, 0, 0, 0, 3][rng.index(5)],
        Channel::Pdd => [0, 0, 2][rng.index(3)],
        _ => [0, 0, 3][rng.index(3)],
    };
    match style {
        0 => format!("{}****{}", &d[..3], &d[7..]),
        1 => format!("{}*****{}", &d[..3], &d[8..]),
        2 => format!("*******{}", &d[7..]),
        _ => format!("{}********{}", &d[..1], &d[9..]),
    }
}

/// Platform relay numbers: a pool each platform hands out per order and
/// reuses for other buyers once the order closes.
#[derive(Debug)]
pub(super) struct RelayPool {
    numbers: Scrambler,
    size: u64,
}

impl RelayPool {
    /// A pool sized so that each relay number serves several orders.
    pub(super) fn new(key: u64, expected_relay_orders: usize) -> Self {
        RelayPool {
            numbers: Scrambler::new(key, 4),
            size: (expected_relay_orders as u64 / 6).max(64),
        }
    }

    /// A relay number with extension, as `channel` exports it.
    pub(super) fn spell(&self, rng: &mut Rng, channel: Channel) -> String {
        let slot = rng.below(self.size);
        let base = RELAY_PREFIXES[(slot % 4) as usize] * 100_000_000 + self.numbers.apply(slot);
        let d = format!("{base:011}");
        let ext = rng.range(1000, 9999);
        let style = match channel {
            Channel::Pdd => [0, 0, 1, 3, 5][rng.index(5)],
            Channel::Jd => [4, 4, 0, 2][rng.index(4)],
            Channel::Douyin => [0, 1, 3][rng.index(3)],
            _ => [0, 0, 1, 2, 3, 5][rng.index(6)],
        };
        match style {
            0 => format!("{d}-{ext}"),
            1 => format!("{d}_{ext}"),
            2 => format!("{} {} {} 转 {ext}", &d[..3], &d[3..7], &d[7..]),
            3 => format!("{d}转{ext}"),
            4 => format!("95013{:08}", self.numbers.apply(slot) % 100_000_000),
            _ => format!("{d},{ext}"),
        }
    }
}

/// A landline: area code and local number, optionally an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Landline {
    pub(super) area: &'static str,
    pub(super) local: u32,
    pub(super) extension: Option<u16>,
}

impl Landline {
    /// A landline in a city with `area` code.
    pub(super) fn draw(rng: &mut Rng, area: &'static str, with_extension: bool) -> Self {
        let digits = if area.len() == 3 {
            8
        } else {
            7 + rng.below(2) as u32
        };
        let low = 10u64.pow(digits - 1) * 2;
        Landline {
            area,
            local: rng.range(low, 10u64.pow(digits) - 1) as u32,
            extension: with_extension.then(|| rng.range(100, 8999) as u16),
        }
    }

    /// The landline as one order spells it.
    pub(super) fn spell(&self, rng: &mut Rng) -> String {
        let (area, local) = (self.area, self.local);
        let base = match rng.below(4) {
            0 => format!("({area}){local}"),
            1 => format!("{area}{local}"),
            2 => format!("{area} {local}"),
            _ => format!("{area}-{local}"),
        };
        match self.extension {
            Some(ext) if rng.chance(0.7) => match rng.below(3) {
                0 => format!("{base}-{ext}"),
                1 => format!("{base} 转 {ext}"),
                _ => format!("{base}转{ext}"),
            },
            _ => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_numbers_are_distinct_mobiles() {
        let mut carrier = Carrier::new(9);
        let mut rng = Rng::new(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20_000 {
            let n = carrier.issue(&mut rng);
            assert!((13_000_000_000..20_000_000_000).contains(&n));
            assert!(seen.insert(n));
        }
        let n = 13_812_345_678;
        assert_eq!(mask(n, &mut Rng::new(2), Channel::Pdd).len(), 11);
        assert!(mistype(n, &mut rng).len().abs_diff(11) <= 1);
        let spelled: std::collections::BTreeSet<String> = (0..200)
            .map(|_| spell_mobile(n, &mut rng, Channel::Dealer, true))
            .collect();
        assert!(spelled.contains("138 1234 5678"));
        assert!(spelled.contains("13812345678"));
    }
}
