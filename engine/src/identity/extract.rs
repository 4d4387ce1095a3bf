//! Turns an order's raw identifier fields into identifier slots: normalized
//! and keyed, or refused with the reason.

use rustc_hash::FxHashSet as HashSet;

use ordergraph_udfs::{
    DeviceId, IdentityKind, PhoneClass, PhoneKind, Region, ZERO_DEVICE_ID, classify_device_id,
    classify_phone, identity_key, write_normalized_email,
};
use xxhash_rust::xxh3::xxh3_64;

/// An order's raw identifier fields, as ingested.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawIdentity<'a> {
    /// Sales channel: scopes the account.
    pub channel: &'a str,
    /// Buyer account on the channel.
    pub account_id: Option<&'a str>,
    /// Raw phone text.
    pub phone: Option<&'a str>,
    /// Raw email text.
    pub email: Option<&'a str>,
    /// WeChat unionID.
    pub wechat_unionid: Option<&'a str>,
    /// Advertising device id.
    pub device_id: Option<&'a str>,
}

/// Why an identifier value was not used to link orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// A phone with digits hidden by the platform.
    Masked,
    /// A platform privacy relay number.
    Virtual,
    /// A value typed to fill a form: `13800000000`, the all-zero device id.
    Placeholder,
    /// On the configured blocklist.
    Blocklisted,
    /// A department's mailbox (`info@`, `xingzheng@`), which colleagues
    /// share.
    Role,
    /// Not a valid value of its kind.
    Invalid,
}

impl Refusal {
    /// The rule name shown in `identity_evidence` and `shared_identifiers`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Masked => "masked",
            Refusal::Virtual => "virtual",
            Refusal::Placeholder => "placeholder",
            Refusal::Blocklisted => "blocklisted",
            Refusal::Role => "role_mailbox",
            Refusal::Invalid => "invalid",
        }
    }
}

/// One identifier slot of an order. `V` holds the value: a `String` of its
/// own, or a [`Span`] of a text that many orders' values share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot<V = String> {
    /// No value.
    Empty,
    /// A usable identifier.
    Id {
        /// `identity_key(kind, value)`.
        key: u64,
        /// Normalized value.
        value: V,
    },
    /// A value that must not link; `value` is normalized where possible.
    Refused {
        /// What was seen.
        value: V,
        /// Why it was refused.
        why: Refusal,
    },
}

impl<V> Slot<V> {
    /// The same slot, its value mapped by `f`.
    pub fn map_value<W>(self, f: impl FnOnce(V) -> W) -> Slot<W> {
        match self {
            Slot::Empty => Slot::Empty,
            Slot::Id { key, value } => Slot::Id {
                key,
                value: f(value),
            },
            Slot::Refused { value, why } => Slot::Refused {
                value: f(value),
                why,
            },
        }
    }
}

/// Where a value is in the text it was written into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: usize,
    len: u32,
}

impl Span {
    /// The text from `start` to the end of `text`.
    fn since(start: usize, text: &str) -> Span {
        Span {
            start,
            len: (text.len() - start) as u32,
        }
    }

    /// The value, in the `text` it was written into.
    pub fn of(self, text: &str) -> &str {
        &text[self.start..self.start + self.len as usize]
    }

    /// The same value in a text that has `offset` more bytes before it.
    pub(crate) fn moved(self, offset: usize) -> Span {
        Span {
            start: self.start + offset,
            ..self
        }
    }
}

/// Appends `value` to `text`; where it is there.
pub(super) fn hold(text: &mut String, value: &str) -> Span {
    let start = text.len();
    text.push_str(value);
    Span::since(start, text)
}

/// Values that must never link, by identity key.
#[derive(Debug, Clone, Default)]
pub struct Blocklist {
    keys: HashSet<u64>,
}

impl Blocklist {
    /// Builds a blocklist from raw values, normalized as ingest normalizes them.
    pub fn new<'a>(
        entries: impl IntoIterator<Item = (IdentityKind, &'a str)>,
        region: Region,
    ) -> Self {
        let mut keys = HashSet::default();
        for (kind, raw) in entries {
            let raw = RawIdentity {
                channel: raw.split_once(':').map(|(c, _)| c).unwrap_or_default(),
                account_id: raw.split_once(':').map(|(_, a)| a),
                phone: Some(raw),
                email: Some(raw),
                wechat_unionid: Some(raw),
                device_id: Some(raw),
            };
            if let Some(key) = normalized_key(kind, &raw, region) {
                keys.insert(key);
            }
        }
        Self { keys }
    }

