//! The largest mistakes of a resolution, for reading: the customers that
//! hold several people (false pairs) and the people whose own identifiers
//! link orders given to several customers (missed linkable pairs), each
//! shown with the orders and identifiers that made it so.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use ordergraph_datasets::{Dataset, LinkableOrder, OrderRow, Truth, linkable_groups};
use ordergraph_engine::identity::{IdentityConfig, IdentityKind, RawIdentity, Slot, extract};

use crate::Resolved;

/// Orders shown per person or customer.
const ROWS_SHOWN: usize = 12;

/// A report of the `n` customers holding the most false pairs and the `n`
/// linkable groups (one person's orders chained by that person's own
/// identifiers) losing the most pairs, with their orders.
pub fn failures(dataset: &Dataset, resolved: &[Resolved], n: usize) -> String {
    let row_of: HashMap<(&str, &str), &OrderRow> = dataset
        .rows
        .iter()
        .map(|r| ((r.channel, &*r.order_id), r))
        .collect();
    let config = IdentityConfig::default();
    let known: Vec<&Resolved> = resolved
        .iter()
        .filter(|r| row_of.contains_key(&(&*r.channel, &*r.order_id)))
        .collect();
    let rows: Vec<(&OrderRow, &str)> = known
        .iter()
        .map(|r| (row_of[&(&*r.channel, &*r.order_id)], &*r.mcid))
        .collect();
    let scored: Vec<LinkableOrder<'_>> = known
        .iter()
        .map(|o| (&*o.channel, &*o.order_id, &*o.mcid, o.keys.clone()))
        .collect();
    let groups = linkable_groups(&Truth::from_dataset(dataset), &scored);
    let mut by_mcid: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_group: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, (_, mcid)) in rows.iter().enumerate() {
        by_mcid.entry(mcid).or_default().push(i);
        if let Some(g) = groups[i] {
            by_group.entry(g).or_default().push(i);
        }
    }
    let mut out = String::new();

    let mut merges: Vec<(u64, &str)> = by_mcid
        .iter()
        .map(|(mcid, members)| {
            let mut per_person: HashMap<u32, u64> = HashMap::new();
            for &i in members {
                *per_person.entry(rows[i].0.person).or_default() += 1;
            }
            let same: u64 = per_person.values().map(|&c| pairs(c)).sum();
            (pairs(members.len() as u64) - same, *mcid)
        })
        .filter(|m| m.0 > 0)
        .collect();
    merges.sort_unstable_by(|a, b| b.cmp(a));
    let keys: Vec<Vec<(String, u64)>> = rows.iter().map(|(row, _)| classes(row, &config)).collect();
    let mut by_bridge: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for &(false_pairs, mcid) in &merges {
        let mut holders: HashMap<&(String, u64), std::collections::HashSet<u32>> = HashMap::new();
        for &i in &by_mcid[mcid] {
            for key in &keys[i] {
                holders.entry(key).or_default().insert(rows[i].0.person);
            }
        }
        let bridge = bridge_name(holders.iter().filter(|h| h.1.len() > 1).map(|h| &h.0.0));
        let entry = by_bridge.entry(bridge).or_default();
        entry.0 += false_pairs;
        entry.1 += 1;
    }
    write_tally(
        &mut out,
        "False pairs by the identifiers two people share in one customer",
        &by_bridge,
    );
    let _ = writeln!(out, "\n## Customers holding several people");
    for &(false_pairs, mcid) in merges.iter().take(n) {
        let members = &by_mcid[mcid];
        let _ = writeln!(
            out,
            "\n### {mcid}: {} orders, {false_pairs} false pairs",
            members.len()
        );
        show_orders(&mut out, &rows, members, &config, |row, _| {
            format!("p{}", row.person)
        });
    }

    let mut splits: Vec<(u64, usize)> = by_group
        .iter()
        .map(|(&group, members)| {
            let mut per_mcid: HashMap<&str, u64> = HashMap::new();
            for &i in members {
                *per_mcid.entry(rows[i].1).or_default() += 1;
            }
            let together: u64 = per_mcid.values().map(|&c| pairs(c)).sum();
            (pairs(members.len() as u64) - together, group)
        })
        .filter(|s| s.0 > 0)
        .collect();
    splits.sort_unstable_by(|a, b| b.cmp(a));
    let mut by_link: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for &(missed, group) in &splits {
        let mut customers: HashMap<&(String, u64), std::collections::HashSet<&str>> =
            HashMap::new();
        for &i in &by_group[&group] {
            for key in &keys[i] {
                customers.entry(key).or_default().insert(rows[i].1);
            }
        }
        let link = bridge_name(customers.iter().filter(|c| c.1.len() > 1).map(|c| &c.0.0));
        let entry = by_link.entry(link).or_default();
        entry.0 += missed;
        entry.1 += 1;
    }
    write_tally(
        &mut out,
        "Missed linkable pairs by the identifiers that span the customers",
        &by_link,
    );
    let _ = writeln!(
        out,
        "\n## People whose own identifiers link several customers"
    );
    for &(missed, group) in splits.iter().take(n) {
        let members = &by_group[&group];
        let person = rows[members[0]].0.person;
        let customers: std::collections::HashSet<&str> =
            members.iter().map(|&i| rows[i].1).collect();
        let _ = writeln!(
            out,
            "\n### p{person}: {} linkable orders in {} customers, {missed} pairs apart",
            members.len(),
            customers.len()
        );
        show_orders(&mut out, &rows, members, &config, |_, mcid| {
            mcid.to_string()
        });
    }
    out
}

