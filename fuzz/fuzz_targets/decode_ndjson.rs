//! Any bytes as a ndjson body for `orders`: batches or a located error,
//! never a panic, a hang or unbounded memory (libFuzzer's -rss_limit_mb).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordergraph_engine::decode::{Format, decode};
use ordergraph_engine::table::ORDERS;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = decode(&ORDERS, Format::Ndjson, "fuzz", bytes::Bytes::copy_from_slice(data)) {
        assert!(!e.reason.is_empty());
    }
});
