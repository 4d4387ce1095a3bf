//! Ground truth lookup and pairwise scoring of a predicted clustering.
//!
//! Scoring is pairwise over orders: a pair is a true pair when both orders
//! belong to the same person and a predicted pair when both carry the same
//! label. Pair counts come from a (label, person) contingency table, so the
//! cost is linear in the number of orders.

use std::collections::HashMap;
use std::path::Path;

use crate::vocab::TRAPS;
use crate::{Dataset, Error, Result};

/// Ground truth: which person placed each `(channel, order_id)`.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Per channel, order id → index into `persons` / `traps`. Channels are
    /// few, so a linear scan beats hashing a composite key.
    channels: Vec<(String, HashMap<String, usize>)>,
    persons: Vec<u32>,
    traps: Vec<Option<&'static str>>,
}

impl Truth {
    fn insert(
        &mut self,
        channel: &str,
        order_id: &str,
        person: u32,
        trap: Option<&'static str>,
    ) -> bool {
        let pos = match self.channels.iter().position(|(c, _)| c == channel) {
            Some(pos) => pos,
            None => {
                self.channels.push((channel.to_string(), HashMap::new()));
                self.channels.len() - 1
            }
        };
        let map = &mut self.channels[pos].1;
        if map.contains_key(order_id) {
            return false;
        }
        map.insert(order_id.to_string(), self.persons.len());
        self.persons.push(person);
        self.traps.push(trap);
        true
    }

    fn index(&self, channel: &str, order_id: &str) -> Option<usize> {
        self.channels
            .iter()
            .find(|(c, _)| c == channel)
            .and_then(|(_, m)| m.get(order_id).copied())
    }

    /// Reads a truth CSV as written by [`Dataset::write_truth`].
    pub fn read_csv(path: &Path) -> Result<Truth> {
        let text = std::fs::read_to_string(path)?;
        let records = parse_csv(&text)?;
        let mut truth = Truth::default();
        let mut iter = records.into_iter();
        match iter.next() {
            Some((_, header)) if header == ["channel", "order_id", "person", "trap"] => {}
            _ => {
                return Err(Error::Truth {
                    line: 1,
                    message: "expected header channel,order_id,person,trap".into(),
                });
            }
        }
        for (line, fields) in iter {
            let bad = |message: String| Error::Truth { line, message };
            let [channel, order_id, person, trap] = <[String; 4]>::try_from(fields)
                .map_err(|f| bad(format!("expected 4 fields, got {}", f.len())))?;
            let person: u32 = person
                .parse()
                .map_err(|_| bad(format!("bad person {person:?}")))?;
            let trap = match trap.as_str() {
                "" => None,
                t => Some(
                    *TRAPS
                        .iter()
                        .find(|x| **x == t)
                        .ok_or_else(|| bad(format!("unknown trap {t:?}")))?,
                ),
            };
            if !truth.insert(&channel, &order_id, person, trap) {
                return Err(bad(format!("duplicate order {channel}/{order_id}")));
            }
        }
        Ok(truth)
    }

    /// The truth of a generated dataset.
    pub fn from_dataset(d: &Dataset) -> Truth {
        let mut truth = Truth::default();
        for r in &d.rows {
            truth.insert(r.channel, &r.order_id, r.person, r.trap);
        }
        truth
    }

    /// The person who placed the order.
    pub fn person(&self, channel: &str, order_id: &str) -> Option<u32> {
        self.index(channel, order_id).map(|i| self.persons[i])
    }

    /// The trap the order carries, if any.
    pub fn trap(&self, channel: &str, order_id: &str) -> Option<&'static str> {
        self.index(channel, order_id).and_then(|i| self.traps[i])
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether there are no orders.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }
}

