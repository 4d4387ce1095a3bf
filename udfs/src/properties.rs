//! Property tests of the identity kernels on hostile strings: any Unicode,
//! phone-like noise (full-width digits, masks, extensions, country
//! prefixes), and near-valid emails and device ids. No input may panic, and
//! every output is already in normal form: normalizing it again gives it
//! back. `fuzz/` runs the same kernels under libFuzzer for longer.

use proptest::prelude::*;

use crate::*;

/// Text that looks like a phone number to a parser: digits of both widths,
/// separators, masks, extensions and prefixes, in any order.
fn phone_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,11}",
        "[０-９]{1,11}",
        Just("+86 ".to_string()),
        Just("0086".to_string()),
        Just("+852 ".to_string()),
        Just("****".to_string()),
        Just("-".to_string()),
        Just("转".to_string()),
        Just("ext.".to_string()),
        "[ ()\\-.+#*/]{1,3}",
        "\\PC{1,3}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

fn email_like() -> impl Strategy<Value = String> {
    (
        "[ ]{0,2}(mailto:)?",
        "[A-Za-z0-9._%+\\-!#'ＡＢ]{0,20}",
        "@{0,2}",
        "[A-Za-z0-9.\\-ＱＱ]{0,20}",
        "(\\.[A-Za-z]{0,4})?[ ]{0,2}",
    )
        .prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}"))
}

fn device_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F]{32}",
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "(urn:uuid:)?\\{?[0-9a-fA-F\\-]{30,38}\\}?",
        "[0\\-]{32,36}",
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn phones_normalize_to_e164_once_and_for_all(raw in prop_oneof![phone_like(), any::<String>()]) {
        let class = classify_phone(&raw, DEFAULT_REGION);
        let e164 = normalize_phone(&raw, DEFAULT_REGION);
        prop_assert_eq!(e164, class.and_then(|c| c.personal().copied()));
        if let Some(e164) = e164 {
            let text = e164.as_str();
            prop_assert!(text.starts_with('+'), "{}", text);
            prop_assert!(text[1..].bytes().all(|b| b.is_ascii_digit()), "{}", text);
            prop_assert!((8..=16).contains(&text.len()), "{}", text);
            prop_assert_eq!(normalize_phone(text, DEFAULT_REGION), Some(e164));
        }
        let masked = mask_phone(&raw);
        if let Some(e164) = e164 {
            // A subscriber's number never shows more than 3 + 4 digits.
            prop_assert!(masked.contains("****"), "{} -> {}", raw, masked);
            prop_assert!(!masked.contains(&e164.as_str()[3..]), "{} -> {}", raw, masked);
        }
    }

    #[test]
    fn emails_normalize_to_one_lower_case_address(raw in prop_oneof![email_like(), any::<String>()]) {
        if let Some(email) = normalize_email(&raw) {
            prop_assert_eq!(email.matches('@').count(), 1, "{}", email);
            prop_assert_eq!(&email, &email.trim().to_lowercase());
            prop_assert!(email.len() <= 254);
            prop_assert_eq!(normalize_email(&email), Some(email.clone()));
        }
        let masked = mask_email(&raw);
        prop_assert!(masked.contains("***"), "{}", masked);
    }

    #[test]
    fn device_ids_normalize_to_canonical_uuids(raw in device_like()) {
        if let Some(id) = normalize_device_id(&raw) {
            let b = id.as_bytes();
            prop_assert_eq!(b.len(), 36);
            for (i, c) in b.iter().enumerate() {
                if [8, 13, 18, 23].contains(&i) {
                    prop_assert_eq!(*c, b'-');
                } else {
                    prop_assert!(c.is_ascii_digit() || (b'a'..=b'f').contains(c), "{}", id);
                }
            }
            prop_assert!(id != ZERO_DEVICE_ID);
            prop_assert_eq!(normalize_device_id(&id), Some(id.clone()));
            // The input's own digits, in order (a `urn:uuid:` prefix holds a `d`).
            let digits: String = id.chars().filter(|&c| c != '-').collect();
            let given: String = raw
                .chars()
                .filter(char::is_ascii_hexdigit)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            prop_assert!(given.ends_with(&digits), "{} -> {}", raw, id);
        }
    }

    #[test]
    fn mcids_round_trip_and_any_text_parses_safely(key in any::<u64>(), text in "\\PC{0,20}") {
        prop_assert_eq!(parse_mcid(&mcid_of(key)), Some(key));
        if let Some(parsed) = parse_mcid(&text) {
            prop_assert_eq!(parse_mcid(&mcid_of(parsed)), Some(parsed));
        }
    }

    #[test]
    fn identity_keys_keep_kinds_apart(value in "\\PC{1,30}") {
        let keys: Vec<_> = IdentityKind::ALL.iter().filter_map(|&k| identity_key(k, &value)).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        prop_assert_eq!(unique.len(), keys.len());
    }
}