    fn contains(&self, key: u64) -> bool {
        self.keys.contains(&key)
    }
}

fn normalized_key(kind: IdentityKind, raw: &RawIdentity<'_>, region: Region) -> Option<u64> {
    let mut text = String::new();
    match extract_slot(kind, raw, region, &Blocklist::default(), &mut text) {
        Slot::Id { key, .. } => Some(key),
        Slot::Refused { value, .. } => identity_key(kind, value.of(&text)),
        Slot::Empty => None,
    }
}

/// Normalizes every identifier of an order into its slot, indexed by
/// `IdentityKind as usize`.
pub fn extract(raw: &RawIdentity<'_>, region: Region, blocklist: &Blocklist) -> [Slot; 5] {
    let mut text = String::new();
    IdentityKind::ALL
        .map(|kind| extract_slot(kind, raw, region, blocklist, &mut text))
        .map(|slot| slot.map_value(|span| span.of(&text).to_string()))
}

/// [`extract`] as ingest needs it: each value appended to `text` rather
/// than allocated (ingest holds a chunk's values in one text, so that
/// normalizing pays no malloc and free per value), and the
/// [`phone_signature`] of the order's phone, classifying the phone once.
pub fn extract_order(
    raw: &RawIdentity<'_>,
    region: Region,
    blocklist: &Blocklist,
    text: &mut String,
) -> ([Slot<Span>; 5], Option<u32>) {
    let Some(raw_phone) = raw.phone else {
        let slots = IdentityKind::ALL.map(|kind| extract_slot(kind, raw, region, blocklist, text));
        return (slots, None);
    };
    let class = classify_phone(raw_phone, region);
    let slots = IdentityKind::ALL.map(|kind| match kind {
        IdentityKind::Phone => blocked(class.map(|c| phone(raw_phone, c, text)), blocklist),
        _ => extract_slot(kind, raw, region, blocklist, text),
    });
    // Signatures read mainland numbers; another default region classifies
    // the same text differently, so it is classified again for them.
    let signature = if region == Region::CN {
        class.and_then(|c| signature_of(raw_phone, c))
    } else {
        phone_signature(raw_phone)
    };
    (slots, signature)
}

/// One identifier's slot, its value appended to `text`.
fn extract_slot(
    kind: IdentityKind,
    raw: &RawIdentity<'_>,
    region: Region,
    blocklist: &Blocklist,
    text: &mut String,
) -> Slot<Span> {
    let slot = match kind {
        IdentityKind::Unionid => raw.wechat_unionid.map(|u| unionid(u, text)),
        IdentityKind::Phone => raw
            .phone
            .and_then(|p| classify_phone(p, region).map(|c| phone(p, c, text))),
        IdentityKind::Email => raw.email.map(|e| email(e, text)),
        IdentityKind::Device => raw.device_id.map(|d| device(d, text)),
        IdentityKind::Account => raw.account_id.map(|a| account(raw.channel, a, text)),
    };
    blocked(slot, blocklist)
}

/// Refuses a blocklisted identifier.
fn blocked(slot: Option<Slot<Span>>, blocklist: &Blocklist) -> Slot<Span> {
    match slot {
        Some(Slot::Id { key, value }) if blocklist.contains(key) => Slot::Refused {
            value,
            why: Refusal::Blocklisted,
        },
        Some(s) => s,
        None => Slot::Empty,
    }
}

/// A usable identifier of `kind` whose value was just written to `text`.
fn id(kind: IdentityKind, value: Span, text: &mut String) -> Slot<Span> {
    match identity_key(kind, value.of(text)) {
        Some(key) => Slot::Id { key, value },
        None => {
            text.truncate(value.start);
            Slot::Empty
        }
    }
}

fn refused(value: &str, why: Refusal, text: &mut String) -> Slot<Span> {
    Slot::Refused {
        value: hold(text, value),
        why,
    }
}

