//! Overseas buyers: their countries, international phone numbers as people
//! type them, foreign addresses, time zones and IP ranges.

use crate::rng::Rng;

/// A country overseas buyers order from.
#[derive(Debug)]
pub(super) struct Country {
    /// Calling code without `+`.
    calling: &'static str,
    /// UTC offset in hours of where buyers mostly live.
    pub(super) tz_hours: i32,
    /// Mobile prefixes of the national number.
    mobile_prefixes: &'static [&'static str],
    /// Digits after the prefix.
    subscriber_digits: u32,
    /// Whether national numbers are dialled with a leading `0`.
    trunk_zero: bool,
    /// `(city, region and postal code)`.
    cities: &'static [(&'static str, &'static str)],
    ip_prefixes: &'static [u8],
    weight: u32,
}

pub(super) static COUNTRIES: [Country; 7] = [
    Country {
        calling: "1",
        tz_hours: -8,
        mobile_prefixes: &["415", "408", "626", "949", "206", "212", "718", "713"],
        subscriber_digits: 7,
        trunk_zero: false,
        cities: &[
            ("Irvine", "CA 92618"),
            ("San Jose", "CA 95134"),
            ("Arcadia", "CA 91006"),
            ("Seattle", "WA 98109"),
            ("Flushing", "NY 11354"),
            ("Houston", "TX 77036"),
        ],
        ip_prefixes: &[73, 24, 98, 67],
        weight: 30,
    },
    Country {
        calling: "1",
        tz_hours: -8,
        mobile_prefixes: &["604", "778", "416", "647", "905"],
        subscriber_digits: 7,
        trunk_zero: false,
        cities: &[
            ("Vancouver", "BC V6B 1A1"),
            ("Richmond", "BC V6X 2B2"),
            ("Toronto", "ON M5V 3L9"),
            ("Markham", "ON L3R 5K4"),
        ],
        ip_prefixes: &[142, 174, 99],
        weight: 15,
    },
    Country {
        calling: "852",
        tz_hours: 8,
        mobile_prefixes: &["5", "6", "9"],
        subscriber_digits: 7,
        trunk_zero: false,
        cities: &[
            ("Hong Kong", "Quarry Bay"),
            ("Hong Kong", "Mong Kok"),
            ("Kowloon", "Tsim Sha Tsui"),
            ("New Territories", "Sha Tin"),
        ],
        ip_prefixes: &[203, 218, 223],
        weight: 18,
    },
    Country {
        calling: "65",
        tz_hours: 8,
        mobile_prefixes: &["8", "9"],
        subscriber_digits: 7,
        trunk_zero: false,
        cities: &[
            ("Singapore", "Singapore 238859"),
            ("Singapore", "Singapore 529510"),
        ],
        ip_prefixes: &[116, 118, 175],
        weight: 10,
    },
    Country {
        calling: "61",
        tz_hours: 10,
        mobile_prefixes: &["4"],
        subscriber_digits: 8,
        trunk_zero: true,
        cities: &[
            ("Sydney", "NSW 2000"),
            ("Melbourne", "VIC 3000"),
            ("Chatswood", "NSW 2067"),
        ],
        ip_prefixes: &[1, 101, 120],
        weight: 12,
    },
    Country {
        calling: "44",
        tz_hours: 0,
        mobile_prefixes: &["7"],
        subscriber_digits: 9,
        trunk_zero: true,
        cities: &[("London", "E14 5AB"), ("Manchester", "M1 4BT")],
        ip_prefixes: &[86, 81, 90],
        weight: 8,
    },
    Country {
        calling: "81",
        tz_hours: 9,
        mobile_prefixes: &["90", "80", "70"],
        subscriber_digits: 8,
        trunk_zero: true,
        cities: &[
            ("Tokyo", "Minato-ku 105-0011"),
            ("Osaka", "Kita-ku 530-0001"),
        ],
        ip_prefixes: &[126, 153, 60],
        weight: 7,
    },
];

const STREETS: [&str; 12] = [
    "Maple", "Main", "Harbour", "Queen", "King", "Park", "Orchard", "Victoria", "Garden", "Lake",
    "Sunset", "Bay",
];

/// An international mobile number: country and national significant
/// number (without trunk prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct IntlPhone {
    pub(super) country: u8,
    pub(super) national: u64,
}

/// An overseas address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ForeignAddress {
    country: u8,
    city: u8,
    number: u16,
    street: u8,
    unit: u16,
}

