//! Fuzzes permessage-deflate negotiation: arbitrary `Sec-WebSocket-Extensions`
//! values (one per line) through the server's choice and the client's check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_core::fuzzing::deflate_negotiation(data);
});