/// Writes the identifiers the orders carry (each value with how many orders
/// of each label carry it) and a sample of the orders themselves.
fn show_orders(
    out: &mut String,
    rows: &[(&OrderRow, &str)],
    members: &[usize],
    config: &IdentityConfig,
    label: impl Fn(&OrderRow, &str) -> String,
) {
    let mut values: BTreeMap<(IdentityKind, String), BTreeMap<String, usize>> = BTreeMap::new();
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for &i in members {
        let (row, mcid) = rows[i];
        let l = label(row, mcid);
        *labels.entry(l.clone()).or_default() += 1;
        let slots = extract(&raw(row), config.region, &config.blocklist);
        for (slot, kind) in slots.into_iter().zip(IdentityKind::ALL) {
            let value = match slot {
                Slot::Id { value, .. } => value,
                Slot::Refused { value, why } => format!("{value} ({why:?})"),
                Slot::Empty => continue,
            };
            *values
                .entry((kind, value))
                .or_default()
                .entry(l.clone())
                .or_default() += 1;
        }
    }
    let mut largest: Vec<(&String, &usize)> = labels.iter().collect();
    largest.sort_by(|a, b| b.1.cmp(a.1));
    let _ = writeln!(
        out,
        "{} labels, largest: {:?}",
        largest.len(),
        &largest[..largest.len().min(8)]
    );
    for ((kind, value), by_label) in &values {
        if by_label.len() > 1 || by_label.values().sum::<usize>() > 1 {
            let mut shown: Vec<String> = by_label.iter().map(|(l, c)| format!("{l}:{c}")).collect();
            if shown.len() > 8 {
                let more = shown.len() - 8;
                shown.truncate(8);
                shown.push(format!("+{more} labels"));
            }
            let _ = writeln!(out, "  {kind:?} {value}: {}", shown.join(" "));
        }
    }
    let step = members.len().div_ceil(ROWS_SHOWN).max(1);
    for &i in members.iter().step_by(step) {
        let (row, mcid) = rows[i];
        let _ = writeln!(
            out,
            "  {} {} {}/{} {} acct={} phone={} email={} union={} dev={} city={} trap={}",
            label(row, mcid),
            row.ordered_at.format("%Y-%m-%d %H:%M"),
            row.channel,
            row.order_id,
            row.status,
            row.account_id.as_deref().unwrap_or("-"),
            row.phone.as_deref().unwrap_or("-"),
            row.email.as_deref().unwrap_or("-"),
            row.wechat_unionid.as_deref().unwrap_or("-"),
            row.device_id.as_deref().unwrap_or("-"),
            row.ship_city.as_deref().unwrap_or("-"),
            row.trap.unwrap_or("-"),
        );
    }
}

/// The usable identifiers of an order, each with its class: its kind, a
/// phone told apart as mobile, landline or foreign, and marked when keyed
/// in at a store.
fn classes(row: &OrderRow, config: &IdentityConfig) -> Vec<(String, u64)> {
    let slots = extract(&raw(row), config.region, &config.blocklist);
    slots
        .into_iter()
        .zip(IdentityKind::ALL)
        .filter_map(|(slot, kind)| match slot {
            Slot::Id { key, value } => {
                let class = match kind {
                    IdentityKind::Phone if value.starts_with("+861") => "mobile",
                    IdentityKind::Phone if value.starts_with("+86") => "landline",
                    IdentityKind::Phone => "foreign phone",
                    IdentityKind::Unionid => "unionid",
                    IdentityKind::Email => "email",
                    IdentityKind::Device => "device",
                    IdentityKind::Account => "account",
                };
                let store = if config.in_store(row.channel) {
                    " (store)"
                } else {
                    ""
                };
                Some((format!("{class}{store}"), key))
            }
            _ => None,
        })
        .collect()
}

/// The classes of a set of identifiers, sorted and joined; `none` if empty.
fn bridge_name<'a>(classes: impl Iterator<Item = &'a String>) -> String {
    let set: std::collections::BTreeSet<&String> = classes.collect();
    if set.is_empty() {
        return "none".into();
    }
    set.into_iter().cloned().collect::<Vec<_>>().join(" + ")
}

fn write_tally(out: &mut String, title: &str, tally: &BTreeMap<String, (u64, usize)>) {
    let mut rows: Vec<_> = tally.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1));
    let _ = writeln!(
        out,
        "\n## {title}\n\n| identifiers | pairs | customers or groups |\n|---|---|---|"
    );
    for (name, (pairs, count)) in rows.into_iter().take(15) {
        let _ = writeln!(out, "| {name} | {pairs} | {count} |");
    }
}

fn raw(row: &OrderRow) -> RawIdentity<'_> {
    RawIdentity {
        channel: row.channel,
        account_id: row.account_id.as_deref(),
        phone: row.phone.as_deref(),
        email: row.email.as_deref(),
        wechat_unionid: row.wechat_unionid.as_deref(),
        device_id: row.device_id.as_deref(),
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}