fn unionid(raw: &str, text: &mut String) -> Slot<Span> {
    let v = raw.trim();
    if v.is_empty() {
        Slot::Empty
    } else if v.len() < 6 || v.len() > 64 || v.chars().any(char::is_whitespace) {
        refused(v, Refusal::Invalid, text)
    } else {
        id(IdentityKind::Unionid, hold(text, v), text)
    }
}

fn phone(raw: &str, class: PhoneClass, text: &mut String) -> Slot<Span> {
    let shown = match &class.e164 {
        Some(e) => e.as_str(),
        None => raw.trim(),
    };
    match class.kind {
        PhoneKind::Mobile | PhoneKind::Landline => id(IdentityKind::Phone, hold(text, shown), text),
        PhoneKind::Masked => refused(shown, Refusal::Masked, text),
        PhoneKind::Virtual => refused(shown, Refusal::Virtual, text),
        PhoneKind::Placeholder => refused(shown, Refusal::Placeholder, text),
        PhoneKind::Invalid => refused(shown, Refusal::Invalid, text),
    }
}

/// Domains reserved for examples (RFC 2606) and disposable fillers: never a
/// customer's mailbox.
const PLACEHOLDER_DOMAINS: [&str; 6] = [
    "example.com",
    "example.org",
    "example.net",
    "test.com",
    "test.test",
    "localhost.localdomain",
];

/// Words typed as a mailbox or a domain to get past a required field.
const FILLER_WORDS: [&str; 24] = [
    "test", "none", "null", "nil", "na", "no", "noemail", "nomail", "noreply", "no-reply", "abc",
    "abcd", "asdf", "qwerty", "admin", "user", "email", "mail", "example", "sample", "demo",
    "unknown", "guest", "fake",
];

/// Whether a normalized email is a filler rather than someone's mailbox:
/// a reserved or filler domain (`example.com`, `none.com`), the mailbox
/// named as its domain (`a@a.com`, `na@na.com`), a filler word
/// (`test@qq.com`), one character repeated (`aa@`,
/// `111111@`), a run of counting digits (`123@`, `123456@`), or a QQ
/// mailbox too short to be a QQ number (QQ numbers have five digits or
/// more).
pub(crate) fn is_placeholder_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let label = domain.split('.').next().unwrap_or_default();
    let repeated = local.len() >= 2 && local.chars().all(|c| local.starts_with(c));
    let counting = local.len() >= 3 && "1234567890".starts_with(local);
    let short_qq =
        domain == "qq.com" && local.len() < 5 && local.bytes().all(|b| b.is_ascii_digit());
    PLACEHOLDER_DOMAINS.contains(&domain)
        || FILLER_WORDS.contains(&local)
        || FILLER_WORDS.contains(&label)
        || local == label
        || repeated
        || counting
        || short_qq
}

/// Mailbox names of a function rather than a person: those RFC 2142 lists,
/// the usual English ones, and departments of a Chinese company in pinyin
/// (行政, 财务, 人事, 客服, 采购, 办公室, 前台, 综合办, 后勤, 市场, 销售,
/// 服务, 招聘).
const ROLE_MAILBOXES: [&str; 53] = [
    "info",
    "marketing",
    "sales",
    "support",
    "abuse",
    "noc",
    "security",
    "postmaster",
    "hostmaster",
    "webmaster",
    "office",
    "contact",
    "service",
    "services",
    "hello",
    "team",
    "hr",
    "jobs",
    "careers",
    "billing",
    "finance",
    "accounts",
    "accounting",
    "purchase",
    "purchasing",
    "procurement",
    "orders",
    "order",
    "reception",
    "frontdesk",
    "enquiries",
    "inquiry",
    "help",
    "helpdesk",
    "it",
    "legal",
    "press",
    "xingzheng",
    "caiwu",
    "renshi",
    "kefu",
    "caigou",
    "bangong",
    "bangongshi",
    "qiantai",
    "zonghe",
    "zongheban",
    "houqin",
    "shichang",
    "xiaoshou",
    "fuwu",
    "zhaopin",
    "enquiry",
];

