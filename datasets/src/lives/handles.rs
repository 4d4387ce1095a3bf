//! Online identities: platform accounts, WeChat openids and unionids,
//! advertising ids of phones and tablets, and email addresses with the way
//! people type them.

use super::channel::Channel;
use super::ids::{Scrambler, hash, push_base64};
use crate::rng::Rng;

const SURNAMES: [&str; 24] = [
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
    "zhu", "hu", "guo", "he", "lin", "luo", "gao", "zheng", "liang", "xie", "tang",
];

const GIVEN: [&str; 28] = [
    "xiao", "ming", "hua", "li", "jing", "wei", "fang", "yan", "jun", "hong", "lei", "tao", "yu",
    "ting", "hao", "qiang", "ping", "na", "min", "xin", "yue", "chen", "yi", "han", "zi", "rui",
    "xuan", "mei",
];

const ENGLISH: [&str; 16] = [
    "amy", "kevin", "grace", "jason", "cindy", "eric", "vivian", "tony", "linda", "david", "emily",
    "jack", "sophia", "ryan", "iris", "leo",
];

const NICKS: [&str; 12] = [
    "爱吃鱼的猫",
    "小熊软糖",
    "快乐的小土豆",
    "喵星人",
    "柠檬不酸",
    "阳光男孩",
    "宝妈",
    "云朵",
    "小确幸",
    "追风少年",
    "甜甜圈",
    "汪汪队长",
];

/// Two app ids of the brand's mini-programs: openids are per app, so each
/// prefix marks one app.
const APP_PREFIXES: [&str; 2] = ["UpF8", "Xk3q"];

/// Deterministic account identifiers of every channel, keyed by the seed.
#[derive(Debug)]
pub(super) struct Accounts {
    key: u64,
    numbers: Scrambler,
    wide: Scrambler,
}

impl Accounts {
    pub(super) fn new(key: u64) -> Self {
        Accounts {
            key,
            numbers: Scrambler::new(key ^ 0xACC0, 4),
            wide: Scrambler::new(key ^ 0x3D, 6),
        }
    }

    /// The account `slot` (0 = the person's own, 1.. = extra accounts) of
    /// `person` on `channel`, or None where the channel has no accounts.
    /// `venue` picks which of the brand's two Douyin shops or two
    /// mini-programs: their buyer ids differ per shop and per app.
    pub(super) fn account(
        &self,
        person: u32,
        channel: Channel,
        slot: u8,
        venue: u8,
    ) -> Option<String> {
        let id = u64::from(person) * 8 + u64::from(slot);
        let h = hash(self.key, &[channel.index() as u64, id]);
        let mut s = String::with_capacity(32);
        match channel {
            Channel::Tmall => {
                let n = self.numbers.apply(id);
                match h % 4 {
                    0 => s.push_str(&format!("tb{n:08}")),
                    1 => s.push_str(&format!(
                        "{}{}{}_{n:08}",
                        SURNAMES[(h >> 8) as usize % SURNAMES.len()],
                        GIVEN[(h >> 16) as usize % GIVEN.len()],
                        GIVEN[(h >> 24) as usize % GIVEN.len()],
                    )),
                    2 => s.push_str(&format!("{}{n:08}", NICKS[(h >> 8) as usize % NICKS.len()])),
                    _ => s.push_str(&format!("t_15{n:08}_{}", (h >> 32) % 10)),
                }
            }
            Channel::Jd => {
                if h.is_multiple_of(3) {
                    s.push_str(&format!(
                        "{}{}{:08}",
                        SURNAMES[(h >> 8) as usize % SURNAMES.len()],
                        GIVEN[(h >> 16) as usize % GIVEN.len()],
                        self.numbers.apply(id ^ 0x5A5A5A),
                    ));
                } else {
                    let n = self.wide.apply(id);
                    s.push_str(&format!("jd_{n:010x}{:02x}", (h >> 40) & 0xFF));
                }
            }
            Channel::Pdd => {
                let n = self.wide.apply(id ^ (1 << 40));
                s.push_str(&format!("{}", 1_000_000_000_000 + n));
            }
            Channel::Douyin => {
                // Buyer ids are per shop: the brand runs a flagship and an
                // outlet shop.
                let shop = u64::from(venue & 1);
                s.push_str(&format!(
                    "BY{shop}{:016X}",
                    hash(self.key, &[0xD0, id, shop])
                ));
            }
            Channel::MiniProgram => return Some(self.openid(person, slot, venue)),
            Channel::Shopify => {
                s.push_str(&format!("7{:012}", self.wide.apply(id ^ (1 << 41))));
            }
            Channel::Dealer => return None,
        }
        Some(s)
    }

    /// A mini-program openid of `person`'s WeChat account `slot` in one of
    /// the brand's two apps.
    fn openid(&self, person: u32, slot: u8, app: u8) -> String {
        let mut s = String::with_capacity(28);
        s.push('o');
        s.push_str(APP_PREFIXES[usize::from(app & 1)]);
        let id = u64::from(person) * 8 + u64::from(slot);
        push_base64(&mut s, hash(self.key, &[0x0FE, id, u64::from(app & 1)]), 23);
        s
    }

    /// The WeChat unionid of `person`: the same across the brand's apps.
    pub(super) fn unionid(&self, person: u32) -> String {
        let mut s = String::with_capacity(28);
        s.push_str("o6_bm");
        push_base64(&mut s, hash(self.key, &[0x5EED, u64::from(person)]), 23);
        s
    }
}

