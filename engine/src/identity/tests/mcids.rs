//! MCIDs: stable through merges and splits, and alike in a live graph and
//! one loaded from a checkpoint.

use super::*;

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
            correction: None,
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