/// Whether a normalized email names a function rather than a person
/// (`info@`, `xingzheng@`, `kefu2@`): whoever works there orders with it,
/// so it tells nobody apart and joins nobody.
pub(crate) fn is_role_mailbox(value: &str) -> bool {
    let Some((local, _)) = value.rsplit_once('@') else {
        return false;
    };
    let name = local.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    ROLE_MAILBOXES.contains(&name)
}

fn email(raw: &str, text: &mut String) -> Slot<Span> {
    if raw.trim().is_empty() {
        return Slot::Empty;
    }
    let start = text.len();
    if !write_normalized_email(raw, text) {
        return refused(raw.trim(), Refusal::Invalid, text);
    }
    let value = Span::since(start, text);
    if is_placeholder_email(value.of(text)) {
        Slot::Refused {
            value,
            why: Refusal::Placeholder,
        }
    } else if is_role_mailbox(value.of(text)) {
        Slot::Refused {
            value,
            why: Refusal::Role,
        }
    } else {
        id(IdentityKind::Email, value, text)
    }
}

fn device(raw: &str, text: &mut String) -> Slot<Span> {
    match classify_device_id(raw) {
        DeviceId::Blank => Slot::Empty,
        DeviceId::Valid(d) => id(IdentityKind::Device, hold(text, d.as_str()), text),
        DeviceId::Placeholder => refused(ZERO_DEVICE_ID, Refusal::Placeholder, text),
        DeviceId::Malformed => refused(raw.trim(), Refusal::Invalid, text),
    }
}

fn account(channel: &str, raw: &str, text: &mut String) -> Slot<Span> {
    let a = raw.trim();
    if a.is_empty() {
        return Slot::Empty;
    }
    let start = text.len();
    text.push_str(channel.trim());
    text[start..].make_ascii_lowercase();
    text.push(':');
    text.push_str(a);
    id(IdentityKind::Account, Span::since(start, text), text)
}

/// The visible part of a mainland mobile, `138****5678` -> 1385678, taken
/// from a masked number or from a full one. A masked phone cannot link two
/// orders, but two different signatures on one device prove two people.
pub fn phone_signature(raw: &str) -> Option<u32> {
    signature_of(raw, classify_phone(raw, Region::CN)?)
}

/// [`phone_signature`] from a phone already classified as mainland.
fn signature_of(raw: &str, class: PhoneClass) -> Option<u32> {
    let digits = |s: &str| s.parse::<u32>().ok();
    match class.kind {
        PhoneKind::Mobile | PhoneKind::Placeholder => {
            let e = class.e164?;
            let national = e.as_str().strip_prefix("+86")?;
            (national.len() == 11)
                .then(|| digits(&national[..3]).zip(digits(&national[7..])))?
                .map(|(a, b)| a * 10_000 + b)
        }
        PhoneKind::Masked => masked_signature(raw),
        _ => None,
    }
}

/// The signature of a masked mainland mobile: exactly three digits, four
/// hidden characters and four digits (whitespace aside), starting with 1.
/// Read in one pass without allocating: platforms mask the phone on many
/// orders, and each masked phone is read here.
fn masked_signature(raw: &str) -> Option<u32> {
    let (mut head, mut head_len, mut in_head) = (0u32, 0usize, true);
    let (mut tail, mut tail_len, mut total) = (0u32, 0usize, 0usize);
    for c in raw.chars().filter(|c| !c.is_whitespace()) {
        total += 1;
        if c.is_ascii_digit() {
            let d = c as u32 - '0' as u32;
            if in_head && head_len < 3 {
                head = head * 10 + d;
            }
            head_len += usize::from(in_head);
            tail = (tail * 10 + d) % 10_000;
            tail_len += 1;
        } else {
            in_head = false;
            (tail, tail_len) = (0, 0);
        }
    }
    let hidden = total.checked_sub(head_len + tail_len)?;
    (head_len == 3 && tail_len == 4 && hidden == 4 && head / 100 == 1)
        .then_some(head * 10_000 + tail)
}

/// The scope of an account value: its channel, hashed.
pub(crate) fn account_scope(value: &str) -> u64 {
    xxh3_64(account_channel(value).as_bytes())
}

