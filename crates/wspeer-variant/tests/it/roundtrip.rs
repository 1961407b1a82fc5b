//! Property test: for random values, decode(encode(v)) encodes to the same
//! bytes and (NaN aside) equals v. A seeded xorshift keeps failures reproducible.

use wspeer_variant::{ContainerType, Encoding, NodePath, Variant, decode, encode};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn f32(&mut self) -> f32 {
        match self.below(4) {
            0 => f32::from_bits(self.next() as u32),
            1 => [
                0.0,
                -0.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::MAX,
                f32::MIN_POSITIVE,
            ][self.below(6) as usize],
            _ => (self.next() as i32 as f32) / 1024.0,
        }
    }
    fn string(&mut self) -> String {
        let pool = ["", "a", "héllo", "日本語", "emoji 🎮", "abcd", "x y z"];
        pool[self.below(pool.len() as u64) as usize].to_owned()
    }
    fn fs<const N: usize>(&mut self) -> [f32; N] {
        std::array::from_fn(|_| self.f32())
    }
    fn is<const N: usize>(&mut self) -> [i32; N] {
        std::array::from_fn(|_| self.next() as i32)
    }
    fn len(&mut self) -> usize {
        self.below(5) as usize
    }

    fn variant(&mut self, enc: Encoding, depth: u32) -> Variant {
        let g4 = enc == Encoding::Godot4;
        let kinds = if depth > 3 { 20 } else { 26 };
        loop {
            let v = match self.below(kinds) {
                0 => Variant::Nil,
                1 => Variant::Bool(self.below(2) == 1),
                2 => Variant::Int(match self.below(3) {
                    0 => self.next() as i64,
                    1 => self.next() as i32 as i64,
                    _ => [i64::MIN, i64::MAX, 0, -1][self.below(4) as usize],
                }),
                3 => Variant::Float(match self.below(3) {
                    0 => f64::from_bits(self.next()),
                    1 => self.f32() as f64,
                    _ => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -0.0]
                        [self.below(5) as usize],
                }),
                4 => Variant::String(self.string()),
                5 => Variant::NodePath(NodePath {
                    names: (0..self.len())
                        .map(|_| self.string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    subnames: (0..self.len())
                        .map(|_| self.string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    absolute: self.below(2) == 1,
                }),
                6 => Variant::Vector2(self.fs()),
                7 => Variant::Rect2(self.fs()),
                8 => Variant::Vector3(self.fs()),
                9 => Variant::Transform2D(self.fs()),
                10 => Variant::Plane(self.fs()),
                11 => Variant::Quaternion(self.fs()),
                12 => Variant::Aabb(self.fs()),
                13 => Variant::Basis(self.fs()),
                14 => Variant::Transform3D(self.fs()),
                15 => Variant::Color(self.fs()),
                16 => Variant::Rid(if g4 { self.next() } else { 0 }),
                17 => Variant::ObjectId(self.next()),
                18 => Variant::PackedByteArray(
                    (0..self.below(9)).map(|_| self.next() as u8).collect(),
                ),
                19 => match self.below(6) {
                    0 => Variant::PackedInt32Array(
                        (0..self.len()).map(|_| self.next() as i32).collect(),
                    ),
                    1 => Variant::PackedFloat32Array((0..self.len()).map(|_| self.f32()).collect()),
                    2 => {
                        Variant::PackedStringArray((0..self.len()).map(|_| self.string()).collect())
                    }
                    3 => Variant::PackedVector2Array((0..self.len()).map(|_| self.fs()).collect()),
                    4 => Variant::PackedVector3Array((0..self.len()).map(|_| self.fs()).collect()),
                    _ => Variant::PackedColorArray((0..self.len()).map(|_| self.fs()).collect()),
                },
                20 | 21 => Variant::Array(
                    (0..self.len())
                        .map(|_| self.variant(enc, depth + 1))
                        .collect(),
                ),
                22 | 23 => Variant::Dictionary(
                    (0..self.len())
                        .map(|_| (self.variant(enc, depth + 1), self.variant(enc, depth + 1)))
                        .collect(),
                ),
                _ if !g4 => continue,
                24 => match self.below(10) {
                    0 => Variant::Vector2i(self.is()),
                    1 => Variant::Rect2i(self.is()),
                    2 => Variant::Vector3i(self.is()),
                    3 => Variant::Vector4(self.fs()),
                    4 => Variant::Vector4i(self.is()),
                    5 => Variant::Projection(self.fs()),
                    6 => Variant::StringName(self.string()),
                    7 => Variant::PackedInt64Array(
                        (0..self.len()).map(|_| self.next() as i64).collect(),
                    ),
                    8 => Variant::PackedFloat64Array(
                        (0..self.len())
                            .map(|_| f64::from_bits(self.next()))
                            .collect(),
                    ),
                    _ => Variant::PackedVector4Array((0..self.len()).map(|_| self.fs()).collect()),
                },
                _ => {
                    let t = match self.below(3) {
                        0 => ContainerType::Builtin(self.below(39) as u32),
                        1 => ContainerType::ClassName(self.string()),
                        _ => ContainerType::Script(self.string()),
                    };
                    if self.below(2) == 0 {
                        Variant::TypedArray(
                            t,
                            (0..self.len())
                                .map(|_| self.variant(enc, depth + 1))
                                .collect(),
                        )
                    } else {
                        let entries = (0..self.len())
                            .map(|_| (Variant::Int(self.next() as i64), Variant::Nil))
                            .collect();
                        Variant::TypedDictionary(t, ContainerType::None, entries)
                    }
                }
            };
            return v;
        }
    }
}

fn has_nan(v: &Variant) -> bool {
    format!("{v:?}").contains("NaN")
}

#[test]
fn decode_of_encode_is_identity() {
    for enc in [Encoding::Godot3, Encoding::Godot4] {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..5_000 {
            let v = rng.variant(enc, 0);
            let bytes = encode(&v, enc).unwrap_or_else(|e| panic!("case {case}: {e} for {v:?}"));
            let back = decode(&bytes, enc).unwrap_or_else(|e| panic!("case {case}: {e} for {v:?}"));
            assert_eq!(
                encode(&back, enc).unwrap(),
                bytes,
                "case {case} in {enc}: {v:?}"
            );
            if !has_nan(&v) {
                assert_eq!(back, v, "case {case} in {enc}");
            }
        }
    }
}
