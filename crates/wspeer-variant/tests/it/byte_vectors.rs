//! Exact bytes, derived by hand from Godot's `core/io/marshalls.cpp`
//! (`encode_variant`): Godot 3 from tag 3.2.3-stable, Godot 4 from the 4.x
//! branch (type ids from `core/variant/variant.h`). Each vector names the
//! part of `encode_variant` it follows.

use wspeer_variant::{ContainerType, Encoding, NodePath, Variant, decode, encode};

fn check(v: Variant, enc: Encoding, expected: &[u8]) {
    let bytes = encode(&v, enc).unwrap();
    assert_eq!(bytes, expected, "encoding {v:?} in {enc}");
    let back = decode(expected, enc).unwrap();
    assert_eq!(
        encode(&back, enc).unwrap(),
        expected,
        "re-encoding {back:?}"
    );
}

fn w(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

// Godot 3: header = type id | ENCODE_FLAG_64 (1 << 16) for wide ints/reals.
#[test]
fn godot3_scalars() {
    let g3 = Encoding::Godot3;
    check(Variant::Nil, g3, &w(&[0]));
    check(Variant::Bool(true), g3, &w(&[1, 1]));
    // case Variant::INT: 32 bits when it fits in int32.
    check(Variant::Int(-1), g3, &w(&[2, 0xFFFF_FFFF]));
    let mut big = w(&[2 | 1 << 16]);
    big.extend_from_slice(&i64::MAX.to_le_bytes());
    check(Variant::Int(i64::MAX), g3, &big);
    check(
        Variant::Int(i32::MAX as i64 + 1),
        g3,
        &[w(&[2 | 1 << 16]), (1i64 << 31).to_le_bytes().to_vec()].concat(),
    );
    // case Variant::REAL: 64 bits when (double)(float)d != d, hence for NaN.
    check(Variant::Float(1.5), g3, &w(&[3, 1.5f32.to_bits()]));
    check(
        Variant::Float(0.1),
        g3,
        &[w(&[3 | 1 << 16]), 0.1f64.to_le_bytes().to_vec()].concat(),
    );
    check(
        Variant::Float(f64::INFINITY),
        g3,
        &w(&[3, f32::INFINITY.to_bits()]),
    );
    let nan = encode(&Variant::Float(f64::NAN), g3).unwrap();
    assert_eq!(&nan[..4], &w(&[3 | 1 << 16])[..]);
    assert_eq!(nan.len(), 12);
}

#[test]
fn godot3_strings_and_paths() {
    let g3 = Encoding::Godot3;
    // _encode_string: length, UTF-8, zero padding to 4.
    check(
        Variant::from("abcde"),
        g3,
        &[w(&[4, 5]), b"abcde\0\0\0".to_vec()].concat(),
    );
    check(Variant::from(""), g3, &w(&[4, 0]));
    check(
        Variant::from("é"),
        g3,
        &[w(&[4, 2]), vec![0xC3, 0xA9, 0, 0]].concat(),
    );
    // case Variant::NODE_PATH: names | 0x80000000, subnames, flags (1 = absolute), strings.
    let p = NodePath::parse("/root/a:b");
    check(
        Variant::NodePath(p),
        g3,
        &[
            w(&[15, 0x8000_0002, 1, 1, 4]),
            b"root".to_vec(),
            w(&[1]),
            b"a\0\0\0".to_vec(),
            w(&[1]),
            b"b\0\0\0".to_vec(),
        ]
        .concat(),
    );
    // POOL_STRING_ARRAY: each length counts the NUL terminator.
    check(
        Variant::PackedStringArray(vec!["ab".into(), "".into()]),
        g3,
        &[
            w(&[23, 2, 3]),
            b"ab\0\0".to_vec(),
            w(&[1]),
            vec![0, 0, 0, 0],
        ]
        .concat(),
    );
}

#[test]
fn godot3_math_and_containers() {
    let g3 = Encoding::Godot3;
    check(
        Variant::Vector2([1.0, 2.0]),
        g3,
        &w(&[5, 1f32.to_bits(), 2f32.to_bits()]),
    );
    check(
        Variant::Color([0.0, 0.5, 1.0, 1.0]),
        g3,
        &w(&[14, 0, 0.5f32.to_bits(), 1f32.to_bits(), 1f32.to_bits()]),
    );
    // case Variant::_RID: header only.
    check(Variant::Rid(0), g3, &w(&[16]));
    // OBJECT with !full_objects: ENCODE_FLAG_OBJECT_AS_ID and the 64-bit id.
    check(Variant::ObjectId(7), g3, &w(&[17 | 1 << 16, 7, 0]));
    check(
        Variant::Dictionary(vec![(Variant::from("k"), Variant::Int(1))]),
        g3,
        &[w(&[18, 1, 4, 1]), b"k\0\0\0".to_vec(), w(&[2, 1])].concat(),
    );
    check(
        Variant::Array(vec![Variant::Nil, Variant::Bool(false)]),
        g3,
        &w(&[19, 2, 0, 1, 0]),
    );
    check(
        Variant::PackedByteArray(vec![1, 2, 3]),
        g3,
        &[w(&[20, 3]), vec![1, 2, 3, 0]].concat(),
    );
    check(
        Variant::PackedInt32Array(vec![-2]),
        g3,
        &w(&[21, 1, (-2i32) as u32]),
    );
    check(
        Variant::PackedFloat32Array(vec![1.0]),
        g3,
        &w(&[22, 1, 1f32.to_bits()]),
    );
    check(
        Variant::PackedVector2Array(vec![[1.0, 2.0]]),
        g3,
        &w(&[24, 1, 1f32.to_bits(), 2f32.to_bits()]),
    );
    check(
        Variant::PackedColorArray(vec![[0.0; 4]]),
        g3,
        &w(&[26, 1, 0, 0, 0, 0]),
    );
}

#[test]
fn godot3_refuses_godot4_only_types() {
    for v in [
        Variant::Vector2i([1, 2]),
        Variant::Projection([0.0; 16]),
        Variant::PackedInt64Array(vec![]),
    ] {
        assert!(encode(&v, Encoding::Godot3).is_err(), "{v:?}");
    }
    // StringName does not exist in Godot 3's Variant: it travels as a String.
    assert_eq!(
        encode(&Variant::StringName("x".into()), Encoding::Godot3).unwrap(),
        [w(&[4, 1]), b"x\0\0\0".to_vec()].concat()
    );
}

// Godot 4: type ids from core/variant/variant.h's Variant::Type.
#[test]
fn godot4_ids_and_layouts() {
    let g4 = Encoding::Godot4;
    check(Variant::Int(5), g4, &w(&[2, 5]));
    check(Variant::Vector2i([1, -1]), g4, &w(&[6, 1, u32::MAX]));
    check(Variant::Rect2i([1, 2, 3, 4]), g4, &w(&[8, 1, 2, 3, 4]));
    check(Variant::Vector3([0.0; 3]), g4, &w(&[9, 0, 0, 0]));
    check(Variant::Vector4i([1, 2, 3, 4]), g4, &w(&[13, 1, 2, 3, 4]));
    check(
        Variant::Projection([0.0; 16]),
        g4,
        &[w(&[19]), vec![0; 64]].concat(),
    );
    check(Variant::Color([0.0; 4]), g4, &w(&[20, 0, 0, 0, 0]));
    check(
        Variant::StringName("ab".into()),
        g4,
        &[w(&[21, 2]), b"ab\0\0".to_vec()].concat(),
    );
    check(
        Variant::NodePath(NodePath::parse("a")),
        g4,
        &[w(&[22, 0x8000_0001, 0, 0, 1]), b"a\0\0\0".to_vec()].concat(),
    );
    // case Variant::RID: the 64-bit id.
    check(Variant::Rid(9), g4, &w(&[23, 9, 0]));
    check(Variant::ObjectId(1), g4, &w(&[24 | 1 << 16, 1, 0]));
    check(Variant::Dictionary(vec![]), g4, &w(&[27, 0]));
    check(Variant::Array(vec![]), g4, &w(&[28, 0]));
    check(
        Variant::PackedByteArray(vec![9]),
        g4,
        &[w(&[29, 1]), vec![9, 0, 0, 0]].concat(),
    );
    check(
        Variant::PackedInt64Array(vec![-1]),
        g4,
        &w(&[31, 1, u32::MAX, u32::MAX]),
    );
    check(
        Variant::PackedFloat64Array(vec![0.0]),
        g4,
        &w(&[33, 1, 0, 0]),
    );
    check(
        Variant::PackedStringArray(vec!["abc".into()]),
        g4,
        &[w(&[34, 1, 4]), b"abc\0".to_vec()].concat(),
    );
    check(
        Variant::PackedVector4Array(vec![[0.0; 4]]),
        g4,
        &w(&[38, 1, 0, 0, 0, 0]),
    );
}

// Typed containers: the kind in header bits 16-17 (keys) and 18-19 (values),
// then a builtin type id or a class name / script path before the count.
#[test]
fn godot4_typed_containers() {
    let g4 = Encoding::Godot4;
    check(
        Variant::TypedArray(ContainerType::Builtin(2), vec![Variant::Int(3)]),
        g4,
        &w(&[28 | 1 << 16, 2, 1, 2, 3]),
    );
    check(
        Variant::TypedDictionary(
            ContainerType::Builtin(4),
            ContainerType::ClassName("Node".into()),
            vec![],
        ),
        g4,
        &[
            w(&[27 | 1 << 16 | 2 << 18, 4, 4]),
            b"Node".to_vec(),
            w(&[0]),
        ]
        .concat(),
    );
}

#[test]
fn refusals_name_the_type() {
    let g4 = Encoding::Godot4;
    let err = decode(&w(&[25]), g4).unwrap_err();
    assert!(err.to_string().contains("Callable"), "{err}");
    let err = decode(&w(&[26]), g4).unwrap_err();
    assert!(err.to_string().contains("Signal"), "{err}");
    // A full object (no OBJECT_AS_ID flag) is refused, never instantiated.
    let err = decode(
        &[w(&[19, 1, 17]), w(&[4]), b"Node".to_vec()].concat(),
        Encoding::Godot3,
    )
    .unwrap_err();
    assert_eq!(err.offset, 8, "{err}");
    assert!(err.to_string().contains("object"), "{err}");
}

#[test]
fn encode_into_pads_relative_to_the_value() {
    let mut out = vec![0xAA];
    wspeer_variant::encode_into(&Variant::from("a"), Encoding::Godot3, &mut out).unwrap();
    assert_eq!(out, [vec![0xAA], w(&[4, 1]), b"a\0\0\0".to_vec()].concat());
}
