//! Fuzzes the inflate path: arbitrary frames through a decoder with
//! permessage-deflate negotiated (the first byte picks the parameters), then
//! the input compressed by us and decoded back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_core::fuzzing::deflate_decode(data);
});
