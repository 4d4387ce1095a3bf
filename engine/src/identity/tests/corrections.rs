//! Corrections: split, merge, unlink and link, undone, refused when they
//! contradict one another, independent of arrival order and kept by a
//! checkpoint.

use super::*;

impl Harness {
    /// The order key of order `id` (shopify), as corrections name it.
    fn key(&self, id: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(format!("shopify:{id}").as_bytes())
    }

    fn keys(&self, ids: &[&str]) -> Vec<u64> {
        ids.iter().map(|id| self.key(id)).collect()
    }

    /// Puts `corrections` in force; `correction` is the one made or undone.
    fn correct(&mut self, corrections: &[(u64, Correction)], correction: u64) -> ApplyStats {
        let constraints = Constraints::build(corrections).expect("consistent corrections");
        self.graph.set_constraints(constraints, correction, 0)
    }
}

fn identity_key(kind: IdentityKind, value: &str) -> u64 {
    ordergraph_udfs::identity_key(kind, value).expect("a value")
}

/// A couple sharing one phone, with nothing else to tell them apart.
fn couple() -> Vec<O<'static>> {
    ["a", "b", "c", "d"]
        .into_iter()
        .enumerate()
        .map(|(i, id)| O {
            phone: Some("13971829364"),
            ..o(id, i as i64 * 10)
        })
        .collect()
}

#[test]
fn a_split_sets_orders_apart_and_keeps_them_so() {
    let mut h = Harness::new();
    h.apply(&unrelated());
    h.apply(&couple());
    assert!(h.same("a", "b") && h.same("a", "d"), "{:?}", h.partition());
    let before = h.mcid("a");
    let split = Correction::Split {
        moved: h.keys(&["b", "d"]),
        kept: h.keys(&["a", "c"]),
    };
    let stats = h.correct(&[(1, split.clone())], 1);
    assert!(h.same("a", "c") && h.same("b", "d"));
    assert!(!h.same("a", "b"));
    // The side with the earliest order keeps the MCID; nothing is retired.
    assert_eq!(h.mcid("a"), before);
    assert_eq!(stats.retired, 0);
    // A later order with only the shared phone goes with its holder of the
    // moment; the split sides never join again.
    h.apply(&[O {
        phone: Some("13971829364"),
        ..o("e", 45)
    }]);
    assert!(!h.same("a", "b"));
    assert!(h.same("e", "d"));
    // Orders arriving after the correction are held by it too.
    let mut late = Harness::new();
    late.apply(&unrelated());
    late.correct(&[(1, split)], 1);
    late.apply(&couple());
    late.apply(&[O {
        phone: Some("13971829364"),
        ..o("e", 45)
    }]);
    assert_eq!(late.partition(), h.partition());
}

#[test]
fn a_merge_joins_customers_that_share_nothing() {
    let mut h = Harness::new();
    h.apply(&unrelated());
    // One person who changed phone and email.
    h.apply(&[
        O {
            phone: Some("13700000001"),
            email: Some("old@qq.com"),
            ..o("a", 1)
        },
        O {
            phone: Some("13700000001"),
            ..o("b", 20)
        },
        O {
            phone: Some("18600000002"),
            email: Some("new@163.com"),
            ..o("c", 90)
        },
    ]);
    let (first, second) = (h.mcid("a"), h.mcid("c"));
    assert_ne!(first, second);
    let merge = Correction::Merge {
        orders: h.keys(&["a", "b", "c"]),
    };
    let stats = h.correct(&[(7, merge)], 7);
    assert_eq!(stats.retired, 1, "{:?}", h.graph.aliases());
    assert_eq!(h.mcid("c"), first, "the earlier customer keeps its MCID");
    let alias = h.graph.aliases().last().unwrap();
    assert_eq!((alias.old, alias.new), (second, first));
    assert_eq!(alias.reason, "manual_merge");
    assert_eq!(alias.correction, Some(7));
    // Later orders of either side join the one customer.
    h.apply(&[O {
        phone: Some("18600000002"),
        ..o("d", 120)
    }]);
    assert_eq!(h.mcid("d"), first);
    // Undone: the two customers again, each under its MCID of before.
    h.correct(&[], 8);
    assert!(h.same("a", "b") && h.same("c", "d") && !h.same("a", "c"));
    assert_eq!((h.mcid("a"), h.mcid("c")), (first, second));
    assert_eq!(h.graph.current_mcid(second), Some(second));
}