/// Whether a normalized phone is a mainland fixed line (`+86` and anything
/// but a mobile's eleven digits `1…`; Beijing's `10…` is a landline): a
/// household's or an office's number, shared by whoever lives or works
/// there. Numbers of other countries are taken as personal.
pub fn is_landline(e164: &str) -> bool {
    e164.strip_prefix("+86")
        .is_some_and(|national| !(national.len() == 11 && national.starts_with('1')))
}

/// A key of a ship city, `上海` and ` 上海市 ` alike; 0 for none.
pub fn city_key(city: &str) -> u32 {
    let folded = fold(city);
    nonzero_key(folded.strip_suffix('市').unwrap_or(&folded))
}

/// `text` with full-width letters and digits folded to ASCII, whitespace
/// dropped and ASCII letters lowercased.
fn fold(text: &str) -> String {
    text.chars()
        .filter_map(|ch| match ch {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(ch as u32 - 0xfee0),
            _ => Some(ch),
        })
        .filter(|ch| !ch.is_whitespace())
        .map(|ch| ch.to_ascii_lowercase())
        .collect()
}

/// A 32-bit key of `text`: 0 for empty text and never for any other.
fn nonzero_key(text: &str) -> u32 {
    match xxh3_64(text.as_bytes()) as u32 {
        _ if text.is_empty() => 0,
        0 => 1,
        key => key,
    }
}

/// A key of the buyer's place an address names, 0 for none: the same for
/// the spellings a clerk or a buyer commonly types for one address.
/// Full-width letters and digits fold to ASCII, whitespace and case go, and
/// a leading province and city (`广东省东莞市`, `北京市`) is dropped, as
/// buyers leave it out as often as not. What is left is read as its names
/// and its numbers in order, the marks between the numbers dropped: `123号`
/// and `123#`, `8栋`, `8幢`, `8号楼` and `8#`, `3-2-501` and
/// `3栋2单元501室` are each one place. A pick-up at the store (`门店自提`,
/// `到店自提`, an address naming the `门店`) is the shop's place, not the
/// buyer's: 0.
pub fn place_key(address: &str) -> u32 {
    if address.contains("自提") || address.contains("门店") {
        return 0;
    }
    let folded = fold(address);
    // The city ends within the first few characters: `…市` later in an
    // address (`市场路`) is part of the street.
    let local = folded
        .char_indices()
        .take(12)
        .find(|&(_, ch)| ch == '市')
        .map_or(folded.as_str(), |(i, ch)| &folded[i + ch.len_utf8()..]);
    let mut place = String::with_capacity(local.len());
    let mut in_number = false;
    for ch in local.chars() {
        if ch.is_ascii_digit() {
            if !in_number && place.ends_with(|c: char| c.is_ascii_digit()) {
                place.push('|');
            }
            place.push(ch);
            in_number = true;
            continue;
        }
        in_number = false;
        if !PLACE_MARKS.contains(&ch) {
            place.push(ch);
        }
    }
    nonzero_key(&place)
}

/// Marks between an address's numbers that spellings of one place swap
/// for one another: street number (`号`, `#`), building (`栋`, `幢`,
/// `号楼`, `座`), unit (`单元`), floor and room (`层`, `楼`, `室`), dashes.
const PLACE_MARKS: [char; 12] = [
    '号', '#', '栋', '幢', '楼', '座', '单', '元', '层', '室', '-', '—',
];

