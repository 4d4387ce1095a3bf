//! Any bytes as a Parquet body for `orders`: batches or a located error,
//! never a panic that escapes, a hang or unbounded memory (libFuzzer's
//! -rss_limit_mb).
//!
//! The Parquet reader itself panics on some damaged files (assertions in
//! parquet 59.3); `decode` contains those. libfuzzer-sys aborts on any
//! panic, caught or not, so its hook is replaced by a silent one here: a
//! panic that escapes `decode` still fails the run, as libfuzzer-sys
//! treats the target's unwinding as a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordergraph_engine::decode::{Format, decode};
use ordergraph_engine::table::ORDERS;

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    if let Err(e) = decode(&ORDERS, Format::Parquet, "fuzz", bytes::Bytes::copy_from_slice(data)) {
        assert!(!e.reason.is_empty());
    }
});
