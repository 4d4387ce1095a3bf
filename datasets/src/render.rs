//! Rendering of identifiers as they appear in channel exports: full and
//! masked mobile numbers in the noisy shapes people and clerks type, device
//! ids, e-mail noise, and account ids.

use std::fmt::Write;

use crate::rng::Rng;

/// A person's phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phone {
    /// Mainland mobile, 11 digits.
    Cn(u64),
    /// Overseas number: Hong Kong and Singapore numbers are 8 digits, US ones
    /// 10 digits (area code + subscriber).
    Intl { region: Region, national: u64 },
}

/// Overseas region of an international phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    HongKong,
    Singapore,
    Us,
}

// `write!` into a `String` cannot fail; these keep call sites short.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// Appends `digits` using full-width numerals, as a Chinese IME produces.
fn push_fullwidth(out: &mut String, digits: &str) {
    for c in digits.chars() {
        match c.to_digit(10) {
            Some(d) => out.push(char::from_u32(0xFF10 + d).unwrap_or(c)),
            None => out.push(c),
        }
    }
}

/// Mainland phone shapes seen per channel; weights index into the `match` in
/// [`cn_full`].
pub(crate) const SHOPIFY_PHONE_STYLES: [u32; 10] = [25, 15, 8, 6, 6, 4, 6, 10, 10, 10];
pub(crate) const MINIPROGRAM_PHONE_STYLES: [u32; 10] = [88, 0, 0, 0, 0, 0, 0, 4, 2, 6];
pub(crate) const DEALER_PHONE_STYLES: [u32; 10] = [55, 0, 3, 0, 0, 12, 8, 12, 10, 0];

/// A full mainland number in one of the noisy shapes of `styles`.
pub(crate) fn cn_full(out: &mut String, n: u64, styles: &[u32; 10], rng: &mut Rng) {
    let (a, b, c) = (n / 100_000_000, (n / 10_000) % 10_000, n % 10_000);
    match rng.weighted(styles) {
        0 => w!(out, "{n}"),
        1 => w!(out, "+86 {a}-{b:04}-{c:04}"),
        2 => w!(out, "0086 {n}"),
        3 => w!(out, "86-{a} {b:04} {c:04}"),
        4 => w!(out, "(+86){n}"),
        5 => push_fullwidth(out, &n.to_string()),
        6 => {
            let junk = *rng.pick(&[" (mobile)", " 手机", "/", " 微信同号", "（本人）"]);
            w!(out, "{n}{junk}");
        }
        7 => w!(out, "{a} {b:04} {c:04}"),
        8 => w!(out, "{a}-{b:04}-{c:04}"),
        _ => w!(out, "+86{n}"),
    }
}

/// An overseas number in one of its local shapes.
pub(crate) fn intl_full(out: &mut String, region: Region, n: u64, rng: &mut Rng) {
    match region {
        Region::HongKong | Region::Singapore => {
            let cc = if region == Region::HongKong { 852 } else { 65 };
            let (a, b) = (n / 10_000, n % 10_000);
            match rng.weighted(&[50, 15, 10, 10, 15]) {
                0 => w!(out, "+{cc} {a:04} {b:04}"),
                1 => w!(out, "+{cc}{n:08}"),
                2 => w!(out, "{cc}-{a:04}-{b:04}"),
                3 => w!(out, "(+{cc}) {a:04} {b:04}"),
                // Local shape without country code: easy to mistake for junk.
                _ => w!(out, "{a:04} {b:04}"),
            }
        }
        Region::Us => {
            let (area, ex, line) = (n / 10_000_000, (n / 10_000) % 1000, n % 10_000);
            match rng.weighted(&[50, 15, 15, 10, 10]) {
                0 => w!(out, "+1 ({area}) {ex}-{line:04}"),
                1 => w!(out, "+1 {area}-{ex}-{line:04}"),
                2 => w!(out, "({area}) {ex}-{line:04}"),
                3 => w!(out, "{n}"),
                _ => w!(out, "+1{n}"),
            }
        }
    }
}

/// Platform-masked mainland number: first three and last four digits.
pub(crate) fn cn_masked(out: &mut String, n: u64, rng: &mut Rng) {
    let (a, c) = (n / 100_000_000, n % 10_000);
    if rng.chance(0.15) {
        w!(out, "{a} **** {c:04}");
    } else {
        w!(out, "{a}****{c:04}");
    }
}

/// Key `prefix3 * 10_000 + last4`: what survives masking.
pub(crate) fn masked_key(n: u64) -> u32 {
    ((n / 100_000_000) * 10_000 + n % 10_000) as u32
}

/// A mobile advertising id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Device {
    /// Random UUID bits (version/variant already set).
    pub(crate) bits: u128,
    /// IDFA (iOS, upper-case by convention) rather than GAID (Android).
    pub(crate) ios: bool,
    /// Ad tracking off: the OS reports the all-zero id.
    pub(crate) zero: bool,
}

impl Device {
    /// A fresh random version-4 id.
    pub(crate) fn random(rng: &mut Rng, ios: bool, zero: bool) -> Self {
        let raw = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        let bits = (raw & !(0xF000u128 << 64) & !(0xC000u128 << 48))
            | (0x4000u128 << 64)
            | (0x8000u128 << 48);
        Device { bits, ios, zero }
    }
}

