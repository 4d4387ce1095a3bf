//! Any bytes as what a Postgres client sends, before and after start-up:
//! messages or a protocol error, never a panic or an allocation the bytes
//! do not pay for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    for awaiting_startup in [true, false] {
        let mut ctx = DecodeContext::new(ProtocolVersion::PROTOCOL3_0);
        ctx.awaiting_frontend_ssl = awaiting_startup;
        ctx.awaiting_frontend_startup = awaiting_startup;
        let mut buf = bytes::BytesMut::from(data);
        // Each message consumes its bytes; stop when none is complete.
        while let Ok(Some(_)) = PgWireFrontendMessage::decode(&mut buf, &ctx) {}
    }
});
