//! Fuzzes the connection state machine alone: arbitrary reads, application
//! actions, socket capacity and time jumps (see
//! `wspeer_core::fuzzing::connection_machine`). Run with
//! `cargo +nightly fuzz run connection`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_core::fuzzing::connection_machine(data);
});
