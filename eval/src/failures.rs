//! The largest mistakes of a resolution, for reading: the customers that
//! hold several people (false pairs) and the people whose own identifiers
//! link orders given to several customers (missed linkable pairs), each
//! shown with the orders and identifiers that made it so.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use ordergraph_datasets::{Dataset, LinkableOrder, OrderRow, Truth, linkable_groups};
use ordergraph_engine::identity::{
    IdentityConfig, IdentityKind, RawIdentity, Slot, extract, is_landline,
};

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
    let mut by_mcid: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_group: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (row, mcid)) in rows.iter().enumerate() {
        by_mcid.entry(mcid.to_string()).or_default().push(i);
        if let Some(g) = groups[i] {
            by_group
                .entry(format!("p{} ({g})", row.person))
                .or_default()
                .push(i);
        }
    }
    let keys: Vec<Vec<(String, u64)>> = rows.iter().map(|(row, _)| classes(row, &config)).collect();
    let report = Report {
        rows: &rows,
        keys: &keys,
        config: &config,
    };
    let mut out = String::new();
    report.section(
        &mut out,
        &by_mcid,
        |row, _| format!("p{}", row.person),
        [
            "Customers holding several people",
            "false pairs",
            "two people share in one customer",
        ],
        n,
    );
    report.section(
        &mut out,
        &by_group,
        |_, mcid| mcid.to_string(),
        [
            "People whose own identifiers link several customers",
            "missed linkable pairs",
            "span one person's customers",
        ],
        n,
    );
    out
}

/// The orders read back, with the identifier classes each carries.
struct Report<'a> {
    rows: &'a [(&'a OrderRow, &'a str)],
    keys: &'a [Vec<(String, u64)>],
    config: &'a IdentityConfig,
}

impl Report<'_> {
    /// Writes one kind of mistake: groups of orders (`groups`, by name) that
    /// `label` splits are mistakes, costing the pairs it puts apart. First
    /// the pairs tallied by the classes of the identifiers found under two
    /// labels of a group, then the `n` costliest groups with their orders.
    /// `words` are the section's title, what its pairs are, and what the
    /// tallied identifiers do.
    fn section(
        &self,
        out: &mut String,
        groups: &HashMap<String, Vec<usize>>,
        label: impl Fn(&OrderRow, &str) -> String,
        words: [&str; 3],
        n: usize,
    ) {
        let [title, what, span] = words;
        let label_of = |i: usize| label(self.rows[i].0, self.rows[i].1);
        let mut costly: Vec<(u64, &str)> = groups
            .iter()
            .map(|(name, members)| (pairs_apart(members, label_of), name.as_str()))
            .filter(|m| m.0 > 0)
            .collect();
        costly.sort_unstable_by(|a, b| b.cmp(a));
        let mut tally: BTreeMap<String, (u64, usize)> = BTreeMap::new();
        for &(cost, name) in &costly {
            let mut labels: HashMap<&(String, u64), HashSet<String>> = HashMap::new();
            for &i in &groups[name] {
                for key in &self.keys[i] {
                    labels.entry(key).or_default().insert(label_of(i));
                }
            }
            let classes: BTreeSet<&str> = labels
                .iter()
                .filter(|l| l.1.len() > 1)
                .map(|l| l.0.0.as_str())
                .collect();
            let classes = if classes.is_empty() {
                "none".to_string()
            } else {
                classes.into_iter().collect::<Vec<_>>().join(" + ")
            };
            let entry = tally.entry(classes).or_default();
            entry.0 += cost;
            entry.1 += 1;
        }
        let mut tallied: Vec<_> = tally.into_iter().collect();
        tallied.sort_by_key(|t| std::cmp::Reverse(t.1));
        let _ = writeln!(
            out,
            "\n## Where the {what} come from: identifiers that {span}\n\n| identifiers | pairs | groups |\n|---|---|---|"
        );
        for (classes, (cost, count)) in tallied.into_iter().take(15) {
            let _ = writeln!(out, "| {classes} | {cost} | {count} |");
        }
        let _ = writeln!(out, "\n## {title}");
        for &(cost, name) in costly.iter().take(n) {
            let members = &groups[name];
            let _ = writeln!(out, "\n### {name}: {} orders, {cost} {what}", members.len());
            show_orders(out, self.rows, members, self.config, &label);
        }
    }
}

/// The pairs of `members` that `label` puts apart.
fn pairs_apart<L: std::hash::Hash + Eq>(members: &[usize], label: impl Fn(usize) -> L) -> u64 {
    let mut per_label: HashMap<L, u64> = HashMap::new();
    for &i in members {
        *per_label.entry(label(i)).or_default() += 1;
    }
    let together: u64 = per_label.values().map(|&c| pairs(c)).sum();
    pairs(members.len() as u64) - together
}

/// Writes the identifiers the orders carry (each value with how many orders
/// of each label carry it) and a sample of the orders themselves.
fn show_orders(
    out: &mut String,
    rows: &[(&OrderRow, &str)],
    members: &[usize],
    config: &IdentityConfig,
    label: &impl Fn(&OrderRow, &str) -> String,
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
                    IdentityKind::Phone if is_landline(&value) => "landline",
                    IdentityKind::Phone if value.starts_with("+86") => "mobile",
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
