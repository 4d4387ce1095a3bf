//! Checks on the whole catalogue: names, order ids, people, identifiers
//! owned by one persona, the orders contract, and that each `Expect`
//! matches what the persona's own identifiers can connect.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::story::at;
use super::{Expect, PLACEHOLDERS, Persona, all};
use crate::vocab::STATUSES;
use crate::{CHANNELS, OrderRow, TRAPS};

/// The digits of a phone field, full-width digits included.
fn digits(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')),
            _ => None,
        })
        .collect()
}

/// A phone field as one value: masks as written (without a country code),
/// numbers as digits without a mainland country code.
fn phone_value(text: &str) -> String {
    if text.contains('*') {
        return text.trim_start_matches("86-").to_string();
    }
    let d = digits(text);
    let mainland = |rest: &str| rest.len() == 11 && rest.starts_with('1');
    if let Some(rest) = d.strip_prefix("0086").filter(|r| mainland(r)) {
        return rest.to_string();
    }
    if let Some(rest) = d.strip_prefix("86").filter(|r| mainland(r)) {
        return rest.to_string();
    }
    d
}

/// An e-mail as one mailbox: trimmed, lower-case, Gmail dots dropped.
fn email_value(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    match lower.split_once('@') {
        Some((local, "gmail.com")) => format!("{}@gmail.com", local.replace('.', "")),
        _ => lower,
    }
}

fn is_placeholder(kind: &str, value: &str) -> bool {
    PLACEHOLDERS.iter().any(|p| match kind {
        "phone" => phone_value(p) == value,
        "email" => email_value(p) == value,
        "device" => p.to_lowercase() == value,
        _ => false,
    })
}

/// Every identifying value of a row, as `(kind, value)`, placeholders left out.
fn identifiers(row: &OrderRow) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(a) = &row.account_id {
        out.push(("account", format!("{}:{a}", row.channel)));
    }
    if let Some(p) = &row.phone {
        out.push(("phone", phone_value(p)));
    }
    if let Some(e) = &row.email {
        out.push(("email", email_value(e)));
    }
    if let Some(u) = &row.wechat_unionid {
        out.push(("unionid", u.clone()));
    }
    if let Some(d) = &row.device_id {
        out.push(("device", d.to_lowercase()));
    }
    if let Some(a) = &row.ship_address {
        out.push(("address", a.clone()));
    }
    out.retain(|(kind, value)| !is_placeholder(kind, value));
    out
}

/// The personal keys that can join two orders of one person: accounts,
/// unionIDs, e-mails and real phone numbers (the last eight digits, which
/// survive every country-code spelling). Masks, relay numbers, devices,
/// addresses and placeholders join nothing.
fn linking_keys(row: &OrderRow) -> Vec<String> {
    identifiers(row)
        .into_iter()
        .filter_map(|(kind, value)| match kind {
            "account" | "unionid" | "email" => Some(format!("{kind}:{value}")),
            "phone" if !value.contains('*') && value.len() <= 13 => {
                Some(format!("phone:{}", &value[value.len().saturating_sub(8)..]))
            }
            _ => None,
        })
        .collect()
}

/// How many groups each person's orders fall into when joined by their
/// own linking keys.
fn components_per_person(persona: &Persona) -> HashMap<u32, usize> {
    let rows = &persona.rows;
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first: HashMap<(u32, String), usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        for key in linking_keys(row) {
            let j = *first.entry((row.person, key)).or_insert(i);
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: HashMap<u32, HashSet<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(row.person).or_default().insert(r);
    }
    groups.into_iter().map(|(p, g)| (p, g.len())).collect()
}

#[test]
fn at_least_thirty_personas_with_unique_names() {
    let personas = all();
    assert!(personas.len() >= 30, "only {} personas", personas.len());
    let names: HashSet<_> = personas.iter().map(|p| p.name).collect();
    assert_eq!(names.len(), personas.len(), "duplicate persona names");
    for p in &personas {
        assert!(
            p.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: names are lower-case ASCII",
            p.name
        );
        assert!(
            (80..900).contains(&p.story.len()) && p.story.ends_with('.'),
            "{}: the story is a short paragraph",
            p.name
        );
    }
}

#[test]
fn order_ids_are_unique_per_channel_and_carry_the_name() {
    let mut seen = HashSet::new();
    for p in all() {
        for row in &p.rows {
            assert!(
                row.order_id.starts_with(&format!("{}-", p.name)),
                "{} in {}",
                row.order_id,
                p.name
            );
            assert!(
                seen.insert((row.channel, row.order_id.clone())),
                "duplicate {} {}",
                row.channel,
                row.order_id
            );
        }
    }
}

