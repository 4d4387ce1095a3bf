//! Phone kernel: classifies a raw phone string and, where it names a person's
//! line, gives its E.164 form.
//!
//! Chinese numbers (the bulk of the data) take a hand-written fast path that
//! never allocates for ASCII input; anything with a foreign country code, or a
//! non-CN default region, goes through `rlibphonenumber` (Google's
//! libphonenumber metadata), which validates per country.

use std::borrow::Cow;
use std::fmt;

use rlibphonenumber::enums::Region;
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, PhoneNumberType};
use unicode_normalization::UnicodeNormalization;

/// What a raw phone string turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// A mobile number: evidence of a person.
    Mobile,
    /// A fixed line: evidence of a household or a business.
    Landline,
    /// Digits hidden by the platform, e.g. `138****5678`.
    Masked,
    /// A platform privacy relay: a shared host number plus an extension,
    /// e.g. `13800138000-1234`. The platform reuses it for other buyers.
    Virtual,
    /// A syntactically valid number typed to fill a form, e.g. `13800000000`.
    Placeholder,
    /// Not a phone number.
    Invalid,
}

impl PhoneKind {
    /// The name `phone_kind()` returns.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneKind::Mobile => "mobile",
            PhoneKind::Landline => "landline",
            PhoneKind::Masked => "masked",
            PhoneKind::Virtual => "virtual",
            PhoneKind::Placeholder => "placeholder",
            PhoneKind::Invalid => "invalid",
        }
    }

    /// Whether a number of this kind identifies one subscriber.
    pub fn is_personal(self) -> bool {
        matches!(self, PhoneKind::Mobile | PhoneKind::Landline)
    }
}

impl fmt::Display for PhoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An E.164 number (`+` and at most 15 digits) held inline, so that
/// normalizing millions of phones does not allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct E164 {
    buf: [u8; 16],
    len: u8,
}

impl E164 {
    fn from_parts(country: &[u8], national: &[u8]) -> Option<Self> {
        let len = 1 + country.len() + national.len();
        if len > 16 {
            return None;
        }
        let mut buf = [0u8; 16];
        buf[0] = b'+';
        buf[1..1 + country.len()].copy_from_slice(country);
        buf[1 + country.len()..len].copy_from_slice(national);
        Some(Self {
            buf,
            len: len as u8,
        })
    }

