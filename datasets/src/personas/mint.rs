//! A persona's own seeded source of choices and fresh identifiers: random
//! enough to look real, fixed by the persona's name so it never changes.

use chrono::{DateTime, Days, FixedOffset, NaiveTime};

use super::places::{self, Place};
use super::story::{at, day, shanghai};

/// Real mainland mobile prefixes persona phones are drawn from.
const PHONE_PREFIXES: [u64; 6] = [147, 166, 190, 192, 196, 197];
/// The prefix of privacy ("relay") host numbers.
const RELAY_PREFIX: u64 = 162;
/// Hours people order at, evenings weighted up.
const HOURS: [u32; 20] = [
    8, 9, 10, 11, 12, 12, 13, 14, 15, 16, 17, 19, 20, 20, 21, 21, 21, 22, 22, 23,
];
/// The characters of WeChat openids and unionIDs.
const WECHAT_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
/// The characters of a Douyin `sec_uid` after its fixed head.
const SEC_UID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const HEX: &[u8] = b"0123456789abcdef";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Words Taobao nicks are made of.
const NICK_WORDS: [&str; 12] = [
    "晴天娃娃",
    "爱吃鱼的猫",
    "橙子味汽水",
    "小鹿乱撞",
    "木子李",
    "风吹麦浪",
    "云朵朵",
    "一只小胖",
    "大白兔奶糖",
    "阿花呀",
    "糖醋排骨",
    "星河滚烫",
];

/// Seeded SplitMix64 plus the identifiers minted so far.
#[derive(Debug, Clone)]
pub(super) struct Mint {
    state: u64,
    phones: Vec<u64>,
}