/// Splits CSV text into records of fields with their 1-based starting line,
/// honouring quotes (including quoted separators and line breaks).
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(Error::Truth {
            line: record_line,
            message: "unterminated quoted field".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

/// Pairwise quality of a predicted clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Predicted orders found in the truth (first occurrence of each).
    pub orders: usize,
    /// Order pairs placed by the same person, over every truth order: orders
    /// missing from the prediction count against recall.
    pub true_pairs: u64,
    /// Order pairs sharing a predicted label (matched orders only).
    pub predicted_pairs: u64,
    /// Pairs that are both.
    pub correct_pairs: u64,
    /// `correct / predicted`; 1 when nothing was predicted as a pair.
    pub precision: f64,
    /// `correct / true`; 1 when the truth has no pairs.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Distinct predicted labels among matched orders.
    pub customers_found: usize,
    /// Distinct persons in the truth.
    pub persons: usize,
    /// Predicted entries not in the truth, plus repeated entries.
    pub unmatched_orders: usize,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `predicted` — `(channel, order_id, cluster label)` triples —
/// against `truth`. A repeated `(channel, order_id)` keeps its first label.
pub fn score<'a>(
    truth: &Truth,
    predicted: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Score {
    let mut seen = vec![false; truth.len()];
    let mut contingency: HashMap<(&'a str, u32), u64> = HashMap::new();
    let mut label_sizes: HashMap<&'a str, u64> = HashMap::new();
    let (mut orders, mut unmatched) = (0usize, 0usize);
    for (channel, order_id, label) in predicted {
        match truth.index(channel, order_id) {
            Some(i) if !seen[i] => {
                seen[i] = true;
                orders += 1;
                *contingency.entry((label, truth.persons[i])).or_default() += 1;
                *label_sizes.entry(label).or_default() += 1;
            }
            _ => unmatched += 1,
        }
    }
    let mut person_sizes: HashMap<u32, u64> = HashMap::new();
    for &p in &truth.persons {
        *person_sizes.entry(p).or_default() += 1;
    }
    let true_pairs: u64 = person_sizes.values().map(|&n| pairs(n)).sum();
    let predicted_pairs: u64 = label_sizes.values().map(|&n| pairs(n)).sum();
    let correct_pairs: u64 = contingency.values().map(|&n| pairs(n)).sum();
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    let precision = ratio(correct_pairs, predicted_pairs);
    let recall = ratio(correct_pairs, true_pairs);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Score {
        orders,
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision,
        recall,
        f1,
        customers_found: label_sizes.len(),
        persons: person_sizes.len(),
        unmatched_orders: unmatched,
    }
}

/// One scored order for [`score_linkable`]: `(channel, order_id, predicted
/// label, identifier keys)`, where each key is a normalized identifier that
/// is usable as evidence, flagged `true` if it is a phone.
pub type LinkableOrder<'a> = (&'a str, &'a str, &'a str, Vec<(u64, bool)>);

/// Recall over the pairs the identifiers can link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkableScore {
    /// Same-person pairs connected through the person's own identifiers.
    pub linkable_pairs: u64,
    /// Of those, pairs that share a predicted label.
    pub found_pairs: u64,
    /// `found / linkable`; 1 when nothing is linkable.
    pub recall: f64,
}

/// Scores recall over *linkable* pairs: two orders of one person are
/// linkable when a chain of that person's orders joins them, each step
/// sharing an identifier that no other person carries. Phones are the
/// exception: a phone carried by two people (a recycled number) still links
/// each holder's own orders, since a resolver is expected to split it in
/// time. Orders joined only through masked numbers, placeholders or family
/// devices are not linkable, and do not count against recall.
pub fn score_linkable(truth: &Truth, orders: &[LinkableOrder<'_>]) -> LinkableScore {
    let groups = linkable_groups(truth, orders);
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    let mut found: HashMap<(usize, &str), u64> = HashMap::new();
    for (o, group) in orders.iter().zip(&groups) {
        let Some(group) = *group else { continue };
        *sizes.entry(group).or_default() += 1;
        *found.entry((group, o.2)).or_default() += 1;
    }
    let linkable_pairs: u64 = sizes.values().map(|&n| pairs(n)).sum();
    let found_pairs: u64 = found.values().map(|&n| pairs(n)).sum();
    LinkableScore {
        linkable_pairs,
        found_pairs,
        recall: if linkable_pairs == 0 {
            1.0
        } else {
            found_pairs as f64 / linkable_pairs as f64
        },
    }
}

/// Per order, its linkable group (see [`score_linkable`]): orders of one
/// group are one person's, chained through that person's own identifiers.
/// `None` for an order the truth does not know.
pub fn linkable_groups(truth: &Truth, orders: &[LinkableOrder<'_>]) -> Vec<Option<usize>> {
    let people: Vec<Option<u32>> = orders.iter().map(|o| truth.person(o.0, o.1)).collect();
    let mut holders: HashMap<u64, (u32, bool)> = HashMap::new();
    for (o, person) in orders.iter().zip(&people) {
        let Some(p) = *person else { continue };
        for &(key, _) in &o.3 {
            let entry = holders.entry(key).or_insert((p, true));
            if entry.0 != p {
                entry.1 = false;
            }
        }
    }
    let mut parent: Vec<usize> = (0..orders.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut first: HashMap<(u32, u64), usize> = HashMap::new();
    for (i, (o, person)) in orders.iter().zip(&people).enumerate() {
        let Some(p) = *person else { continue };
        for &(key, is_phone) in &o.3 {
            if !is_phone && !holders[&key].1 {
                continue;
            }
            let j = *first.entry((p, key)).or_insert(i);
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    (0..orders.len())
        .map(|i| people[i].map(|_| find(&mut parent, i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orders a1,a2,a3 by person 1; b1,b2 by person 2; c1 by person 3.
    fn tiny() -> Truth {
        let mut t = Truth::default();
        for (ch, id, p) in [
            ("tmall", "a1", 1),
            ("jd", "a2", 1),
            ("shopify", "a3", 1),
            ("tmall", "b1", 2),
            ("dealer", "b2", 2),
            ("tmall", "c1", 3),
        ] {
            assert!(t.insert(ch, id, p, None));
        }
        t
    }

    fn keys() -> Vec<(&'static str, &'static str)> {
        vec![
            ("tmall", "a1"),
            ("jd", "a2"),
            ("shopify", "a3"),
            ("tmall", "b1"),
            ("dealer", "b2"),
            ("tmall", "c1"),
        ]
    }

    #[test]
    fn perfect_prediction() {
        let t = tiny();
        let labels = ["x", "x", "x", "y", "y", "z"];
        let pred: Vec<_> = keys()
            .into_iter()
            .zip(labels)
            .map(|((c, o), l)| (c, o, l))
            .collect();
        let s = score(&t, pred);
        // C(3,2) + C(2,2) = 4 true pairs.
        assert_eq!(
            (s.true_pairs, s.predicted_pairs, s.correct_pairs),
            (4, 4, 4)
        );
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
        assert_eq!(
            (s.orders, s.customers_found, s.persons, s.unmatched_orders),
            (6, 3, 3, 0)
        );
    }

    #[test]
    fn merge_all_and_singletons() {
        let t = tiny();
        let s = score(&t, keys().into_iter().map(|(c, o)| (c, o, "all")));
        // C(6,2) = 15 predicted pairs, 4 of them correct.
        assert_eq!((s.predicted_pairs, s.correct_pairs), (15, 4));
        assert_eq!(s.recall, 1.0);
        assert!((s.precision - 4.0 / 15.0).abs() < 1e-12);
        assert!((s.f1 - 2.0 * (4.0 / 15.0) / (1.0 + 4.0 / 15.0)).abs() < 1e-12);
        assert_eq!(s.customers_found, 1);

        let labels = ["1", "2", "3", "4", "5", "6"];
        let s = score(
            &t,
            keys().into_iter().zip(labels).map(|((c, o), l)| (c, o, l)),
        );
        assert_eq!((s.predicted_pairs, s.correct_pairs), (0, 0));
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 0.0, 0.0));
    }

    #[test]
    fn partial_and_unmatched() {
        let t = tiny();
        // a1,a2 together; a3 with b1 (wrong); b2 and c1 missing; one unknown
        // order and one repeat.
        let pred = vec![
            ("tmall", "a1", "p"),
            ("jd", "a2", "p"),
            ("shopify", "a3", "q"),
            ("tmall", "b1", "q"),
            ("tmall", "zzz", "p"),
            ("jd", "a2", "q"),
            ("jd", "a1", "p"),
        ];
        let s = score(&t, pred);
        assert_eq!(s.orders, 4);
        assert_eq!(s.unmatched_orders, 3);
        assert_eq!(
            (s.true_pairs, s.predicted_pairs, s.correct_pairs),
            (4, 2, 1)
        );
        assert_eq!((s.precision, s.recall), (0.5, 0.25));
        assert_eq!(s.customers_found, 2);
    }

    #[test]
    fn csv_parsing() {
        let recs = parse_csv("a,b\n\"x,1\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",z").unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].1, vec!["x,1", "say \"hi\""]);
        assert_eq!(
            recs[2],
            (3, vec!["multi\nline".to_string(), "z".to_string()])
        );
        assert!(parse_csv("\"open").is_err());
    }

    #[test]
    fn truth_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "channel,order_id,person,trap\ntmall,1,7,\njd,1,8,masked_phone\n",
        )
        .unwrap();
        let t = Truth::read_csv(&path).unwrap();
        assert_eq!(
            (
                t.person("tmall", "1"),
                t.person("jd", "1"),
                t.person("pdd", "1")
            ),
            (Some(7), Some(8), None)
        );
        assert_eq!(t.trap("jd", "1"), Some("masked_phone"));
        std::fs::write(&path, "channel,order_id,person,trap\ntmall,1,x,\n").unwrap();
        assert!(matches!(
            Truth::read_csv(&path),
            Err(Error::Truth { line: 2, .. })
        ));
        std::fs::write(
            &path,
            "channel,order_id,person,trap\ntmall,1,1,\ntmall,1,2,\n",
        )
        .unwrap();
        assert!(matches!(
            Truth::read_csv(&path),
            Err(Error::Truth { line: 3, .. })
        ));
        std::fs::write(&path, "nope\n").unwrap();
        assert!(Truth::read_csv(&path).is_err());
    }

    #[test]
    fn linkable_pairs_follow_each_persons_own_identifiers() {
        let mut truth = Truth::default();
        for (id, person) in [("1", 1), ("2", 1), ("3", 1), ("4", 2), ("5", 2)] {
            truth.insert("c", id, person, None);
        }
        // 1-2 share key 10 (person 1 only); 3 shares key 20 with person 2's
        // order 4 (a family device): not linkable; 4-5 share phone 30 which
        // person 1 also held: still links person 2's orders.
        let orders = vec![
            ("c", "1", "A", vec![(10, false), (30, true)]),
            ("c", "2", "A", vec![(10, false)]),
            ("c", "3", "B", vec![(20, false)]),
            ("c", "4", "C", vec![(20, false), (30, true)]),
            ("c", "5", "D", vec![(30, true)]),
        ];
        let s = score_linkable(&truth, &orders);
        assert_eq!((s.linkable_pairs, s.found_pairs), (2, 1));
        assert_eq!(s.recall, 0.5);
    }
}