/// A phone's or tablet's advertising id (IDFA on iOS, GAID on Android).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Device {
    pub(super) bits: u128,
    pub(super) ios: bool,
    /// Limited ad tracking: the id reads as all zeros.
    pub(super) zeroed: bool,
}

/// The all-zero advertising id.
pub(super) const ZERO_DEVICE: &str = "00000000-0000-0000-0000-000000000000";

impl Device {
    pub(super) fn draw(key: u64, owner: u64, generation: u64, ios: bool, zeroed: bool) -> Self {
        let hi = hash(key, &[0xDE71CE, owner, generation]);
        let lo = hash(key, &[0xDE71CF, owner, generation]);
        Device {
            bits: (u128::from(hi) << 64) | u128::from(lo),
            ios,
            zeroed,
        }
    }

    /// The id as `channel` exports it: IDFAs are upper-case and GAIDs
    /// lower-case, but some channels fold everything to one case.
    pub(super) fn spell(&self, rng: &mut Rng, channel: Channel) -> String {
        if self.zeroed {
            return ZERO_DEVICE.to_string();
        }
        let b = self.bits;
        let mut s = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            (b >> 96) as u32,
            (b >> 80) as u16,
            (b >> 64) as u16 & 0xFFF,
            0x8000 | ((b >> 48) as u16 & 0x3FFF),
            b as u64 & 0xFFFF_FFFF_FFFF
        );
        let upper = match channel {
            Channel::Tmall => true,
            Channel::Jd | Channel::Douyin => false,
            _ => self.ios,
        };
        let upper = upper ^ rng.chance(0.05);
        if upper {
            s.make_ascii_uppercase();
        }
        s
    }
}

/// Email providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Provider {
    Qq,
    Netease163,
    Netease126,
    Sina,
    Foxmail,
    Gmail,
    Outlook,
    Hotmail,
    Yahoo,
    Icloud,
    Company,
}

impl Provider {
    fn domain(self) -> &'static str {
        match self {
            Provider::Qq => "qq.com",
            Provider::Netease163 => "163.com",
            Provider::Netease126 => "126.com",
            Provider::Sina => "sina.com",
            Provider::Foxmail => "foxmail.com",
            Provider::Gmail => "gmail.com",
            Provider::Outlook => "outlook.com",
            Provider::Hotmail => "hotmail.com",
            Provider::Yahoo => "yahoo.com",
            Provider::Icloud => "icloud.com",
            Provider::Company => "",
        }
    }
}

/// Emails typed into forms to get past them.
pub(super) const PLACEHOLDER_EMAILS: [&str; 10] = [
    "123@qq.com",
    "a@a.com",
    "none@none.com",
    "test@test.com",
    "1@1.com",
    "no@no.com",
    "xxx@xxx.com",
    "123456@qq.com",
    "na@na.com",
    "abc@abc.com",
];

/// A mailbox, written into the person's record once; `spell_email` varies
/// it per order.
pub(super) fn draw_email(
    rng: &mut Rng,
    provider: Provider,
    qq_number: u64,
    company: Option<&str>,
) -> String {
    let surname = SURNAMES[rng.index(SURNAMES.len())];
    let given = GIVEN[rng.index(GIVEN.len())];
    let year = rng.range(1965, 2006);
    let local = match provider {
        Provider::Qq | Provider::Foxmail => format!("{}", 100_000 + qq_number),
        Provider::Company => format!("{}.{surname}", ENGLISH[rng.index(ENGLISH.len())]),
        Provider::Gmail | Provider::Outlook | Provider::Hotmail | Provider::Yahoo => {
            match rng.below(3) {
                0 => format!(
                    "{}.{surname}{}",
                    ENGLISH[rng.index(ENGLISH.len())],
                    year % 100
                ),
                1 => format!("{surname}{given}{}", rng.range(1, 999)),
                _ => format!("{given}{surname}.{year}"),
            }
        }
        _ => format!("{surname}{given}{year}"),
    };
    let domain = match (provider, company) {
        (Provider::Company, Some(c)) => c,
        _ => provider.domain(),
    };
    format!("{local}@{domain}")
}

/// An email as typed on one order: case changes, stray spaces, and on
/// Shopify Gmail's ignored dots and `+tags`.
pub(super) fn spell_email(email: &str, rng: &mut Rng, channel: Channel) -> String {
    let mut s = email.to_string();
    if channel == Channel::Shopify && s.ends_with("@gmail.com") {
        let (local, domain) = s.split_at(s.find('@').unwrap_or(0));
        let mut local = local.to_string();
        if rng.chance(0.2) && local.len() > 3 {
            let at = 1 + rng.index(local.len() - 2);
            if local.is_char_boundary(at) && !local[..at].ends_with('.') {
                local.insert(at, '.');
            }
        }
        if rng.chance(0.15) {
            local.push_str(["+shop", "+orders", "+cn"][rng.index(3)]);
        }
        s = format!("{local}{domain}");
    }
    match rng.below(20) {
        0 => s = s.to_uppercase(),
        1 | 2 => {
            let mut c = s.chars();
            s = c
                .next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default();
        }
        3 => s = s.replace(".com", ".COM"),
        _ => {}
    }
    match rng.below(25) {
        0 => format!(" {s}"),
        1 => format!("{s} "),
        _ => s,
    }
}