impl Mint {
    /// A mint seeded by FNV-1a of the persona's name.
    pub(super) fn new(name: &str) -> Self {
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Self {
            state: seed,
            phones: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(super) fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub(super) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    /// `n` decimal digits, the first one not zero.
    pub(super) fn digits(&mut self, n: usize) -> String {
        let first = char::from(b'1' + self.below(9) as u8);
        std::iter::once(first)
            .chain((1..n).map(|_| char::from(b'0' + self.below(10) as u8)))
            .collect()
    }

    /// `n` order times spread over the days `from..to` (`YYYY-MM-DD`),
    /// at the hours people shop, in time order.
    pub(super) fn spread(&mut self, from: &str, to: &str, n: usize) -> Vec<DateTime<FixedOffset>> {
        let (first, last) = (day(from), day(to));
        let span = (last - first).num_days() as usize;
        assert!(span > 0, "empty span {from}..{to}");
        let mut times: Vec<_> = (0..n)
            .map(|i| {
                let offset = (i * span / n + self.below((span / n).max(1))).min(span - 1);
                let date = first + Days::new(offset as u64);
                let time = NaiveTime::from_hms_opt(
                    *self.pick(&HOURS),
                    self.below(60) as u32,
                    self.below(60) as u32,
                )
                .expect("valid time");
                date.and_time(time)
                    .and_local_timezone(shanghai())
                    .single()
                    .expect("fixed offsets are unambiguous")
            })
            .collect();
        times.sort();
        times
    }

    /// `n` order times between two local times (`YYYY-MM-DD HH:MM`), in
    /// time order.
    pub(super) fn within(&mut self, from: &str, to: &str, n: usize) -> Vec<DateTime<FixedOffset>> {
        let (first, last) = (at(from), at(to));
        let seconds = (last - first).num_seconds();
        assert!(seconds > 0, "empty window {from}..{to}");
        let mut times: Vec<_> = (0..n)
            .map(|_| first + chrono::TimeDelta::seconds(self.below(seconds as usize) as i64))
            .collect();
        times.sort();
        times
    }

    /// A fresh mainland mobile number, distinct from every one minted before.
    pub(super) fn phone(&mut self) -> u64 {
        loop {
            let prefix = *self.pick(&PHONE_PREFIXES);
            let number = prefix * 100_000_000 + (self.next() % 100_000_000);
            if !self.phones.contains(&number) {
                self.phones.push(number);
                return number;
            }
        }
    }

    /// A fresh number that masks the same as `phone` (`166****0995`): same
    /// first three and last four digits, other middle digits.
    pub(super) fn phone_masking_as(&mut self, phone: u64) -> u64 {
        loop {
            let middle = self.next() % 10_000;
            let number = phone / 100_000_000 * 100_000_000 + middle * 10_000 + phone % 10_000;
            if !self.phones.contains(&number) {
                self.phones.push(number);
                return number;
            }
        }
    }

    /// A privacy host number that platforms put in front of buyers' phones.
    pub(super) fn relay_host(&mut self) -> u64 {
        RELAY_PREFIX * 100_000_000 + self.next() % 100_000_000
    }

    /// A four-digit relay extension.
    pub(super) fn extension(&mut self) -> u16 {
        1000 + self.below(9000) as u16
    }

    /// A WeChat unionID (28 characters, starting with `o`).
    pub(super) fn unionid(&mut self) -> String {
        format!("o{}", self.chars(WECHAT_CHARS, 27))
    }

    /// A mini program openid, the miniprogram channel's account id.
    pub(super) fn openid(&mut self) -> String {
        format!("o{}", self.chars(WECHAT_CHARS, 27))
    }

    fn uuid(&mut self) -> String {
        let hex = self.chars(HEX, 32);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// An Apple IDFA, upper-case as iOS reports it.
    pub(super) fn idfa(&mut self) -> String {
        self.uuid().to_uppercase()
    }

    /// An Android advertising id, lower-case as Android reports it.
    pub(super) fn gaid(&mut self) -> String {
        self.uuid()
    }

    /// A Taobao nick: the default `tb` + digits, or words + digits.
    pub(super) fn tmall_nick(&mut self) -> String {
        if self.chance(40) {
            format!("tb{}", self.digits(10))
        } else {
            let word = *self.pick(&NICK_WORDS);
            let n = 4 + self.below(3);
            format!("{word}{}", self.digits(n))
        }
    }

    /// A JD default user name (`jd_` + 13 characters).
    pub(super) fn jd_account(&mut self) -> String {
        format!("jd_{}", self.chars(LOWER_ALNUM, 13))
    }

    /// A Pinduoduo user id.
    pub(super) fn pdd_account(&mut self) -> String {
        format!("pdd{}", self.digits(11))
    }

    /// A Douyin `sec_uid`.
    pub(super) fn douyin_account(&mut self) -> String {
        format!("MS4wLjABAAAA{}", self.chars(SEC_UID_CHARS, 43))
    }

    /// A Shopify customer id.
    pub(super) fn shopify_customer(&mut self) -> String {
        format!("7{}", self.digits(12))
    }

    /// A dealer's member card number.
    pub(super) fn member_card(&mut self) -> String {
        format!("HY{}", self.digits(8))
    }

    /// A QQ-number mailbox.
    pub(super) fn qq_email(&mut self) -> String {
        let n = 9 + self.below(2);
        format!("{}@qq.com", self.digits(n))
    }

    /// A mainland broadband address.
    pub(super) fn ip(&mut self) -> String {
        let first = *self.pick(&[183u16, 117, 112, 36, 223, 120, 27, 59, 101, 14, 180, 218]);
        format!(
            "{first}.{}.{}.{}",
            self.below(256),
            self.below(256),
            1 + self.below(254)
        )
    }

    /// A home in `city` (one of [`places`]' cities).
    pub(super) fn home(&mut self, city: &str) -> Place {
        let c = places::city(city);
        let district = *self.pick(c.districts);
        let street = *self.pick(c.streets);
        let compound = *self.pick(places::COMPOUNDS);
        let room = (2 + self.below(30)) * 100 + 1 + self.below(4);
        Place::home(
            c,
            district,
            street,
            1 + self.below(1999),
            compound,
            1 + self.below(30),
            room,
        )
    }

    /// A home in any city.
    pub(super) fn home_anywhere(&mut self) -> Place {
        let city = self.pick(places::CITIES).name;
        self.home(city)
    }

    /// An office suite in `city`.
    pub(super) fn office(&mut self, city: &str) -> Place {
        let c = places::city(city);
        let district = *self.pick(c.districts);
        let street = *self.pick(c.streets);
        let tower = *self.pick(places::TOWERS);
        let floor = 3 + self.below(38);
        Place::office(
            c,
            district,
            street,
            1 + self.below(999),
            tower,
            floor,
            floor * 100 + 1 + self.below(20),
        )
    }

    /// An order status as exports show them: mostly signed.
    pub(super) fn status(&mut self) -> &'static str {
        match self.below(100) {
            0..82 => "signed",
            82..86 => "shipped",
            86..88 => "paid",
            88..90 => "created",
            90..95 => "refunded",
            _ => "cancelled",
        }
    }

    /// An amount in fen between `lo` and `hi` yuan, priced like shops
    /// price (`.00`, `.90`, `.99`).
    pub(super) fn cents(&mut self, lo: i64, hi: i64) -> i64 {
        let yuan = lo + self.below((hi - lo + 1) as usize) as i64;
        yuan * 100 + *self.pick(&[0, 0, 0, 90, 99, 50])
    }
}
