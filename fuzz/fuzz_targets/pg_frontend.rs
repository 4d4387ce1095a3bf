//! Any bytes as what a Postgres client sends, before and after start-up:
//! messages or a protocol error, never a hang or an allocation the bytes do
//! not pay for.
//!
//! pgwire 0.41's decoder panics on some malformed messages (a Bind whose
//! parameter claims more bytes than the message has: bytes' `split_to` and
//! `get_*` assert). The server contains such a panic to the one connection
//! (server/src/pg.rs), so this target does the same and goes on looking
//! for hangs and runaway allocations; `PANICS=1` restores the abort to
//! study them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("PANICS").is_none() {
        QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    }
    let _ = std::panic::catch_unwind(|| decode_all(data));
});

fn decode_all(data: &[u8]) {
    for awaiting_startup in [true, false] {
        let mut ctx = DecodeContext::new(ProtocolVersion::PROTOCOL3_0);
        ctx.awaiting_frontend_ssl = awaiting_startup;
        ctx.awaiting_frontend_startup = awaiting_startup;
        let mut buf = bytes::BytesMut::from(data);
        // As the server does: the negotiation and start-up messages move
        // the connection on (they may consume no bytes); every other
        // message consumes its bytes. Stop when none is complete.
        while let Ok(Some(message)) = PgWireFrontendMessage::decode(&mut buf, &ctx) {
            match message {
                PgWireFrontendMessage::SslNegotiation(_) => ctx.awaiting_frontend_ssl = false,
                PgWireFrontendMessage::Startup(_) => ctx.awaiting_frontend_startup = false,
                _ => {}
            }
        }
    }
}