#[test]
fn every_persona_has_rows_and_persons_numbered_from_zero() {
    for p in all() {
        assert!(!p.rows.is_empty(), "{} has no rows", p.name);
        let persons: BTreeSet<u32> = p.rows.iter().map(|r| r.person).collect();
        let expected: BTreeSet<u32> = (0..persons.len() as u32).collect();
        assert_eq!(persons, expected, "{}: persons not numbered 0..", p.name);
        assert!(
            p.rows
                .windows(2)
                .all(|w| w[0].ordered_at <= w[1].ordered_at),
            "{}: rows in time order",
            p.name
        );
    }
}

#[test]
fn identifiers_belong_to_one_persona() {
    let mut owners: HashMap<(&str, String), &str> = HashMap::new();
    for p in all() {
        for row in &p.rows {
            for key in identifiers(row) {
                let owner = *owners.entry(key.clone()).or_insert(p.name);
                assert_eq!(owner, p.name, "{key:?} is used by {owner} and {}", p.name);
            }
        }
    }
}

#[test]
fn rows_fit_the_orders_contract() {
    let (start, end) = (at("2025-11-01 00:00"), at("2026-12-01 00:00"));
    for p in all() {
        for row in &p.rows {
            let id = &row.order_id;
            assert!(CHANNELS.contains(&row.channel), "{id}: channel");
            assert!(STATUSES.contains(&row.status), "{id}: status");
            assert!(row.trap.is_none_or(|t| TRAPS.contains(&t)), "{id}: trap");
            assert!(
                start <= row.ordered_at && row.ordered_at < end,
                "{id}: {} out of range",
                row.ordered_at
            );
            assert_eq!(row.ordered_at.offset().local_minus_utc(), 8 * 3600, "{id}");
            assert!(row.amount_cents > 0, "{id}: amount");
            for text in [
                &row.account_id,
                &row.phone,
                &row.email,
                &row.wechat_unionid,
                &row.device_id,
                &row.ship_city,
                &row.ship_address,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!text.trim().is_empty(), "{id}: empty value");
            }
        }
    }
}

#[test]
fn exact_personas_connect_each_person_through_their_own_identifiers() {
    for p in all().into_iter().filter(|p| p.expect == Expect::Exact) {
        for (person, groups) in components_per_person(&p) {
            assert_eq!(groups, 1, "{}: person {person} falls apart", p.name);
        }
    }
}

#[test]
fn no_false_merge_personas_really_cannot_be_connected() {
    for p in all()
        .into_iter()
        .filter(|p| p.expect == Expect::NoFalseMerge)
    {
        let groups = components_per_person(&p);
        assert!(
            groups.values().any(|&g| g > 1),
            "{}: the identifiers connect everyone, so it should be Exact",
            p.name
        );
    }
}

#[test]
fn headline_numbers_hold() {
    let personas = all();
    let find = |name: &str| {
        personas
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no persona {name}"))
    };
    let addresses = |p: &Persona| {
        // One home in several spellings counts once: its numbers (house,
        // building, room) survive every spelling.
        p.rows
            .iter()
            .filter_map(|r| r.ship_address.as_deref())
            .map(|a| {
                a.split(|c: char| digits(&c.to_string()).is_empty())
                    .filter(|run| !run.is_empty())
                    .map(digits)
                    .collect::<Vec<_>>()
            })
            .collect::<HashSet<_>>()
            .len()
    };
    let persons = |p: &Persona| {
        p.rows
            .iter()
            .map(|r| r.person)
            .collect::<HashSet<_>>()
            .len()
    };
    let reseller = find("reseller30");
    assert_eq!((reseller.rows.len(), addresses(reseller)), (300, 30));
    let gifts = find("gift-sender");
    assert_eq!((gifts.rows.len(), addresses(gifts)), (60, 45));
    let daigou = find("daigou500");
    assert_eq!((daigou.rows.len(), addresses(daigou)), (500, 15));
    assert_eq!(find("office-buyer150").rows.len(), 150);
    assert_eq!(find("livestream-binge").rows.len(), 40);
    assert_eq!(persons(find("clerk-shop-phone")), 20);
    assert_eq!(persons(find("test-email")), 10);
    assert_eq!(persons(find("family-ipad")), 3);
}

#[test]
fn the_catalogue_is_deterministic() {
    assert_eq!(format!("{:?}", all()), format!("{:?}", all()));
}
