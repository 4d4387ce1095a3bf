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

#[test]
fn shared_identifiers_link_orders_of_one_person() {
    let mut h = Harness::new();
    h.apply(&[
        O {
            unionid: Some("o6_bmUNION0000000001"),
            phone: Some("13812345678"),
            ..o("a", 1)
        },
        O {
            phone: Some("+86 138-1234-5678"),
            email: Some("Li@QQ.com"),
            ..o("b", 2)
        },
        O {
            email: Some("li@qq.com"),
            ..o("c", 3)
        },
        O {
            email: Some("other@qq.com"),
            ..o("d", 3)
        },
    ]);
    assert!(h.same("a", "b") && h.same("b", "c"));
    assert!(!h.same("a", "d"));
    assert_eq!(h.graph.customers(), 2);
}

#[test]
fn zero_device_id_links_nobody() {
    let mut h = Harness::new();
    let zero = "00000000-0000-0000-0000-000000000000";
    h.apply(&[
        O {
            device: Some(zero),
            unionid: Some("o6_bmPERSON_A_000001"),
            ..o("a", 1)
        },
        O {
            device: Some(zero),
            unionid: Some("o6_bmPERSON_B_000002"),
            ..o("b", 1)
        },
        O {
            device: Some(zero),
            ..o("c", 2)
        },
    ]);
    assert!(!h.same("a", "b") && !h.same("a", "c") && !h.same("b", "c"));
    let refused: Vec<_> = h.graph.refused_values().collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (
            refused[0].value.as_str(),
            refused[0].why,
            refused[0].order_count()
        ),
        (zero, Refusal::Placeholder, 3)
    );
}