/// The channel of a `channel:account_id` value.
pub(crate) fn account_channel(value: &str) -> &str {
    value.split_once(':').map(|(c, _)| c).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_place_whatever_the_spelling() {
        let home = place_key("广东省东莞市南城区鸿福路123号 8栋2302");
        for spelling in [
            "东莞市南城区鸿福路123号8栋2302",
            "南城区鸿福路１２３号　８栋２３０２",
            "广东省 东莞市 南城区 鸿福路123号 8栋2302",
        ] {
            assert_eq!(place_key(spelling), home, "{spelling}");
        }
        for spelling in [
            "东莞市南城区鸿福路123#8幢2302",
            "南城区鸿福路123号8号楼2302室",
            "南城区鸿福路123号8#2302",
            "南城区鸿福路123号 8-2302",
        ] {
            assert_eq!(place_key(spelling), home, "{spelling}");
        }
        assert_eq!(
            place_key("南京市建邺区工农路855号滨湖世纪3-2-501"),
            place_key("江苏省南京市建邺区工农路855#滨湖世纪3栋2单元501室")
        );
        assert_ne!(place_key("东莞市南城区鸿福路125号8栋2302"), home);
        assert_ne!(place_key("南城区鸿福路12号38栋2302"), home);
        assert_ne!(place_key("南城区市场路1号"), place_key("南城区路1号"));
        assert_eq!(place_key("  "), 0);
        assert_eq!(place_key("东莞市南城区鸿福路123号门店自提"), 0);
        assert_eq!(place_key("门店自提(鸿福路123号)"), 0);
    }

    #[test]
    fn landlines_are_mainland_numbers_that_are_not_mobiles() {
        for landline in [
            "+861089181887",
            "+8631188331770",
            "+8675523456789",
            "+864008123123",
        ] {
            assert!(is_landline(landline), "{landline}");
        }
        for personal in [
            "+8613912345678",
            "+8619924163617",
            "+85291234567",
            "+14155550123",
        ] {
            assert!(!is_landline(personal), "{personal}");
        }
    }

    /// The plain reading of the rule, allocating as it goes.
    fn masked_signature_by_strings(raw: &str) -> Option<u32> {
        let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let head: String = text.chars().take_while(char::is_ascii_digit).collect();
        let mut tail: Vec<char> = text
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect();
        tail.reverse();
        let tail: String = tail.into_iter().collect();
        let hidden = text
            .chars()
            .count()
            .checked_sub(head.chars().count() + tail.chars().count())?;
        (head.len() == 3 && tail.len() == 4 && hidden == 4 && head.starts_with('1'))
            .then(|| Some(head.parse::<u32>().ok()? * 10_000 + tail.parse::<u32>().ok()?))?
    }

    proptest::proptest! {
        #[test]
        fn masked_signature_reads_like_the_plain_rule(raw in "[0-9０-９*xX• ]{0,16}") {
            proptest::prop_assert_eq!(masked_signature(&raw), masked_signature_by_strings(&raw));
        }
    }

    #[test]
    fn filler_emails_are_placeholders() {
        for filler in [
            "123@qq.com",
            "1234@qq.com",
            "a@a.com",
            "none@none.com",
            "test@qq.com",
            "111111@qq.com",
            "aaa@163.com",
            "123456@163.com",
            "li@example.com",
            "noemail@gmail.com",
            "x@x.cn",
        ] {
            assert!(is_placeholder_email(filler), "{filler}");
        }
        for real in [
            "li.wei@qq.com",
            "10001@qq.com",
            "284716392@qq.com",
            "wang@163.com",
            "ann.smith@gmail.com",
            "ab@company.cn",
            "z@zhang.me",
            "li@x.com",
        ] {
            assert!(!is_placeholder_email(real), "{real}");
        }
    }

    #[test]
    fn role_mailboxes_name_a_function() {
        for role in [
            "info@hengyuan-tech.cn",
            "xingzheng@shengshi-media.com.cn",
            "kefu2@shop.cn",
            "purchase@hengyuan-tech.cn",
            "hr_01@corp.com",
        ] {
            assert!(is_role_mailbox(role), "{role}");
            let mut text = String::new();
            let why = match email(role, &mut text) {
                Slot::Refused { why, .. } => Some(why),
                _ => None,
            };
            assert_eq!(why, Some(Refusal::Role), "{role}");
        }
        for person in [
            "li.wei@qq.com",
            "information.li@corp.com",
            "kefuzhang@shop.cn",
            "zhurui1974@126.com",
            "info",
        ] {
            assert!(!is_role_mailbox(person), "{person}");
        }
    }

    #[test]
    fn masked_signatures() {
        assert_eq!(masked_signature("138****5678"), Some(1_385_678));
        assert_eq!(masked_signature(" 138 ** ** 5678 "), Some(1_385_678));
        assert_eq!(masked_signature("238****5678"), None);
        assert_eq!(masked_signature("138***5678"), None);
        assert_eq!(masked_signature("138****56789"), None);
        assert_eq!(masked_signature("13８****5678"), None);
    }
}