    fn parse(s: &str) -> Option<Self> {
        let digits = s.strip_prefix('+')?.as_bytes();
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| Self::from_parts(b"", digits))?
    }

    /// The number as text, e.g. `+8613812345678`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and '+' are ever written into `buf`.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or_default()
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of [`classify_phone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneClass {
    /// What the input is.
    pub kind: PhoneKind,
    /// The E.164 form, for [`PhoneKind::Mobile`], [`PhoneKind::Landline`] and
    /// [`PhoneKind::Placeholder`] (so a placeholder can be reported by value).
    pub e164: Option<E164>,
}

impl PhoneClass {
    fn new(kind: PhoneKind, e164: Option<E164>) -> Self {
        Self { kind, e164 }
    }

    /// The E.164 form if the number identifies a subscriber, else `None`.
    pub fn personal(&self) -> Option<&E164> {
        self.e164.as_ref().filter(|_| self.kind.is_personal())
    }
}

/// The region assumed for numbers written without a country code.
pub const DEFAULT_REGION: Region = Region::CN;

/// Parses an ISO 3166 region code such as `CN` or `hk`; `None` unless
/// libphonenumber has numbering metadata for it.
pub fn parse_region(code: &str) -> Option<Region> {
    let region = Region::from_code(&code.trim().to_ascii_uppercase()).ok()?;
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(region)
        .filter(|&c| c != 0)
        .map(|_| region)
}

/// Normalizes a phone to E.164 if it identifies a subscriber, else `None`.
pub fn normalize_phone(raw: &str, default_region: Region) -> Option<E164> {
    classify_phone(raw, default_region)?.personal().copied()
}

/// Classifies a raw phone string. Returns `None` for blank input.
pub fn classify_phone(raw: &str, default_region: Region) -> Option<PhoneClass> {
    let folded = nfkc(raw);
    let text = folded.trim();
    if text.is_empty() {
        return None;
    }
    if is_masked(text) {
        return Some(PhoneClass::new(PhoneKind::Masked, None));
    }
    if let Some((host, _extension)) = split_extension(text) {
        // A full number followed by an extension is a relay line, never a
        // person's own phone, whether or not the host number parses.
        return Some(match classify_digits(host, default_region) {
            Some(c) if c.kind != PhoneKind::Invalid => PhoneClass::new(PhoneKind::Virtual, None),
            _ => PhoneClass::new(PhoneKind::Invalid, None),
        });
    }
    Some(classify_digits(text, default_region).unwrap_or(PhoneClass::new(PhoneKind::Invalid, None)))
}

/// NFKC folds full-width digits, `＋`, `（`, ideographic spaces and the like
/// into ASCII; ASCII input is returned as is without allocating.
fn nfkc(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.nfkc().collect())
    }
}

fn is_masked(text: &str) -> bool {
    let hidden = text
        .chars()
        .filter(|c| matches!(c, '*' | '•' | '●' | '×'))
        .count();
    if hidden >= 2 {
        return true;
    }
    // `138xxxx5678`: a run of x between digits.
    let b = text.as_bytes();
    b.windows(4)
        .any(|w| w.iter().all(|c| matches!(c, b'x' | b'X')))
        && b.iter().any(u8::is_ascii_digit)
}

/// Splits `13800138000-1234`, `13800138000转1234`, `13800138000 ext 12` into
/// host and extension, but only when the host is a complete number on its
/// own: the dashes in `138-1234-5678` are grouping, not an extension.
fn split_extension(text: &str) -> Option<(&str, &str)> {
    // Every marker starts with one of these bytes (`转` with 0xE8). Most
    // numbers hold none, and each search for a marker sets up a searcher.
    let may_hold_marker = text
        .bytes()
        .any(|b| matches!(b, 0xe8 | b'e' | b'E' | b'#' | b',' | b';' | b'~'));
    let markers = ["转", "ext.", "ext", "EXT", "Ext", "#", ",", ";", "~"];
    for marker in markers.into_iter().filter(|_| may_hold_marker) {
        if let Some(at) = text.find(marker) {
            let (host, ext) = (&text[..at], &text[at + marker.len()..]);
            let ext = ext.trim();
            if ext.bytes().any(|c| c.is_ascii_digit()) && count_digits(host) >= 7 {
                return Some((host, ext));
            }
        }
    }
    let at = text.rfind('-')?;
    let (host, ext) = (&text[..at], text[at + 1..].trim());
    let ext_is_short_number =
        (1..=6).contains(&ext.len()) && ext.bytes().all(|c| c.is_ascii_digit());
    (ext_is_short_number && is_complete_cn_mobile(host)).then_some((host, ext))
}

fn count_digits(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

fn is_complete_cn_mobile(host: &str) -> bool {
    let Some(digits) = Digits::extract(host) else {
        return false;
    };
    let national = match digits.country_prefix() {
        Some((b"86", rest)) | Some((b"", rest)) => rest,
        _ => return false,
    };
    is_cn_mobile(national)
}

/// The digits of a phone string, with whether it began with `+`.
struct Digits {
    buf: [u8; 24],
    len: usize,
    plus: bool,
}

impl Digits {
    /// Keeps the leading run of phone characters: leading words (`tel:`) are
    /// skipped, trailing junk (`(mobile)`, `微信同号`) ends the number.
    fn extract(text: &str) -> Option<Self> {
        let start = text.find(|c: char| c.is_ascii_digit() || c == '+')?;
        let mut d = Digits {
            buf: [0; 24],
            len: 0,
            plus: false,
        };
        for (i, c) in text[start..].char_indices() {
            match c {
                '0'..='9' => {
                    if d.len == d.buf.len() {
                        return None;
                    }
                    d.buf[d.len] = c as u8;
                    d.len += 1;
                }
                '+' if i == 0 => d.plus = true,
                ' ' | '-' | '.' | '/' | '\u{a0}' | '_' => {}
                // Brackets group an area or country code, e.g. `(+86)138...`,
                // unless they open trailing commentary: `138... (mobile)`.
                '(' | ')' | '[' | ']' => {
                    let rest = &text[start + i + 1..];
                    let next = rest.trim_start_matches([' ', '+']).chars().next();
                    if c == '(' && d.len > 0 && !next.is_some_and(|n| n.is_ascii_digit()) {
                        break;
                    }
                    if c == '(' && d.len == 0 && rest.starts_with('+') {
                        d.plus = true;
                    }
                }
                _ => break,
            }
        }
        (d.len > 0).then_some(d)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Splits off an explicit country code: `+86…`, `0086…`, or a bare `86`
    /// before an 11-digit mobile. Returns `(b"", digits)` for national numbers
    /// and `(b"?", digits)` when some other country code is present.
    fn country_prefix(&self) -> Option<(&[u8], &[u8])> {
        let d = self.as_bytes();
        if self.plus {
            return Some(match d.strip_prefix(b"86") {
                Some(rest) => (b"86", rest),
                None => (b"?", d),
            });
        }
        if let Some(rest) = d.strip_prefix(b"00") {
            return Some(match rest.strip_prefix(b"86") {
                Some(national) => (b"86", national),
                None => (b"?", rest),
            });
        }
        if let Some(rest) = d.strip_prefix(b"86")
            && is_cn_mobile(rest)
        {
            return Some((b"86", rest));
        }
        Some((b"", d))
    }
}

fn classify_digits(text: &str, default_region: Region) -> Option<PhoneClass> {
    let digits = Digits::extract(text)?;
    let (country, rest) = digits.country_prefix()?;
    match country {
        b"86" => Some(classify_cn(rest, true)),
        b"" if default_region == Region::CN => Some(classify_cn(rest, false)),
        b"" => Some(classify_with_library(rest, Some(default_region), false)),
        _ => Some(classify_with_library(rest, None, true)),
    }
}

/// Mainland China: 11-digit mobiles `1[3-9]xxxxxxxxx`, and landlines as an
/// area code and a 7–8 digit subscriber number.
fn classify_cn(national: &[u8], had_country_code: bool) -> PhoneClass {
    if is_cn_mobile(national) {
        let e164 = E164::from_parts(b"86", national);
        let kind = if is_placeholder_mobile(national) {
            PhoneKind::Placeholder
        } else {
            PhoneKind::Mobile
        };
        return PhoneClass::new(kind, e164);
    }
    // Within China a landline is dialled with a trunk `0`; after `+86` it is not.
    let area_and_number = match national.strip_prefix(b"0") {
        Some(rest) if !had_country_code => Some(rest),
        None if had_country_code => Some(national),
        _ => None,
    };
    match area_and_number {
        Some(n) if is_cn_landline(n) => {
            PhoneClass::new(PhoneKind::Landline, E164::from_parts(b"86", n))
        }
        _ => PhoneClass::new(PhoneKind::Invalid, None),
    }
}

/// An area code (`10`, `2x`, or three digits from `3` up) and a 7–8 digit
/// subscriber number, without the trunk `0`.
fn is_cn_landline(n: &[u8]) -> bool {
    (9..=11).contains(&n.len()) && n[0] != b'0' && (n[0] != b'1' || n.starts_with(b"10"))
}

fn is_cn_mobile(d: &[u8]) -> bool {
    d.len() == 11
        && d[0] == b'1'
        && (b'3'..=b'9').contains(&d[1])
        && d.iter().all(u8::is_ascii_digit)
}

/// Numbers a clerk types to get past a required field: the carriers' famous
/// demo number, or a prefix followed by eight identical digits
/// (`13800000000`, `18888888888`).
fn is_placeholder_mobile(d: &[u8]) -> bool {
    const KNOWN: [&[u8]; 2] = [b"13800138000", b"13912345678"];
    KNOWN.contains(&d) || d[3..].iter().all(|&c| c == d[3])
}

fn classify_with_library(digits: &[u8], region: Option<Region>, international: bool) -> PhoneClass {
    let mut text = String::with_capacity(digits.len() + 1);
    if international {
        text.push('+');
    }
    text.extend(digits.iter().map(|&b| b as char));
    let Ok(number) = PHONE_NUMBER_UTIL.parse(&text, region) else {
        return PhoneClass::new(PhoneKind::Invalid, None);
    };
    if number.country_code == 86 {
        // `+86` written with a foreign trunk prefix, or a CN number parsed
        // under another default region: keep one code path for China.
        let national = number.national_number.to_string();
        return classify_cn(national.as_bytes(), true);
    }
    if !number.is_valid() {
        return PhoneClass::new(PhoneKind::Invalid, None);
    }
    let e164 = E164::parse(&number.format_as(PhoneNumberFormat::E164));
    let kind = match number.get_type() {
        PhoneNumberType::Mobile | PhoneNumberType::FixedLineOrMobile => PhoneKind::Mobile,
        PhoneNumberType::FixedLine => PhoneKind::Landline,
        _ => PhoneKind::Invalid,
    };
    PhoneClass::new(kind, e164.filter(|_| kind != PhoneKind::Invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Option<String> {
        normalize_phone(raw, DEFAULT_REGION).map(|e| e.as_str().to_string())
    }

    fn kind(raw: &str) -> Option<&'static str> {
        classify_phone(raw, DEFAULT_REGION).map(|c| c.kind.as_str())
    }

    #[test]
    fn chinese_mobiles_in_every_format_agree() {
        for raw in [
            "13812345678",
            "+86 138-1234-5678",
            "+8613812345678",
            "0086 13812345678",
            "008613812345678",
            "86-138 1234 5678",
            "8613812345678",
            "(+86)13812345678",
            "(+86) 138 1234 5678",
            "１３８１２３４５６７８",
            "＋８６ １３８ １２３４ ５６７８",
            " 138.1234.5678 ",
            "13812345678 (mobile)",
            "13812345678 微信同号",
            "tel: 138-1234-5678",
        ] {
            assert_eq!(norm(raw).as_deref(), Some("+8613812345678"), "{raw}");
            assert_eq!(kind(raw), Some("mobile"), "{raw}");
        }
    }

    #[test]
    fn international_numbers_keep_their_country() {
        assert_eq!(norm("+852 5404 6490").as_deref(), Some("+85254046490"));
        assert_eq!(norm("+65 8123 4567").as_deref(), Some("+6581234567"));
        assert_eq!(norm("0085254046490").as_deref(), Some("+85254046490"));
        assert_eq!(
            normalize_phone("5404 6490", Region::HK).map(|e| e.as_str().to_string()),
            Some("+85254046490".to_string())
        );
        // A CN number under a foreign default region is still CN.
        assert_eq!(
            normalize_phone("+86 13812345678", Region::HK).map(|e| e.as_str().to_string()),
            Some("+8613812345678".to_string())
        );
    }

    #[test]
    fn masked_numbers_are_not_phones() {
        for raw in [
            "138****5678",
            "138 **** 5678",
            "138xxxx5678",
            "１３８＊＊＊＊５６７８",
        ] {
            assert_eq!(kind(raw), Some("masked"), "{raw}");
            assert_eq!(norm(raw), None, "{raw}");
        }
    }

    #[test]
    fn privacy_relay_numbers_are_virtual() {
        for raw in [
            "13800138000-1234",
            "13800138000转1234",
            "17012345678 ext 1234",
            "+86 171 2345 6789-0012",
        ] {
            assert_eq!(kind(raw), Some("virtual"), "{raw}");
            assert_eq!(norm(raw), None, "{raw}");
        }
    }

    #[test]
    fn placeholders_are_recognised_but_not_normalized() {
        for raw in [
            "13800000000",
            "18888888888",
            "13000000000",
            "13800138000",
            "+86 139 9999 9999",
        ] {
            assert_eq!(kind(raw), Some("placeholder"), "{raw}");
            assert_eq!(norm(raw), None, "{raw}");
        }
        let c = classify_phone("138-0000-0000", DEFAULT_REGION).unwrap();
        assert_eq!(c.e164.unwrap().as_str(), "+8613800000000");
    }

    #[test]
    fn landlines() {
        assert_eq!(norm("010-12345678").as_deref(), Some("+861012345678"));
        assert_eq!(norm("(021) 6234 5678").as_deref(), Some("+862162345678"));
        assert_eq!(norm("+86 21 6234 5678").as_deref(), Some("+862162345678"));
        assert_eq!(norm("0755-8888123").as_deref(), Some("+867558888123"));
        assert_eq!(kind("0571-87654321"), Some("landline"));
    }

    #[test]
    fn junk_is_invalid_and_blank_is_none() {
        for raw in [
            "abc",
            "12345",
            "12345678901",
            "+",
            "---",
            "99999999999999999999999999",
            "1381234567",
        ] {
            assert_eq!(kind(raw), Some("invalid"), "{raw}");
            assert_eq!(norm(raw), None, "{raw}");
        }
        assert_eq!(kind(""), None);
        assert_eq!(kind("   "), None);
        assert_eq!(kind("\u{3000}"), None);
    }

    #[test]
    fn region_codes_parse_case_insensitively() {
        assert_eq!(parse_region("hk"), Some(Region::HK));
        assert_eq!(parse_region("CN"), Some(Region::CN));
        assert_eq!(parse_region("ZZZ"), None);
        assert_eq!(parse_region("XX"), None);
    }
}