/// Refused values, as the `shared_identifiers` table lists them.
fn refused_rows(h: &Harness) -> Vec<(String, Refusal, u64, i64, i64)> {
    let mut rows: Vec<_> = h
        .graph
        .refused_values()
        .map(|r| {
            (
                r.value.clone(),
                r.why,
                r.order_count(),
                r.first_seen,
                r.last_seen,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// A refused value keeps its orders through a checkpoint, whether they are
/// few (kept in a vector) or many (a bitmap), and counts later ones alike.
#[test]
fn refused_values_keep_their_orders_through_a_checkpoint() {
    let zero = "00000000-0000-0000-0000-000000000000";
    let ids: Vec<String> = (0..140).map(|i| format!("p{i}")).collect();
    let mut orders: Vec<O> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| O {
            phone: Some("13800000000"),
            ..o(id.as_str(), i as i64)
        })
        .collect();
    orders.push(O {
        device: Some(zero),
        ..o("z", 7)
    });
    let mut live = Harness::new();
    live.apply(&orders);
    let mut loaded = reloaded(&live);
    assert_eq!(refused_rows(&loaded), refused_rows(&live));
    assert_eq!(
        refused_rows(&live).iter().map(|r| r.2).collect::<Vec<_>>(),
        [140, 1],
        "the phone (+86...) sorts before the zero device id"
    );
    let later = [O {
        phone: Some("13800000000"),
        ..o("later", 200)
    }];
    live.apply(&later);
    loaded.apply(&later);
    assert_eq!(refused_rows(&loaded), refused_rows(&live));
    assert_eq!(refused_rows(&live)[0].2, 141);
}

#[test]
fn placeholder_phone_links_nobody() {
    let mut h = Harness::new();
    h.apply(&[
        O {
            channel: "dealer",
            phone: Some("13800000000"),
            ..o("a", 1)
        },
        O {
            channel: "dealer",
            phone: Some("138-0000-0000"),
            ..o("b", 1)
        },
    ]);
    assert!(!h.same("a", "b"));
    let refused: Vec<_> = h.graph.refused_values().collect();
    assert_eq!(
        (refused[0].value.as_str(), refused[0].why),
        ("+8613800000000", Refusal::Placeholder)
    );
}

#[test]
fn blocklisted_email_links_nobody() {
    let blocklist = Blocklist::new([(IdentityKind::Email, "Fake@QQ.com")], Region::CN);
    let mut h = Harness::with(IdentityConfig {
        blocklist,
        ..Default::default()
    });
    h.apply(&[
        O {
            email: Some("fake@qq.com"),
            ..o("a", 1)
        },
        O {
            email: Some("FAKE@qq.com "),
            ..o("b", 2)
        },
    ]);
    assert!(!h.same("a", "b"));
}

#[test]
fn value_seen_with_many_people_becomes_shared_and_unlinks() {
    let mut h = Harness::new();
    // A clerk's number not caught by any pattern, typed for many buyers.
    let unions: Vec<String> = (0..8).map(|i| format!("o6_bmBUYER{i:010}")).collect();
    let ids: Vec<String> = (0..8).map(|i| format!("x{i}")).collect();
    let orders: Vec<O> = (0..8)
        .map(|i| O {
            phone: Some("13512340000"),
            unionid: Some(unions[i].as_str()),
            ..o(ids[i].as_str(), i as i64)
        })
        .collect();
    // Two unionIDs are two people, even a day apart; the phone still
    // links each one's orders.
    h.apply(&orders[..2]);
    assert!(!h.same("x0", "x1"));
    assert!(h.graph.shared_identifiers().next().is_none());
    let stats = h.apply(&orders[2..]);
    assert_eq!(stats.newly_shared, 1);
    let shared: Vec<_> = h.graph.shared_identifiers().collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].1, "+8613512340000");
    assert_eq!(h.graph.customers(), 8);
}

/// Two orders linked only by a phone that later turns out shared become
/// two customers, even though the phone was their MCID's anchor: the one
/// MCID is not kept by both.
#[test]
fn an_anchor_that_becomes_shared_splits_its_customer_in_two() {
    let mut h = Harness::new();
    let unions: Vec<String> = (0..3).map(|i| format!("o6_bmCROWD{i:010}")).collect();
    let ids: Vec<String> = (0..5).map(|i| format!("y{i}")).collect();
    let orders: Vec<O> = (0..5)
        .map(|i| O {
            channel: ["tmall", "jd", "miniprogram", "miniprogram", "miniprogram"][i],
            phone: Some("13512349999"),
            account: (i < 2).then(|| ids[i].as_str()),
            unionid: unions.get(i.wrapping_sub(2)).map(String::as_str),
            ..o(ids[i].as_str(), i as i64)
        })
        .collect();
    h.apply(&orders[..2]);
    assert!(h.same("y0", "y1"));
    let stats = h.apply(&orders[2..]);
    assert_eq!(stats.newly_shared, 1);
    assert!(!h.same("y0", "y1"));
    assert_eq!(h.graph.customers(), 5);
}

/// The same person on every channel, with an account on each: accounts
/// of several channels are one person's, not a crowd's.
#[test]
fn one_phone_with_an_account_on_every_channel_is_one_person() {
    let mut h = Harness::new();
    let channels = ["tmall", "jd", "pdd", "douyin", "miniprogram", "shopify"];
    let ids: Vec<String> = (0..6).map(|i| format!("z{i}")).collect();
    let orders: Vec<O> = (0..6)
        .map(|i| O {
            channel: channels[i],
            phone: Some("13512348888"),
            account: Some(ids[i].as_str()),
            ..o(ids[i].as_str(), i as i64)
        })
        .collect();
    h.apply(&orders);
    assert_eq!(h.graph.customers(), 1);
    assert!(h.graph.shared_identifiers().next().is_none());
}

#[test]
fn family_device_does_not_merge_its_users() {
    let mut h = Harness::new();
    let ipad = "6d92078a-8246-4ba4-ae5b-76104861e7dc";
    h.apply(&[
        O {
            channel: "miniprogram",
            device: Some(ipad),
            unionid: Some("o6_bmMOTHER00000001"),
            ..o("m1", 1)
        },
        O {
            channel: "miniprogram",
            device: Some(ipad),
            unionid: Some("o6_bmCHILD000000002"),
            ..o("k1", 2)
        },
        O {
            channel: "miniprogram",
            device: Some(ipad),
            ..o("x", 3)
        },
        O {
            channel: "miniprogram",
            unionid: Some("o6_bmMOTHER00000001"),
            ..o("m2", 4)
        },
    ]);
    assert!(!h.same("m1", "k1"));
    assert!(!h.same("x", "m1") && !h.same("x", "k1"));
    assert!(h.same("m1", "m2"));
}

#[test]
fn family_device_with_masked_phones_of_two_people_links_nobody() {
    let mut h = Harness::new();
    let ipad = "6d92078a-8246-4ba4-ae5b-76104861e7dc";
    h.apply(&[
        O {
            channel: "miniprogram",
            device: Some(ipad),
            unionid: Some("o6_bmMOTHER00000001"),
            phone: Some("13812345678"),
            ..o("m1", 1)
        },
        O {
            channel: "douyin",
            device: Some(ipad),
            account: Some("dy_kid"),
            phone: Some("139****4321"),
            ..o("k1", 2)
        },
    ]);
    assert!(!h.same("m1", "k1"));
    // The same person on both channels: the masked phone agrees.
    let mut h = Harness::new();
    h.apply(&[
        O {
            channel: "miniprogram",
            device: Some(ipad),
            unionid: Some("o6_bmMOTHER00000001"),
            phone: Some("13812345678"),
            ..o("m1", 1)
        },
        O {
            channel: "douyin",
            device: Some(ipad),
            account: Some("dy_mum"),
            phone: Some("138****5678"),
            ..o("m2", 2)
        },
    ]);
    assert!(h.same("m1", "m2"));
}

#[test]
fn several_accounts_on_one_device_behind_one_phone_are_one_person() {
    let mut h = Harness::new();
    let phone = "aaaaaaaa-8246-4ba4-ae5b-76104861e7dc";
    h.apply(&[
        O {
            channel: "douyin",
            device: Some(phone),
            account: Some("dy_1"),
            phone: Some("138****5678"),
            ..o("a", 1)
        },
        O {
            channel: "douyin",
            device: Some(phone),
            account: Some("dy_2"),
            phone: Some("138****5678"),
            ..o("b", 4)
        },
    ]);
    assert!(h.same("a", "b"));
}

#[test]
fn two_accounts_of_one_channel_on_one_device_stay_apart_past_the_listed_channels() {
    let device = "bbbbbbbb-8246-4ba4-ae5b-76104861e7dc";
    let on_device = |channel, account, id, day| O {
        channel,
        device: Some(device),
        account: Some(account),
        ..o(id, day)
    };
    for listed_full in [false, true] {
        let harness = || {
            let mut h = Harness::new();
            if listed_full {
                // Every channel number taken: new accounts' scopes are hashed.
                h.graph.scopes = (0..SCOPE_UNLISTED).map(|n| n.to_string().into()).collect();
            }
            h
        };
        let mut h = harness();
        h.apply(&[
            on_device("douyin", "dy_1", "a", 1),
            on_device("douyin", "dy_2", "b", 2),
            on_device("tmall", "tb_1", "c", 3),
        ]);
        let unlisted = h.graph.idents.iter().filter(|n| n.scope == SCOPE_UNLISTED);
        assert_eq!(unlisted.count(), if listed_full { 3 } else { 0 });
        assert!(!h.same("a", "b"), "listed_full {listed_full}");
        // Accounts of two channels on one device do not clash.
        let mut h = harness();
        h.apply(&[
            on_device("douyin", "dy_1", "a", 1),
            on_device("tmall", "tb_1", "c", 2),
        ]);
        assert!(h.same("a", "c"), "listed_full {listed_full}");
    }
}

#[test]
fn a_senders_device_links_whatever_recipients_phones_the_orders_carry() {
    let device = "cccccccc-8246-4ba4-ae5b-76104861e7dc";
    let gift = |channel, account, phone, id, day| O {
        channel,
        device: Some(device),
        account: Some(account),
        phone: Some(phone),
        ..o(id, day)
    };
    let (h, _) = increment_against_at_once(
        &[
            gift("tmall", "tb_sender", "138****1111", "t1", 1),
            gift("tmall", "tb_sender", "139****2222", "t2", 2),
            gift("pdd", "pdd_sender", "138****1111", "p1", 3),
        ],
        &[
            // The sender's own number (139…2222) shows on each account.
            gift("pdd", "pdd_sender", "139****2222", "p2", 4),
            gift("pdd", "pdd_sender", "186****3333", "p3", 4),
            // A second Douyin account for a new-customer coupon, same number.
            gift("douyin", "dy_1", "139****2222", "d1", 5),
            gift("douyin", "dy_2", "139****2222", "d2", 6),
        ],
    );
    for other in ["t2", "p1", "p2", "p3", "d1", "d2"] {
        assert!(h.same("t1", other), "{other}");
    }
}

#[test]
fn phone_signatures_read_masked_and_full_numbers() {
    assert_eq!(phone_signature("138****5678"), Some(1_385_678));
    assert_eq!(phone_signature("138 **** 5678"), Some(1_385_678));
    assert_eq!(phone_signature("+86 138-1234-5678"), Some(1_385_678));
    assert_eq!(phone_signature("13800138000-1234"), None);
    assert_eq!(phone_signature("1****5678"), None);
    assert_eq!(phone_signature("+852 5404 6490"), None);
}

#[test]
fn a_device_used_by_one_person_links_across_channels() {
    let mut h = Harness::new();
    let phone_device = "11111111-2222-3333-4444-555555555555";
    h.apply(&[
        O {
            channel: "douyin",
            account: Some("dy_77"),
            device: Some(phone_device),
            ..o("d1", 1)
        },
        O {
            channel: "miniprogram",
            unionid: Some("o6_bmSOLO0000000001"),
            device: Some(phone_device),
            ..o("w1", 2)
        },
    ]);
    assert!(h.same("d1", "w1"));
}

#[test]
fn recycled_phone_keeps_earlier_orders_with_earlier_owner() {
    let mut h = Harness::new();
    let p = "13912340001";
    h.apply(&[
        O {
            email: Some("old.owner@163.com"),
            phone: Some(p),
            ..o("x1", 1)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("x2", 30)
        },
        O {
            email: Some("new.owner@qq.com"),
            phone: Some(p),
            ..o("y1", 200)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("y2", 210)
        },
    ]);
    assert!(h.same("x1", "x2"));
    assert!(h.same("y1", "y2"));
    assert!(!h.same("x1", "y1"));
    // The evidence says the phone is split between two customers.
    let x1 = h.numbers["shopify:x1"];
    let edges: Vec<_> = h.graph.order_identifiers(x1).collect();
    assert!(
        edges.contains(&(IdentityKind::Phone, "+8613912340001", Edge::Split)),
        "{edges:?}"
    );
}

#[test]
fn a_phone_typed_in_a_store_makes_no_customer_by_itself() {
    let shop = "13912340077";
    let mut h = Harness::new();
    let walk_in = |id, day| O {
        channel: "dealer",
        phone: Some(shop),
        ..o(id, day)
    };
    h.apply(&[walk_in("w1", 1), walk_in("w2", 3), walk_in("w3", 9)]);
    assert!(!h.same("w1", "w2") && !h.same("w2", "w3") && !h.same("w1", "w3"));
    // The phone and one delivery address together are one buyer's.
    let home = |id, day, ship| O {
        ship: Some(ship),
        ..walk_in(id, day)
    };
    h.apply(&[
        home("h1", 30, "广东省东莞市南城区鸿福路123号 8栋2302"),
        home("h2", 31, "南城区鸿福路１２３号8栋2302"),
        home("h3", 32, "东莞市南城区鸿福路125号3栋101"),
    ]);
    assert!(h.same("h1", "h2") && !h.same("h1", "h3") && !h.same("h1", "w1"));
    // A member card still links its holder's store orders.
    h.apply(&[
        O {
            account: Some("card-88"),
            ..walk_in("c1", 12)
        },
        O {
            account: Some("card-88"),
            ..walk_in("c2", 20)
        },
    ]);
    assert!(h.same("c1", "c2") && !h.same("c1", "w3"));
}

#[test]
fn a_store_order_joins_who_uses_its_phone_elsewhere() {
    let p = "13912340078";
    let mut h = Harness::new();
    h.apply(&unrelated());
    let store = |id, day| O {
        channel: "dealer",
        phone: Some(p),
        ..o(id, day)
    };
    h.apply(&[store("d1", 1), store("d2", 5)]);
    assert!(!h.same("d1", "d2"));
    // The number's owner shows up online: the walk-in orders were theirs.
    let owner = O {
        channel: "tmall",
        account: Some("tb-owner"),
        phone: Some(p),
        ..o("t1", 8)
    };
    h.apply(&[owner]);
    assert!(h.same("d1", "t1") && h.same("d2", "t1"));
    // A later store order joins them, by increment as at once.
    let earlier = [store("d1", 1), store("d2", 5), owner];
    let (h, _) = increment_against_at_once(&earlier, &[store("d3", 12)]);
    assert!(h.same("d3", "t1"));
}

#[test]
fn a_household_landline_links_nobody() {
    let home = "010-8918 1887";
    let on = |channel, account, id, day| O {
        channel,
        account: Some(account),
        phone: Some(home),
        ..o(id, day)
    };
    // Two Tmall accounts behind one fixed line: a household.
    let (h, _) = increment_against_at_once(
        &[
            on("tmall", "tb-mother", "m1", 1),
            on("jd", "jd-son", "s1", 4),
        ],
        &[
            on("tmall", "tb-son", "s2", 9),
            on("douyin", "dy-mother", "m2", 12),
        ],
    );
    assert!(!h.same("m1", "s1") && !h.same("m1", "s2") && !h.same("s1", "m2"));
    // One account per channel: one person who orders with the home phone.
    let (h, _) = increment_against_at_once(
        &[
            on("tmall", "tb-only", "a1", 1),
            on("jd", "jd-only", "a2", 4),
        ],
        &[on("douyin", "dy-only", "a3", 9)],
    );
    assert!(h.same("a1", "a2") && h.same("a2", "a3"));
}

#[test]
fn a_reassigned_numbers_new_holder_on_the_same_platform_is_another_person() {
    let p = "13912340079";
    let on = |account, id, day| O {
        channel: "jd",
        account: Some(account),
        phone: Some(p),
        ..o(id, day)
    };
    // Quiet for four months, then another JD account with the number.
    let (h, _) = increment_against_at_once(
        &[on("jd-old", "a1", 1), on("jd-old", "a2", 20)],
        &[on("jd-new", "b1", 140), on("jd-new", "b2", 150)],
    );
    assert!(h.same("a1", "a2") && h.same("b1", "b2"));
    assert!(!h.same("a1", "b1"));
    // A second account while the number is in use is the same person's.
    let (h, _) = increment_against_at_once(
        &[on("jd-old", "a1", 1), on("jd-old", "a2", 20)],
        &[on("jd-second", "c1", 25)],
    );
    assert!(h.same("a1", "c1"));
}

#[test]
fn an_unpaid_order_does_not_take_over_a_phone() {
    let mut h = Harness::new();
    let p = "13912340002";
    h.apply(&[
        O {
            email: Some("owner@163.com"),
            phone: Some(p),
            ..o("a1", 1)
        },
        O {
            email: Some("stranger@qq.com"),
            phone: Some(p),
            valid: false,
            ..o("s1", 100)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("a2", 101)
        },
    ]);
    assert!(h.same("a1", "a2"));
    assert!(!h.same("a1", "s1"));
}

#[test]
fn several_accounts_on_one_phone_at_once_are_one_person() {
    // The new-customer-coupon pattern: fresh accounts, one phone, days apart.
    let mut h = Harness::new();
    let p = "13912340003";
    let orders: Vec<O> = [("c1", "pdd-a", 1), ("c2", "pdd-b", 3), ("c3", "pdd-c", 9)]
        .into_iter()
        .map(|(id, account, day)| O {
            channel: "pdd",
            account: Some(account),
            phone: Some(p),
            ..o(id, day)
        })
        .collect();
    h.apply(&orders);
    assert!(h.same("c1", "c2") && h.same("c2", "c3"));
}

/// Two real emails are two people, however close in time: a phone seen
/// with two of them links neither to the other.
#[test]
fn two_emails_on_one_phone_are_two_people() {
    let mut h = Harness::new();
    let p = "13912340004";
    h.apply(&[
        O {
            email: Some("first@qq.com"),
            phone: Some(p),
            ..o("e1", 1)
        },
        O {
            email: Some("second@163.com"),
            phone: Some(p),
            ..o("e2", 3)
        },
        O {
            email: Some("first@qq.com"),
            ..o("e3", 20)
        },
    ]);
    assert!(!h.same("e1", "e2"));
    assert!(h.same("e1", "e3"));
}

/// A couple sharing one phone, each with their own unionID, ordering in
/// turn: two customers, each keeping their own orders.
#[test]
fn a_couple_sharing_a_phone_stays_two_people() {
    let mut h = Harness::new();
    let p = "13698765432";
    let (his, hers) = ("o6_bmHIS00000000000001", "o6_bmHERS0000000000001");
    let ids: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    let orders: Vec<O> = (0..12)
        .map(|i| O {
            channel: "miniprogram",
            unionid: Some(if i % 2 == 0 { his } else { hers }),
            phone: Some(p),
            ..o(ids[i].as_str(), 3 * i as i64)
        })
        .collect();
    h.apply(&orders);
    assert_eq!(h.graph.customers(), 2);
    assert!(h.same("k0", "k10") && h.same("k1", "k11") && !h.same("k0", "k1"));
}

/// A number handed to a stranger after 45 quiet days, whose first orders
/// carry nothing but the number: they go with the stranger's later orders
/// that show their own unionID, not with the old owner.
#[test]
fn a_recycled_numbers_new_holder_keeps_their_first_bare_orders() {
    let mut h = Harness::new();
    let p = "13712345670";
    h.apply(&[
        O {
            channel: "miniprogram",
            unionid: Some("o6_bmOLDOWNER000000001"),
            phone: Some(p),
            ..o("old1", 1)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("old2", 40)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("new1", 85)
        },
        O {
            channel: "jd",
            account: Some("jd-newholder"),
            phone: Some(p),
            ..o("new2", 90)
        },
        O {
            channel: "miniprogram",
            unionid: Some("o6_bmNEWHOLDER00000001"),
            phone: Some(p),
            ..o("new3", 120)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("new4", 150)
        },
    ]);
    assert!(h.same("old1", "old2"));
    assert!(h.same("new1", "new2") && h.same("new2", "new3") && h.same("new3", "new4"));
    assert!(!h.same("old1", "new1"));
}

/// An owner who shows up again after a quiet spell takes back what was
/// held and goes on as before: a bare order right after joins the owner,
/// and a partner who takes the phone over days later takes nothing back.
#[test]
fn an_owner_back_after_a_silence_keeps_the_next_orders() {
    let mut h = Harness::new();
    let p = "13712345671";
    let mine = "o6_bmOWNERBACK0000001";
    h.apply(&[
        O {
            channel: "miniprogram",
            unionid: Some(mine),
            phone: Some(p),
            ..o("a1", 0)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("x1", 40)
        },
        O {
            channel: "miniprogram",
            unionid: Some(mine),
            phone: Some(p),
            ..o("a2", 41)
        },
        O {
            channel: "dealer",
            phone: Some(p),
            ..o("y1", 50)
        },
        O {
            channel: "miniprogram",
            unionid: Some("o6_bmPARTNER000000001"),
            phone: Some(p),
            ..o("b1", 55)
        },
    ]);
    assert!(h.same("a1", "x1") && h.same("a1", "y1"));
    assert!(!h.same("a1", "b1"));
}

/// A reseller: one mini-program account, one phone in two spellings, 120
/// signed orders over a year, a few placeholder emails typed to get past
/// the form. However many orders, addresses or fillers, one person.
#[test]
fn a_heavy_buyer_stays_one_customer() {
    let mut h = Harness::new();
    let ids: Vec<String> = (0..120).map(|i| format!("r{i}")).collect();
    let fillers = [
        "123@qq.com",
        "a@a.com",
        "none@none.com",
        "test@qq.com",
        "111111@qq.com",
    ];
    let orders: Vec<O> = (0..120)
        .map(|i| O {
            channel: "miniprogram",
            account: Some("oABCD-openid-reseller"),
            phone: Some(if i % 3 == 0 {
                "+8613794500995"
            } else {
                "13794500995"
            }),
            email: (i % 7 == 0).then(|| fillers[i % fillers.len()]),
            ..o(ids[i].as_str(), 3 * i as i64)
        })
        .collect();
    h.apply(&orders);
    assert_eq!(h.graph.customers(), 1);
    assert!(h.graph.shared_identifiers().next().is_none());
}

#[test]
fn merge_keeps_the_older_mcid_and_records_an_alias() {
    let mut h = Harness::new();
    h.apply(&[O {
        unionid: Some("o6_bmMERGE000000001"),
        ..o("a", 1)
    }]);
    h.apply(&[O {
        phone: Some("13700001111"),
        ..o("b", 5)
    }]);
    let (ma, mb) = (h.mcid("a"), h.mcid("b"));
    assert_ne!(ma, mb);
    let stats = h.apply(&[O {
        unionid: Some("o6_bmMERGE000000001"),
        phone: Some("137 0000 1111"),
        ..o("c", 6)
    }]);
    assert_eq!(stats.retired, 1);
    assert_eq!(h.mcid("b"), ma);
    assert_eq!(h.mcid("c"), ma);
    assert_eq!(
        h.graph.aliases(),
        &[Alias {
            old: mb,
            new: ma,
            at: 0,
            reason: "merge",
            via: Some((IdentityKind::Phone, "+8613700001111".into())),
        }]
    );
    assert_eq!(h.graph.current_mcid(mb), Some(ma));
    // A customer keeps its MCID as orders arrive.
    h.apply(&[O {
        phone: Some("13700001111"),
        ..o("d", 9)
    }]);
    assert_eq!(h.mcid("d"), ma);
    assert_eq!(h.mcid("a"), ma);
}

#[test]
fn every_order_gets_an_mcid_even_without_identifiers() {
    let mut h = Harness::new();
    h.apply(&[
        o("bare1", 1),
        o("bare2", 1),
        O {
            phone: Some("138****5678"),
            ..o("masked", 2)
        },
    ]);
    assert_eq!(h.graph.customers(), 3);
    assert!(!h.same("bare1", "bare2"));
}

#[test]
fn a_status_update_that_changes_identifiers_can_split() {
    let mut h = Harness::new();
    h.apply(&[
        O {
            email: Some("a@qq.com"),
            ..o("a1", 1)
        },
        O {
            email: Some("a@qq.com"),
            ..o("a2", 2)
        },
    ]);
    assert!(h.same("a1", "a2"));
    h.apply(&[O {
        email: Some("b@qq.com"),
        ..o("a2", 2)
    }]);
    assert!(!h.same("a1", "a2"));
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

/// A graph loaded from a checkpoint knows which identifiers are shared: a
/// later order carrying one joins nobody through it.
#[test]
fn a_loaded_graph_still_refuses_a_shared_identifier() {
    let mut live = Harness::new();
    live.apply(&unrelated());
    let unions: Vec<String> = (0..9).map(|i| format!("o6_bmBUYER{i:010}")).collect();
    let ids: Vec<String> = (0..9).map(|i| format!("x{i}")).collect();
    let orders: Vec<O> = (0..9)
        .map(|i| O {
            phone: Some("13512340000"),
            unionid: Some(unions[i].as_str()),
            ..o(ids[i].as_str(), 10 + i as i64)
        })
        .collect();
    assert_eq!(live.apply(&orders[..8]).newly_shared, 1);
    let mut loaded = reloaded(&live);
    for h in [&mut live, &mut loaded] {
        h.apply(&orders[8..]);
        assert!((0..8).all(|i| !h.same("x8", &ids[i])));
    }
}

/// An order moved earlier in time leaves its component's latest order
/// exact, so a live graph and the same graph loaded from a checkpoint
/// decide alike whether a later order joins its customer directly.
#[test]
fn a_retimed_order_keeps_live_and_loaded_graphs_deciding_alike() {
    let mut live = Harness::new();
    live.apply(&unrelated());
    let a = O {
        phone: Some("13812345678"),
        ..o("a", 100)
    };
    live.apply(&[a]);
    live.apply(&[O { day: 50, ..a }]);

    let mut loaded = reloaded(&live);
    assert_eq!(live.graph.comp_facts, loaded.graph.comp_facts);

    let b = O {
        phone: Some("13812345678"),
        ..o("b", 70)
    };
    assert_eq!(live.apply(&[b]).joined, 1);
    assert_eq!(loaded.apply(&[b]).joined, 1);
    assert!(live.same("a", "b"));
    assert_eq!(live.mcid("b"), loaded.mcid("b"));
}

/// A small deterministic pseudo-random stream for shuffles.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// One generated order.
struct Row {
    id: String,
    day: i64,
    valid: bool,
    phone: Option<String>,
    email: Option<String>,
    unionid: Option<String>,
    device: Option<String>,
}

fn population(mut seed: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    for i in 0..400 {
        let person = lcg(&mut seed) % 60;
        let phone = match lcg(&mut seed) % 5 {
            0 => None,
            1 => Some("13800000000".to_string()),
            // A few phones are shared by two people (recycled).
            2 => Some(format!("139{:08}", person / 2)),
            _ => Some(format!("137{:08}", person)),
        };
        let email = lcg(&mut seed)
            .is_multiple_of(3)
            .then(|| format!("p{person}@qq.com"));
        let unionid = lcg(&mut seed)
            .is_multiple_of(4)
            .then(|| format!("o6_bmPERSON{person:08}"));
        let device = match lcg(&mut seed) % 4 {
            0 => Some(format!("00000000-0000-0000-0000-{:012}", person / 3)),
            1 => Some("00000000-0000-0000-0000-000000000000".to_string()),
            _ => None,
        };
        let day = (lcg(&mut seed) % 300) as i64;
        let valid = !lcg(&mut seed).is_multiple_of(5);
        rows.push(Row {
            id: format!("o{i}"),
            day,
            valid,
            phone,
            email,
            unionid,
            device,
        });
    }
    rows
}

impl Row {
    fn order(&self) -> O<'_> {
        O {
            id: self.id.as_str(),
            day: self.day,
            valid: self.valid,
            phone: self.phone.as_deref(),
            email: self.email.as_deref(),
            unionid: self.unionid.as_deref(),
            device: self.device.as_deref(),
            ..o("", 0)
        }
    }
}

/// Applies `rows` in the given order, `batch` at a time: the partition and
/// how many orders joined a known customer directly.
fn replay(rows: &[Row], order: &[usize], batch: usize) -> (Vec<Vec<String>>, usize) {
    let mut h = Harness::new();
    let list: Vec<O> = order.iter().map(|&i| rows[i].order()).collect();
    let joined = list.chunks(batch).map(|chunk| h.apply(chunk).joined).sum();
    (h.partition(), joined)
}

#[test]
fn partition_does_not_depend_on_arrival_order_or_batching() {
    let rows = population(7);
    let run = |order: &[usize], batch: usize| replay(&rows, order, batch).0;
    let natural: Vec<usize> = (0..rows.len()).collect();
    let reference = run(&natural, rows.len());
    assert!(
        reference.len() > 20 && reference.len() < rows.len(),
        "a non-trivial partition"
    );
    let mut seed = 42u64;
    for trial in 0..6 {
        let mut shuffled = natural.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (lcg(&mut seed) % (i as u64 + 1)) as usize);
        }
        let batch = [1, 7, 50, 400, 3, 123][trial];
        assert_eq!(
            run(&shuffled, batch),
            reference,
            "trial {trial}, batch {batch}"
        );
    }
}

