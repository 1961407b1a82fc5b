//! Hostile input: errors with offsets, no panics, bounded allocation and depth.

use wspeer_variant::{DecodeErrorKind, Encoding, MAX_DEPTH, Variant, decode, encode};

const BOTH: [Encoding; 2] = [Encoding::Godot3, Encoding::Godot4];

fn w(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn huge_claimed_counts_fail_before_reserving() {
    for enc in BOTH {
        for id in [19u32, 18, 20, 21, 22, 23, 24] {
            let id = if enc == Encoding::Godot4 { id + 9 } else { id };
            let err = decode(&w(&[id, 0x7FFF_FFFF]), enc).unwrap_err();
            assert!(
                matches!(err.kind, DecodeErrorKind::Truncated { .. }),
                "{enc} type {id}: {err}"
            );
            assert_eq!(err.offset, 4, "{err}");
        }
    }
}

#[test]
fn truncated_strings_and_bad_utf8() {
    let err = decode(&w(&[4, 100, 0]), Encoding::Godot3).unwrap_err();
    assert!(
        matches!(err.kind, DecodeErrorKind::Truncated { what: "String", .. }),
        "{err}"
    );
    let err = decode(
        &[w(&[4, 2]), vec![0xFF, 0xFE, 0, 0]].concat(),
        Encoding::Godot3,
    )
    .unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidUtf8);
    assert_eq!(err.offset, 8);
    let err = decode(&w(&[4, 0x8000_0000]), Encoding::Godot3).unwrap_err();
    assert!(
        matches!(err.kind, DecodeErrorKind::NegativeCount(_)),
        "{err}"
    );
}

#[test]
fn unknown_types_and_empty_input() {
    assert!(matches!(
        decode(&w(&[27]), Encoding::Godot3).unwrap_err().kind,
        DecodeErrorKind::UnknownType(27)
    ));
    assert!(matches!(
        decode(&w(&[39]), Encoding::Godot4).unwrap_err().kind,
        DecodeErrorKind::UnknownType(39)
    ));
    assert!(decode(&[], Encoding::Godot4).is_err());
    assert!(decode(&[1, 0], Encoding::Godot4).is_err());
}

#[test]
fn depth_is_bounded() {
    for enc in BOTH {
        let array_id = if enc == Encoding::Godot4 { 28 } else { 19 };
        let nested = |levels: usize| {
            let mut b = Vec::new();
            for _ in 0..levels {
                b.extend(w(&[array_id, 1]));
            }
            b.extend(w(&[0]));
            b
        };
        assert!(decode(&nested(MAX_DEPTH), enc).is_ok());
        let err = decode(&nested(MAX_DEPTH + 1), enc).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooDeep(MAX_DEPTH));
        let mut v = Variant::Nil;
        for _ in 0..=MAX_DEPTH {
            v = Variant::Array(vec![v]);
        }
        assert!(encode(&v, enc).is_err());
    }
}

/// Every prefix and many byte flips of a rich value decode without panicking.
#[test]
fn prefixes_and_flips_never_panic() {
    for enc in BOTH {
        let bytes = encode(&crate_sample(enc), enc).unwrap();
        for end in 0..bytes.len() {
            let _ = decode(&bytes[..end], enc);
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut b = bytes.clone();
            let i = (state as usize) % b.len();
            b[i] = (state >> 32) as u8;
            let _ = decode(&b, enc);
            wspeer_variant::fuzzing::decode_both(&b);
        }
    }
}

fn crate_sample(enc: Encoding) -> Variant {
    let mut items = vec![
        Variant::from("héllo"),
        Variant::Int(i64::MIN),
        Variant::Float(0.1),
        Variant::NodePath(wspeer_variant::NodePath::parse("/a/b:c")),
        Variant::PackedStringArray(vec!["x".into(), "".into()]),
        Variant::PackedByteArray(vec![1, 2, 3]),
        Variant::Dictionary(vec![(Variant::Int(1), Variant::Array(vec![Variant::Nil]))]),
        Variant::PackedVector3Array(vec![[1.0, 2.0, 3.0]]),
    ];
    if enc == Encoding::Godot4 {
        items.push(Variant::PackedInt64Array(vec![1, -1]));
        items.push(Variant::Projection([1.0; 16]));
    }
    Variant::Array(items)
}
