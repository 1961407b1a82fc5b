//! Fuzzes the server side of a connection: arbitrary bytes as everything a client
//! sends (the HTTP upgrade request, then frames), through the real handshake,
//! frame guard, tungstenite and connection task. Run with `fuzz/run.sh`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_core::fuzzing::server_input(data);
});