/// Orders arriving in event time, a few at a time, are mostly a known
/// customer buying again, and join it without re-resolving its component:
/// the customers must be those of resolving all orders at once.
#[test]
fn direct_joins_give_the_customers_of_a_full_resolution() {
    for seed in [7, 8, 9, 10] {
        let rows = population(seed);
        let mut in_time: Vec<usize> = (0..rows.len()).collect();
        in_time.sort_by_key(|&i| (rows[i].day, i));
        let (reference, joined) = replay(&rows, &in_time, rows.len());
        assert_eq!(joined, 0, "a bulk load resolves everything");
        for batch in [1, 4, 25] {
            let (partition, joined) = replay(&rows, &in_time, batch);
            assert_eq!(partition, reference, "seed {seed}, batch {batch}");
            assert!(joined > 50, "seed {seed}, batch {batch}: {joined} joined");
        }
    }
}

/// A returning customer's order that brings a second email (or unionID)
/// could conflict: it is resolved, not joined directly, even though every
/// identifier it links by is that customer's.
#[test]
fn an_order_bringing_a_second_email_is_resolved_not_joined() {
    let mut h = Harness::new();
    h.apply(&unrelated());
    h.apply(&[
        O {
            phone: Some("13812345678"),
            email: Some("a@qq.com"),
            ..o("a1", 1)
        },
        O {
            phone: Some("13812345678"),
            ..o("a2", 2)
        },
    ]);
    let again = O {
        phone: Some("13812345678"),
        email: Some("a@qq.com"),
        ..o("a3", 3)
    };
    assert_eq!(h.apply(&[again]).joined, 1, "both links are the customer's");
    let other = O {
        phone: Some("13812345678"),
        email: Some("b@qq.com"),
        ..o("a4", 4)
    };
    assert_eq!(h.apply(&[other]).joined, 0);
    assert!(!h.same("a1", "a4"), "two emails are two people");
    assert!(h.same("a1", "a3"));
}

