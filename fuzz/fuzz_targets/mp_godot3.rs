//! Fuzzes the Godot 3 multiplayer codec (the 9-byte header) and state machines:
//! arbitrary bytes as one message for the codec, and as a script of clients
//! joining, leaving and sending (raw bytes included) to a wspeer-multiplayer
//! server. Run with `crates/wspeer-multiplayer/fuzz.sh`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_multiplayer::fuzzing::godot3(data);
});
