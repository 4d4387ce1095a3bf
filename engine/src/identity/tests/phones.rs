//! Phones over time and place: recycled and reassigned numbers, store
//! clerks' and household numbers, couples and heavy buyers.

use super::*;

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

/// A heavy buyer whose full number shows up months apart, the platform
/// showing it masked in between, still holds it: a second JD account with
/// the number after the gap is the same person's, not the number's new
/// holder. Masked by another customer, it proves nothing for the owner.
#[test]
fn a_number_still_shown_masked_is_still_its_owners() {
    let p = "13912340079";
    let on = |account, id, day, phone| O {
        channel: "jd",
        account: Some(account),
        phone: Some(phone),
        ..o(id, day)
    };
    let first = [
        on("jd-old", "a1", 1, p),
        on("jd-old", "a2", 40, "139****0079"),
        on("jd-old", "a3", 90, "139****0079"),
        on("jd-old", "a4", 130, "139****0079"),
    ];
    let (h, _) = increment_against_at_once(&first, &[on("jd-second", "c1", 140, p)]);
    assert!(h.same("a1", "c1"));
    // The same number masked on someone else's orders (another JD account,
    // with another email) keeps nothing in use for the owner.
    let elsewhere = |id, day| O {
        email: Some("someone.else@qq.com"),
        ..on("jd-other", id, day, "139****0079")
    };
    let first = [
        on("jd-old", "a1", 1, p),
        elsewhere("e1", 90),
        elsewhere("e2", 130),
    ];
    let (h, _) = increment_against_at_once(&first, &[on("jd-new", "b1", 140, p)]);
    assert!(!h.same("a1", "b1"));
}

#[test]
fn a_reassigned_numbers_new_holder_elsewhere_on_another_platform_is_another_person() {
    let p = "13912340079";
    let jd = |id, day| O {
        channel: "jd",
        account: Some("jd-old"),
        phone: Some(p),
        city: Some("广州市"),
        ..o(id, day)
    };
    let mini = |id, day, city| O {
        channel: "miniprogram",
        account: Some("openid-new"),
        phone: Some(p),
        city: Some(city),
        ..o(id, day)
    };
    // Quiet for four months, then a mini-program buyer in another city.
    let (h, _) = increment_against_at_once(
        &[jd("a1", 1), jd("a2", 20)],
        &[mini("b1", 140, "兰州"), mini("b2", 150, "兰州市")],
    );
    assert!(h.same("a1", "a2") && h.same("b1", "b2"));
    assert!(!h.same("a1", "b1"));
    // In the owner's own city it is the owner's new account.
    let (h, _) =
        increment_against_at_once(&[jd("a1", 1), jd("a2", 20)], &[mini("b1", 140, "广州")]);
    assert!(h.same("a1", "b1"));
    // One who lives in two cities keeps using the number from both.
    let (h, _) = increment_against_at_once(
        &[jd("a1", 1), jd("a2", 20)],
        &[mini("b1", 140, "深圳"), jd("a3", 200)],
    );
    assert!(h.same("a1", "b1") && h.same("a1", "a3"));
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