/// Two new orders of one batch on a customer's device, each fine alone
/// but together two accounts each with its own (masked) phone: the device
/// becomes shared, as a full resolution says, and neither joins directly.
#[test]
fn new_orders_sharing_an_identifier_are_judged_together() {
    let device = Some("6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");
    let orders = [
        O {
            device,
            ..o("a1", 1)
        },
        O {
            device,
            ..o("a2", 2)
        },
        O {
            device,
            account: Some("shop_b1"),
            phone: Some("138****1111"),
            ..o("b1", 3)
        },
        O {
            device,
            account: Some("shop_b2"),
            phone: Some("139****2222"),
            ..o("b2", 4)
        },
    ];
    let (increments, joined) = increment_against_at_once(&orders[..2], &orders[2..]);
    assert_eq!(joined, 0);
    assert!(!increments.same("a1", "a2"));
    assert!(!increments.same("b1", "b2"));
}

/// Two new orders of one batch, each a returning order of a different
/// customer, share an account new to both: together they are one customer,
/// which neither would find joining its own directly.
#[test]
fn new_orders_linking_two_customers_together_are_resolved() {
    let orders = [
        O {
            phone: Some("13812345678"),
            ..o("c1", 1)
        },
        O {
            phone: Some("13987654321"),
            ..o("d1", 1)
        },
        O {
            phone: Some("13812345678"),
            account: Some("shared-account"),
            ..o("c2", 5)
        },
        O {
            phone: Some("13987654321"),
            account: Some("shared-account"),
            ..o("d2", 6)
        },
    ];
    let (increments, joined) = increment_against_at_once(&orders[..2], &orders[2..]);
    assert_eq!(joined, 0);
    assert!(increments.same("c1", "d1"));
}