/// Renders a device id with the formatting noise SDKs and ETL jobs add.
pub(crate) fn device(out: &mut String, d: Device, rng: &mut Rng) {
    let bits = if d.zero { 0 } else { d.bits };
    let upper = d.ios ^ rng.chance(0.10);
    let dashes = !rng.chance(0.07);
    let hex = if upper {
        format!("{bits:032X}")
    } else {
        format!("{bits:032x}")
    };
    if dashes {
        out.push_str(&hex[0..8]);
        out.push('-');
        out.push_str(&hex[8..12]);
        out.push('-');
        out.push_str(&hex[12..16]);
        out.push('-');
        out.push_str(&hex[16..20]);
        out.push('-');
        out.push_str(&hex[20..32]);
    } else {
        out.push_str(&hex);
    }
}

/// E-mail as typed into a shopify checkout: sometimes capitalised or padded.
pub(crate) fn noisy_email(out: &mut String, email: &str, rng: &mut Rng) {
    let lead = rng.chance(0.03);
    let trail = rng.chance(0.04);
    if lead {
        out.push(' ');
    }
    let r = rng.f64();
    if r < 0.08 {
        let mut chars = email.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    } else if r < 0.12 {
        let (local, domain) = email.split_once('@').unwrap_or((email, ""));
        out.push_str(local);
        out.push('@');
        out.push_str(&domain.to_ascii_uppercase());
    } else if r < 0.14 {
        out.push_str(&email.to_ascii_uppercase());
    } else {
        out.push_str(email);
    }
    if trail {
        out.push(' ');
    }
}

/// Account id in the channel's style from a unique number.
pub(crate) fn account(channel: usize, n: u64) -> String {
    use crate::vocab::*;
    match channel {
        TMALL => format!("tb_{n:010}"),
        JD => {
            let mut s = String::with_capacity(16);
            s.push_str("jd_");
            let mut v = n;
            let mut buf = [b'0'; 12];
            for slot in buf.iter_mut().rev() {
                *slot = b"0123456789abcdefghijklmnopqrstuvwxyz"[(v % 36) as usize];
                v /= 36;
            }
            s.push_str(std::str::from_utf8(&buf).unwrap_or_default());
            s
        }
        PDD => format!("pdd{n:011}"),
        DOUYIN => format!("dy{n:011}"),
        MINIPROGRAM => format!("mp{n:09}"),
        SHOPIFY => format!("{}", 7_000_000_000_000 + n),
        _ => format!("{n}"),
    }
}

/// Exclusive upper bound of the random number behind [`account`] ids.
pub(crate) fn account_space(channel: usize) -> u64 {
    use crate::vocab::*;
    match channel {
        TMALL => 10_000_000_000,
        JD => 36u64.pow(12),
        PDD | DOUYIN => 100_000_000_000,
        MINIPROGRAM => 1_000_000_000,
        SHOPIFY => 1_000_000_000_000,
        _ => 1_000_000,
    }
}

/// A WeChat unionid: `o6_bm` and 23 url-safe base64 characters.
pub(crate) fn unionid(rng: &mut Rng) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut s = String::with_capacity(28);
    s.push_str("o6_bm");
    let mut bits = rng.next_u64();
    let mut left = 10;
    for _ in 0..23 {
        if left == 0 {
            bits = rng.next_u64();
            left = 10;
        }
        s.push(ALPHABET[(bits & 63) as usize] as char);
        bits >>= 6;
        left -= 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_shapes() {
        let mut rng = Rng::new(3);
        let mut all = std::collections::HashSet::new();
        for _ in 0..2000 {
            let mut s = String::new();
            cn_full(&mut s, 13812345678, &SHOPIFY_PHONE_STYLES, &mut rng);
            let digits: String = s
                .chars()
                .filter_map(|c| {
                    let c = if ('０'..='９').contains(&c) {
                        char::from_u32(c as u32 - 0xFF10 + '0' as u32)?
                    } else {
                        c
                    };
                    c.is_ascii_digit().then_some(c)
                })
                .collect();
            assert!(digits.ends_with("13812345678"), "{s}");
            all.insert(s);
        }
        assert!(all.contains("+86 138-1234-5678"));
        assert!(all.contains("0086 13812345678"));
        assert!(all.contains("86-138 1234 5678"));
        assert!(all.contains("(+86)13812345678"));
        assert!(all.contains("１３８１２３４５６７８"));
        assert!(all.contains("13812345678 (mobile)"));

        let mut s = String::new();
        let mut rng = Rng::new(1);
        while !s.starts_with("+852 ") {
            s.clear();
            intl_full(&mut s, Region::HongKong, 54046490, &mut rng);
        }
        assert_eq!(s, "+852 5404 6490");
        while !s.starts_with("+1 (") {
            s.clear();
            intl_full(&mut s, Region::Us, 4155550134, &mut rng);
        }
        assert_eq!(s, "+1 (415) 555-0134");
        assert_eq!(masked_key(13812345678), 1385678);
    }

    #[test]
    fn device_and_ids() {
        let mut rng = Rng::new(5);
        let d = Device::random(&mut rng, false, false);
        let mut s = String::new();
        while s.len() != 36 || s.chars().any(|c| c.is_ascii_uppercase()) {
            s.clear();
            device(&mut s, d, &mut rng);
        }
        assert_eq!(&s[14..15], "4");
        s.clear();
        while s.len() != 36 {
            s.clear();
            device(&mut s, Device { zero: true, ..d }, &mut rng);
        }
        assert_eq!(s, "00000000-0000-0000-0000-000000000000");
        let u = unionid(&mut rng);
        assert_eq!(u.len(), 28);
        assert!(u.starts_with("o6_bm"));
        assert_eq!(account(crate::vocab::JD, 35).len(), 15);
        assert_eq!(account(crate::vocab::TMALL, 42), "tb_0000000042");
    }
}