/// Draws a country by share of overseas buyers.
pub(super) fn pick_country(rng: &mut Rng) -> u8 {
    let total: u32 = COUNTRIES.iter().map(|c| c.weight).sum();
    let mut r = rng.below(u64::from(total)) as u32;
    for (i, c) in COUNTRIES.iter().enumerate() {
        if r < c.weight {
            return i as u8;
        }
        r -= c.weight;
    }
    0
}

impl IntlPhone {
    /// A random mobile number in `country`.
    pub(super) fn draw(rng: &mut Rng, country: u8) -> Self {
        let c = &COUNTRIES[country as usize];
        let prefix = c.mobile_prefixes[rng.index(c.mobile_prefixes.len())];
        let scale = 10u64.pow(c.subscriber_digits);
        let national = prefix.parse::<u64>().unwrap_or(1) * scale + rng.below(scale);
        IntlPhone { country, national }
    }

    /// The number as one order spells it.
    pub(super) fn spell(&self, rng: &mut Rng) -> String {
        let c = &COUNTRIES[self.country as usize];
        let digits = self.national.to_string();
        let d = digits.as_str();
        let national = if c.trunk_zero {
            format!("0{d}")
        } else {
            d.to_string()
        };
        let cc = c.calling;
        match (cc, rng.below(5)) {
            ("1", 0) => format!("+1 ({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
            ("1", 1) => format!("+1 {}-{}-{}", &d[..3], &d[3..6], &d[6..]),
            ("1", 2) => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
            ("1", 3) => format!("1{d}"),
            ("852" | "65", 0) => format!("+{cc} {} {}", &d[..4], &d[4..]),
            ("852" | "65", 1) => format!("{} {}", &d[..4], &d[4..]),
            ("852", 2) => format!("(852) {}-{}", &d[..4], &d[4..]),
            ("61", 0) => format!("+61 {} {} {}", &d[..3], &d[3..6], &d[6..]),
            ("61", 1) => format!("0{} {} {}", &d[..3], &d[3..6], &d[6..]),
            ("44", 0) => format!("+44 {} {}", &d[..4], &d[4..]),
            ("44", 1) => format!("0{} {}", &d[..4], &d[4..]),
            ("81", 0) => format!("+81 {}-{}-{}", &d[..2], &d[2..6], &d[6..]),
            ("81", 1) => format!("0{}-{}-{}", &d[..2], &d[2..6], &d[6..]),
            (_, 4) => national,
            _ => format!("+{cc}{d}"),
        }
    }
}

impl ForeignAddress {
    /// A home in `country`.
    pub(super) fn draw(rng: &mut Rng, country: u8) -> Self {
        let c = &COUNTRIES[country as usize];
        ForeignAddress {
            country,
            city: rng.index(c.cities.len()) as u8,
            number: rng.range(1, 9999) as u16,
            street: rng.index(STREETS.len()) as u8,
            unit: if rng.chance(0.6) {
                rng.range(1, 2999) as u16
            } else {
                0
            },
        }
    }

    /// The city as exported.
    pub(super) fn city_name(&self) -> &'static str {
        COUNTRIES[self.country as usize].cities[self.city as usize].0
    }

    /// The address as one order spells it.
    pub(super) fn spell(&self, rng: &mut Rng) -> String {
        let (city, region) = COUNTRIES[self.country as usize].cities[self.city as usize];
        let kind = if rng.chance(0.5) {
            ["Street", "Avenue", "Road", "Drive"][usize::from(self.street % 4)]
        } else {
            ["St", "Ave", "Rd", "Dr"][usize::from(self.street % 4)]
        };
        let mut s = format!("{} {} {kind}", self.number, STREETS[self.street as usize]);
        if self.unit > 0 {
            let unit = match rng.below(3) {
                0 => format!(", Apt {}", self.unit),
                1 => format!(" #{}", self.unit),
                _ => format!(", Unit {}", self.unit),
            };
            s.push_str(&unit);
        }
        s.push_str(&format!(", {city}, {region}"));
        if rng.chance(0.1) {
            s = s.to_uppercase();
        }
        s
    }

    /// The buyer's UTC offset in hours.
    pub(super) fn tz_hours(&self) -> i32 {
        COUNTRIES[self.country as usize].tz_hours
    }
}

/// An IP address in `country`.
pub(super) fn foreign_ip(rng: &mut Rng, country: u8, stable: u64) -> String {
    let prefixes = COUNTRIES[country as usize].ip_prefixes;
    let first = prefixes[(stable % prefixes.len() as u64) as usize];
    let roaming = rng.chance(0.3);
    let low = if roaming { rng.next_u64() } else { stable >> 8 };
    format!(
        "{first}.{}.{}.{}",
        (low >> 16) % 256,
        (low >> 8) % 256,
        1 + low % 254
    )
}
