//! Values that link nobody: refused at ingest, or shared by several people.

use super::*;

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