#[test]
fn an_unlinked_value_links_nobody_and_a_linked_one_is_never_shared() {
    let mut h = Harness::new();
    h.apply(&unrelated());
    // A shop's own phone typed on two strangers' online orders.
    let shop = "138 1111 2222";
    h.apply(&[
        O {
            phone: Some(shop),
            account: Some("shopify:alice"),
            ..o("a", 1)
        },
        O {
            phone: Some(shop),
            account: Some("shopify:bob"),
            ..o("b", 2)
        },
    ]);
    assert!(h.same("a", "b"));
    let key = identity_key(IdentityKind::Phone, "+8613811112222");
    h.correct(&[(1, Correction::Unlink { key })], 1);
    assert!(!h.same("a", "b"));
    let shared: Vec<_> = h.graph.shared_identifiers().collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].2, SharedReason::Corrected);
    h.apply(&[O {
        phone: Some(shop),
        ..o("c", 3)
    }]);
    assert!(!h.same("a", "c") && !h.same("b", "c"));
    // Undone, it links again.
    h.correct(&[], 2);
    assert!(h.same("a", "b") && h.same("a", "c"));

    // A coupon hunter's phone with more accounts than one person keeps is
    // found shared; a person says it is theirs.
    let mut h = Harness::new();
    h.apply(&unrelated());
    let accounts: Vec<String> = (0..10).map(|i| format!("shopify:hunter{i}")).collect();
    let ids: Vec<String> = (0..10).map(|i| format!("h{i}")).collect();
    let orders: Vec<O> = (0..10)
        .map(|i| O {
            phone: Some("13511112222"),
            account: Some(&accounts[i]),
            ..o(&ids[i], i as i64)
        })
        .collect();
    h.apply(&orders);
    assert!(!h.same("h0", "h9"), "the phone is found shared");
    let key = identity_key(IdentityKind::Phone, "+8613511112222");
    h.correct(&[(1, Correction::Link { key })], 1);
    assert!(h.same("h0", "h9") && h.same("h0", "h5"));
    assert_eq!(h.graph.shared_identifiers().count(), 0);
    // It stays personal as more accounts come.
    h.apply(&[O {
        phone: Some("13511112222"),
        account: Some("shopify:hunter10"),
        ..o("h10", 20)
    }]);
    assert!(h.same("h0", "h10"));
}

#[test]
fn a_correction_that_contradicts_one_in_force_is_refused() {
    let (a, b, c) = (1u64, 2u64, 3u64);
    let split = Correction::Split {
        moved: vec![a],
        kept: vec![b, c],
    };
    let merge = Correction::Merge { orders: vec![a, c] };
    assert_eq!(
        Constraints::build(&[(1, split.clone()), (2, merge.clone())]),
        Err(Conflict {
            correction: 2,
            with: 1,
            why: "it puts orders that were split apart into one customer",
        })
    );
    // The other way round, the split is refused and the merge named.
    let conflict = Constraints::build(&[(1, merge), (2, split)]).unwrap_err();
    assert_eq!((conflict.correction, conflict.with), (2, 1));
    // Through a chain of merges.
    let chain = [
        (
            1,
            Correction::Merge {
                orders: vec![a, 10],
            },
        ),
        (
            2,
            Correction::Merge {
                orders: vec![10, 11],
            },
        ),
        (
            3,
            Correction::Split {
                moved: vec![11],
                kept: vec![a],
            },
        ),
    ];
    assert_eq!(Constraints::build(&chain).unwrap_err().with, 2);
    let key = 99;
    let conflict = Constraints::build(&[
        (1, Correction::Unlink { key }),
        (2, Correction::Link { key }),
    ])
    .unwrap_err();
    assert_eq!((conflict.correction, conflict.with), (2, 1));
    // Splitting a merged customer again elsewhere is fine.
    assert!(
        Constraints::build(&[
            (1, Correction::Merge { orders: vec![a, b] }),
            (
                2,
                Correction::Split {
                    moved: vec![c],
                    kept: vec![a, b],
                },
            ),
        ])
        .is_ok()
    );
}

/// Corrections over the generated population of the arrival-order test:
/// a split of the largest customer and a merge of two others.
fn corrections_for(h: &Harness) -> Vec<(u64, Correction)> {
    let partition = h.partition();
    let mut by_size: Vec<&Vec<String>> = partition.iter().collect();
    by_size.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let key = |k: &String| xxhash_rust::xxh3::xxh3_64(k.as_bytes());
    let largest = by_size[0];
    assert!(largest.len() >= 4);
    let half = largest.len() / 2;
    vec![
        (
            1,
            Correction::Split {
                moved: largest[..half].iter().map(key).collect(),
                kept: largest[half..].iter().map(key).collect(),
            },
        ),
        (
            2,
            Correction::Merge {
                orders: by_size[1].iter().chain(by_size[2]).map(key).collect(),
            },
        ),
    ]
}

#[test]
fn corrections_do_not_depend_on_arrival_order_or_batching() {
    let rows = increments::population(7);
    let all: Vec<O> = rows.iter().map(|r| r.order()).collect();
    let mut reference = Harness::new();
    reference.apply(&all);
    let corrections = corrections_for(&reference);
    let before = reference.partition();
    reference.correct(&corrections, 2);
    let expected = reference.partition();
    assert_ne!(expected, before, "the corrections change the customers");
    let mut seed = 9u64;
    for (trial, batch) in [1usize, 7, 50, 400, 3].into_iter().enumerate() {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, (increments::lcg(&mut seed) % (i as u64 + 1)) as usize);
        }
        // The corrections come in somewhere in the stream.
        let at = (increments::lcg(&mut seed) as usize) % rows.len();
        let mut h = Harness::new();
        for (k, chunk) in order.chunks(batch).enumerate() {
            if k * batch >= at && h.graph.constraints().is_empty() {
                h.correct(&corrections, 2);
            }
            let chunk: Vec<O> = chunk.iter().map(|&i| rows[i].order()).collect();
            h.apply(&chunk);
        }
        if h.graph.constraints().is_empty() {
            h.correct(&corrections, 2);
        }
        assert_eq!(h.partition(), expected, "trial {trial}, batch {batch}");
        // A checkpoint keeps them: the reloaded graph resolves more orders
        // as the live one does.
        let mut reloaded = reloaded(&h);
        let extra = [O {
            phone: rows[0].phone.as_deref(),
            ..o("late", 400)
        }];
        h.apply(&extra);
        reloaded.apply(&extra);
        assert_eq!(reloaded.partition(), h.partition(), "trial {trial}");
        assert_eq!(reloaded.graph.constraints(), h.graph.constraints());
    }
}