/// A phone new in the batch that later orders of the batch find shared
/// (seen with three unionIDs): judging must see it shared, though it was
/// not when the first of them was added, and let that order join the
/// customer its account names, the phone linking nothing.
#[test]
fn an_identifier_found_shared_later_in_the_batch_is_judged_as_shared() {
    let phone = Some("13912340000");
    let unions: Vec<String> = (0..3).map(|i| format!("o6_bmCROWDED00000{i}")).collect();
    let ids: Vec<String> = (0..3).map(|i| format!("z{i}")).collect();
    // More resolved orders than the batch has, so that it is an increment.
    let fillers: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let mut earlier: Vec<O> = fillers.iter().map(|id| o(id, 0)).collect();
    earlier.push(O {
        account: Some("buyer-1"),
        unionid: Some("o6_bmOWNUNIONID00001"),
        ..o("y1", 1)
    });
    let mut batch = vec![O {
        account: Some("buyer-1"),
        phone,
        ..o("n1", 5)
    }];
    batch.extend((0..3).map(|i| O {
        phone,
        unionid: Some(unions[i].as_str()),
        ..o(ids[i].as_str(), 6)
    }));
    let (increments, joined) = increment_against_at_once(&earlier, &batch);
    assert_eq!(joined, 1, "n1 joins y1's customer directly");
    assert!(increments.same("y1", "n1"));
    assert!(!increments.same("z0", "z1") && !increments.same("n1", "z0"));
}

