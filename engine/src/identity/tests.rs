//! One test per identity rule, plus the arrival-order property.

use std::collections::HashMap;

use super::*;

const DAY: i64 = 86_400_000_000;

#[derive(Default, Clone, Copy)]
struct O<'a> {
    channel: &'a str,
    id: &'a str,
    day: i64,
    valid: bool,
    account: Option<&'a str>,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    unionid: Option<&'a str>,
    device: Option<&'a str>,
    ship: Option<&'a str>,
    city: Option<&'a str>,
}

fn o<'a>(id: &'a str, day: i64) -> O<'a> {
    O {
        channel: "shopify",
        id,
        day,
        valid: true,
        ..Default::default()
    }
}

/// Orders of people unrelated to a test's, so that the test's next batch
/// is an increment on a graph and not a bulk load (which joins nothing
/// directly).
fn unrelated() -> Vec<O<'static>> {
    [
        "other-0", "other-1", "other-2", "other-3", "other-4", "other-5",
    ]
    .into_iter()
    .map(|id| o(id, 0))
    .collect()
}

/// Applies `earlier` (after unrelated orders), then `batch` as an
/// increment; checks the customers are those of applying all at once, and
/// returns the graph and how many orders of `batch` joined directly.
fn increment_against_at_once(earlier: &[O<'_>], batch: &[O<'_>]) -> (Harness, usize) {
    let others = unrelated();
    let mut increments = Harness::new();
    increments.apply(&others);
    increments.apply(earlier);
    let joined = increments.apply(batch).joined;
    let mut at_once = Harness::new();
    at_once.apply(&[&others[..], earlier, batch].concat());
    assert_eq!(increments.partition(), at_once.partition());
    (increments, joined)
}

/// Feeds orders to a graph, numbering them by first appearance.
struct Harness {
    graph: IdentityGraph,
    numbers: HashMap<String, u32>,
}

impl Harness {
    fn new() -> Self {
        Self::with(IdentityConfig::default())
    }

    fn with(config: IdentityConfig) -> Self {
        Self {
            graph: IdentityGraph::new(config),
            numbers: HashMap::new(),
        }
    }

    fn apply(&mut self, orders: &[O<'_>]) -> ApplyStats {
        let mut inputs = OrderInputs::default();
        for x in orders {
            let (input, slots) = self.input(x);
            inputs.push(input, slots);
        }
        self.graph.apply(inputs, 0)
    }

    fn input(&mut self, x: &O<'_>) -> (OrderInput, [Slot; 5]) {
        let key = format!("{}:{}", x.channel, x.id);
        let next = self.numbers.len() as u32;
        let order = *self.numbers.entry(key.clone()).or_insert(next);
        let raw = RawIdentity {
            channel: x.channel,
            account_id: x.account,
            phone: x.phone,
            email: x.email,
            wechat_unionid: x.unionid,
            device_id: x.device,
        };
        let input = OrderInput {
            order,
            key: xxhash_rust::xxh3::xxh3_64(key.as_bytes()),
            at: x.day * DAY,
            valid: x.valid,
            phone_sig: x.phone.and_then(phone_signature),
            in_store: self.graph.config().in_store(x.channel),
            place: x
                .ship
                .filter(|_| self.graph.config().in_store(x.channel))
                .map_or(0, place_key),
            city: x.city.map_or(0, city_key),
        };
        let config = self.graph.config();
        (input, extract(&raw, config.region, &config.blocklist))
    }

    fn mcid(&self, id: &str) -> u64 {
        let n = self
            .numbers
            .iter()
            .find(|(k, _)| k.ends_with(&format!(":{id}")))
            .map(|(_, &n)| n);
        self.graph
            .mcid_of_order(n.expect("known order"))
            .expect("every order has an MCID")
    }

    fn same(&self, a: &str, b: &str) -> bool {
        self.mcid(a) == self.mcid(b)
    }

    /// The partition as sets of order ids, independent of MCID values.
    fn partition(&self) -> Vec<Vec<String>> {
        let mut by: HashMap<u64, Vec<String>> = HashMap::new();
        for (k, &n) in &self.numbers {
            by.entry(self.graph.mcid_of_order(n).unwrap())
                .or_default()
                .push(k.clone());
        }
        let mut p: Vec<Vec<String>> = by
            .into_values()
            .map(|mut v| {
                v.sort();
                v
            })
            .collect();
        p.sort();
        p
    }
}

/// The harness's graph written to a checkpoint and read back.
fn reloaded(h: &Harness) -> Harness {
    let mut w = crate::codec::Writer::default();
    h.graph.encode(&mut w);
    let graph = IdentityGraph::decode(
        &mut crate::codec::Reader::new(&w.buf),
        IdentityConfig::default(),
    )
    .unwrap();
    Harness {
        graph,
        numbers: h.numbers.clone(),
    }
}

mod corrections;
mod devices;
mod increments;
mod inputs;
mod mcids;
mod phones;
mod shared;
