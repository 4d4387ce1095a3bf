//! Any text through the identity kernels: no panic, and every normalized
//! value is a fixed point (normalizing it again gives it back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordergraph_udfs::{
    DEFAULT_REGION, classify_phone, mask_email, mask_phone, mcid_of, normalize_device_id,
    normalize_email, normalize_phone, parse_mcid,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = classify_phone(&text, DEFAULT_REGION);
    if let Some(e164) = normalize_phone(&text, DEFAULT_REGION) {
        assert_eq!(normalize_phone(e164.as_str(), DEFAULT_REGION), Some(e164));
    }
    if let Some(email) = normalize_email(&text) {
        assert_eq!(normalize_email(&email).as_deref(), Some(email.as_str()));
    }
    if let Some(id) = normalize_device_id(&text) {
        assert_eq!(normalize_device_id(&id).as_deref(), Some(id.as_str()));
    }
    let _ = (mask_phone(&text), mask_email(&text));
    if let Some(key) = parse_mcid(&text) {
        assert_eq!(parse_mcid(&mcid_of(key)), Some(key));
    }
});
