//! Increments: the partition does not depend on arrival order or
//! batching, and direct joins agree with a full resolution.

use super::*;

/// A small deterministic pseudo-random stream for shuffles.
pub(super) fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// One generated order.
pub(super) struct Row {
    id: String,
    day: i64,
    valid: bool,
    pub(super) phone: Option<String>,
    email: Option<String>,
    unionid: Option<String>,
    device: Option<String>,
}

pub(super) fn population(mut seed: u64) -> Vec<Row> {
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
    pub(super) fn order(&self) -> O<'_> {
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