/// Parts normalized on several threads are joined with their values moved.
#[test]
fn appended_inputs_keep_their_values() {
    let mut h = Harness::new();
    let mut parts = [OrderInputs::default(), OrderInputs::default()];
    let orders = [
        O {
            email: Some("a@qq.com"),
            ..o("a", 1)
        },
        O {
            phone: Some("13800000000"),
            ..o("b", 2)
        },
        O {
            email: Some("c@qq.com"),
            ..o("c", 3)
        },
    ];
    for (i, x) in orders.iter().enumerate() {
        let (input, slots) = h.input(x);
        parts[i / 2].push(input, slots);
    }
    let [mut all, second] = parts;
    all.append(second);
    let values: Vec<&str> = all
        .orders
        .iter()
        .flat_map(|(_, held)| held.iter())
        .filter_map(|h| match *h {
            Slot::Id { value, .. } | Slot::Refused { value, .. } => Some(all.text(value)),
            Slot::Empty => None,
        })
        .collect();
    assert_eq!(values, ["a@qq.com", "+8613800000000", "c@qq.com"]);
}

proptest::proptest! {
    /// The ingest path classifies a phone once for both its slot and its
    /// signature: the same answers as asking for each alone.
    #[test]
    fn extract_order_agrees_with_extract_and_phone_signature(
        phone in "[0-9０-９+*\\- ()]{0,18}",
        email in proptest::option::of("[a-zA-Z@.]{0,12}"),
    ) {
        for region in [Region::CN, ordergraph_udfs::parse_region("HK").unwrap()] {
            let raw = RawIdentity {
                channel: "jd",
                account_id: Some("u1"),
                phone: Some(&phone),
                email: email.as_deref(),
                ..Default::default()
            };
            let blocklist = Blocklist::default();
            // Written after text already there, as in a chunk of orders.
            let mut text = String::from("earlier values");
            let (slots, signature) = extract_order(&raw, region, &blocklist, &mut text);
            let slots = slots.map(|slot| slot.map_value(|span| span.of(&text).to_string()));
            proptest::prop_assert_eq!(slots, extract(&raw, region, &blocklist));
            proptest::prop_assert_eq!(signature, phone_signature(&phone));
        }
    }
}

