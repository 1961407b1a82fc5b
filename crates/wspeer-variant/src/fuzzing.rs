//! The fuzz target's body, public so that `tests/fuzz_seeds.rs` replays the
//! seeds and every crash the fuzzer finds.

use crate::{Encoding, decode_prefix, encode};

/// Decodes `data` in both generations. Whatever decodes must re-encode, and
/// re-encoding is stable: encoding the decoding of that encoding gives the
/// same bytes. Panics when an invariant breaks.
pub fn decode_both(data: &[u8]) {
    for encoding in [Encoding::Godot3, Encoding::Godot4] {
        let Ok((value, used)) = decode_prefix(data, encoding) else {
            continue;
        };
        assert!(used <= data.len());
        let first = encode(&value, encoding).expect("a decoded value encodes");
        let again = crate::decode(&first, encoding).expect("our encoding decodes");
        assert_eq!(encode(&again, encoding).expect("re-encodes"), first);
    }
}
