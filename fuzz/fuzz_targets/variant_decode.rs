//! Fuzzes the Variant decoder of both generations: arbitrary bytes decode or
//! fail cleanly, and whatever decodes re-encodes stably.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wspeer_variant::fuzzing::decode_both(data);
});