fn shared_phones(h: &Harness) -> Vec<String> {
    h.graph
        .shared_identifiers()
        .filter(|s| s.0 == IdentityKind::Phone)
        .map(|s| s.1.to_string())
        .collect()
}

/// Re-sends the last of `orders` as `resent` (after unrelated orders and
/// the rest), and checks the customers are those of the current versions
/// applied all at once.
fn resend_against_at_once(orders: &[O<'_>], resent: O<'_>) -> Harness {
    let mut h = Harness::new();
    h.apply(&unrelated());
    h.apply(orders);
    h.apply(&[resent]);
    let mut at_once = Harness::new();
    let current = [&unrelated()[..], &orders[..orders.len() - 1], &[resent]].concat();
    at_once.apply(&current);
    assert_eq!(h.partition(), at_once.partition());
    assert_eq!(shared_phones(&h), shared_phones(&at_once));
    h
}

/// An order re-sent with another unionID takes back the unionID it came
/// with: the phone is seen with two unionIDs, not three, so it is not
/// shared and still links each one's orders. A third unionID then shares
/// it.
#[test]
fn a_re_sent_order_takes_back_its_old_identifiers() {
    let unions = [
        "o6_bmRESENT0000000001",
        "o6_bmRESENT0000000002",
        "o6_bmRESENT000000002x",
    ];
    let orders: Vec<O> = ["c1", "c2", "c3"]
        .iter()
        .zip(unions)
        .enumerate()
        .map(|(day, (id, unionid))| O {
            phone: Some("13912340003"),
            unionid: Some(unionid),
            ..o(id, 10 * day as i64)
        })
        .collect();
    let resent = O {
        unionid: Some(unions[1]),
        ..orders[2]
    };
    let mut h = resend_against_at_once(&orders, resent);
    assert!(shared_phones(&h).is_empty());
    assert!(h.same("c2", "c3") && !h.same("c1", "c2"));
    h.apply(&[O {
        phone: Some("13912340003"),
        unionid: Some("o6_bmRESENT0000000004"),
        ..o("c4", 40)
    }]);
    assert_eq!(shared_phones(&h), ["+8613912340003"]);
    assert!(h.same("c2", "c3") && !h.same("c1", "c4"));
}

#[test]
fn bit_sets_list_their_numbers_in_ascending_order() {
    let mut bits = Bits::with_capacity(100);
    let numbers = [130, 0, 63, 64, 7, 63, 200];
    for n in numbers {
        bits.insert(n);
    }
    bits.remove(7);
    // 130 and 200 are past the room asked for: the set grows.
    assert_eq!(bits.iter().collect::<Vec<_>>(), vec![0, 63, 64, 130, 200]);
    assert!(bits.contains(64) && !bits.contains(7) && !bits.contains(1_000));
    assert_eq!(Bits::default().iter().count(), 0);
}
