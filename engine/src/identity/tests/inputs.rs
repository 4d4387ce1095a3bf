//! Inputs and small structures: appended values, extraction, bit sets.

use super::*;

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
