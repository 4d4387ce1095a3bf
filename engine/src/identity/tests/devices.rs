//! Devices: one person's across channels, a family's or a sender's shared.

use super::*;

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

/// A reseller's accounts on one phone ship to the same clients' numbers; a
/// relative's account on it uses only the relative's own number. The
/// relative's holder is apart from another small one, so the device is
/// shared, yet the accounts tied by a number they both used stay one
/// customer, and the relative stays apart.
#[test]
fn a_shared_device_links_the_holders_tied_by_a_number() {
    let mut h = Harness::new();
    let device = "cccccccc-8246-4ba4-ae5b-76104861e7dc";
    let clients = ["138****1111", "139****2222", "137****3333", "136****4444"];
    let mut orders = Vec::new();
    let ids: Vec<String> = (0..12).map(|i| format!("r{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        orders.push(O {
            channel: "tmall",
            device: Some(device),
            account: Some("tb_main"),
            phone: Some(clients[i % clients.len()]),
            ..o(id, i as i64)
        });
    }
    orders.push(O {
        channel: "douyin",
        device: Some(device),
        account: Some("dy_extra"),
        phone: Some("139****2222"),
        ..o("extra", 20)
    });
    orders.push(O {
        channel: "jd",
        device: Some(device),
        account: Some("jd_relative"),
        phone: Some("150****7777"),
        ..o("relative", 21)
    });
    orders.push(O {
        channel: "pdd",
        device: Some(device),
        account: Some("pdd_other"),
        phone: Some("151****8888"),
        ..o("other", 22)
    });
    h.apply(&orders);
    assert!(h.same("r0", "extra"), "tied by a client's number");
    assert!(!h.same("r0", "relative") && !h.same("relative", "other"));
}
