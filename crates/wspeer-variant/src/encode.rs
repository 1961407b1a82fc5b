use crate::type_id::{Kind, id_of};
use crate::{ContainerType, EncodeError, Encoding, MAX_DEPTH, Variant};

const FLAG_64: u32 = 1 << 16;
const FLAG_OBJECT_AS_ID: u32 = 1 << 16;
const TYPED_SHIFT: u32 = 16;
const TYPED_VALUE_SHIFT: u32 = 18;

/// Encodes `value` as Godot's `var2bytes` (Godot 3) or `var_to_bytes` (Godot 4) would.
pub fn encode(value: &Variant, encoding: Encoding) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(value, encoding, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out`. On error `out` may hold a partial value.
pub fn encode_into(
    value: &Variant,
    encoding: Encoding,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    Encoder { encoding, out }.value(value, 0)
}

struct Encoder<'a> {
    encoding: Encoding,
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    fn header(&mut self, kind: Kind, flags: u32, value: &Variant) -> Result<(), EncodeError> {
        let id = id_of(kind, self.encoding).ok_or(EncodeError::NotInGeneration {
            type_name: value.type_name(),
            encoding: self.encoding,
        })?;
        self.u32(id | flags);
        Ok(())
    }

    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn i32s(&mut self, vs: &[i32]) {
        for v in vs {
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn f32s(&mut self, vs: &[f32]) {
        for v in vs {
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn count(&mut self, len: usize, value: &Variant) -> Result<(), EncodeError> {
        if len > i32::MAX as usize {
            return Err(EncodeError::TooLong {
                type_name: value.type_name(),
                len,
            });
        }
        self.u32(len as u32);
        Ok(())
    }

    /// Zero padding after `len` bytes, relative to the field (not to `out`,
    /// which may hold other data before this value).
    fn pad(&mut self, len: usize) {
        let pad = (4 - len % 4) % 4;
        self.out.extend_from_slice(&[0; 3][..pad]);
    }

    /// Length, UTF-8 bytes, zero padding to 4 (Godot's `_encode_string`).
    fn string(&mut self, s: &str, value: &Variant) -> Result<(), EncodeError> {
        self.count(s.len(), value)?;
        self.out.extend_from_slice(s.as_bytes());
        self.pad(s.len());
        Ok(())
    }

    fn container_type(&mut self, t: &ContainerType, value: &Variant) -> Result<(), EncodeError> {
        match t {
            ContainerType::None => Ok(()),
            ContainerType::Builtin(id) => {
                self.u32(*id);
                Ok(())
            }
            ContainerType::ClassName(s) | ContainerType::Script(s) => self.string(s, value),
        }
    }

    fn value(&mut self, v: &Variant, depth: usize) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(EncodeError::TooDeep(MAX_DEPTH));
        }
        let g4 = self.encoding == Encoding::Godot4;
        // Containers recurse; everything else lives in `leaf` so that each
        // level of nesting costs a small stack frame.
        match v {
            Variant::Dictionary(entries) => {
                self.header(Kind::Dictionary, 0, v)?;
                self.entries(entries, v, depth)
            }
            Variant::Array(items) => {
                self.header(Kind::Array, 0, v)?;
                self.items(items, v, depth)
            }
            Variant::TypedArray(t, items) => {
                if !g4 {
                    return Err(self.not_here(v));
                }
                self.header(Kind::Array, kind_bits(t) << TYPED_SHIFT, v)?;
                self.container_type(t, v)?;
                self.items(items, v, depth)
            }
            Variant::TypedDictionary(k, val, entries) => {
                if !g4 {
                    return Err(self.not_here(v));
                }
                let flags = (kind_bits(k) << TYPED_SHIFT) | (kind_bits(val) << TYPED_VALUE_SHIFT);
                self.header(Kind::Dictionary, flags, v)?;
                self.container_type(k, v)?;
                self.container_type(val, v)?;
                self.entries(entries, v, depth)
            }
            _ => self.leaf(v),
        }
    }

    #[inline(never)]
    fn leaf(&mut self, v: &Variant) -> Result<(), EncodeError> {
        let g4 = self.encoding == Encoding::Godot4;
        match v {
            Variant::Nil => self.header(Kind::Nil, 0, v)?,
            Variant::Bool(b) => {
                self.header(Kind::Bool, 0, v)?;
                self.u32(*b as u32);
            }
            Variant::Int(i) => match i32::try_from(*i) {
                Ok(small) => {
                    self.header(Kind::Int, 0, v)?;
                    self.i32s(&[small]);
                }
                Err(_) => {
                    self.header(Kind::Int, FLAG_64, v)?;
                    self.out.extend_from_slice(&i.to_le_bytes());
                }
            },
            Variant::Float(d) => {
                // Godot: 64 bits unless an f32 gives back the same double (so NaN takes 64).
                let f = *d as f32;
                if f as f64 == *d {
                    self.header(Kind::Float, 0, v)?;
                    self.f32s(&[f]);
                } else {
                    self.header(Kind::Float, FLAG_64, v)?;
                    self.out.extend_from_slice(&d.to_le_bytes());
                }
            }
            Variant::String(s) => {
                self.header(Kind::String, 0, v)?;
                self.string(s, v)?;
            }
            Variant::StringName(s) => {
                let kind = if g4 { Kind::StringName } else { Kind::String };
                self.header(kind, 0, v)?;
                self.string(s, v)?;
            }
            Variant::NodePath(p) => {
                self.header(Kind::NodePath, 0, v)?;
                self.count(p.names.len(), v)?;
                let at = self.out.len() - 4;
                self.out[at + 3] |= 0x80; // new format marker
                self.count(p.subnames.len(), v)?;
                self.u32(p.absolute as u32);
                for s in p.names.iter().chain(&p.subnames) {
                    self.string(s, v)?;
                }
            }
            Variant::Vector2(c) => self.floats(Kind::Vector2, c, v)?,
            Variant::Vector2i(c) => self.ints(Kind::Vector2i, c, v)?,
            Variant::Rect2(c) => self.floats(Kind::Rect2, c, v)?,
            Variant::Rect2i(c) => self.ints(Kind::Rect2i, c, v)?,
            Variant::Vector3(c) => self.floats(Kind::Vector3, c, v)?,
            Variant::Vector3i(c) => self.ints(Kind::Vector3i, c, v)?,
            Variant::Transform2D(c) => self.floats(Kind::Transform2D, c, v)?,
            Variant::Vector4(c) => self.floats(Kind::Vector4, c, v)?,
            Variant::Vector4i(c) => self.ints(Kind::Vector4i, c, v)?,
            Variant::Plane(c) => self.floats(Kind::Plane, c, v)?,
            Variant::Quaternion(c) => self.floats(Kind::Quaternion, c, v)?,
            Variant::Aabb(c) => self.floats(Kind::Aabb, c, v)?,
            Variant::Basis(c) => self.floats(Kind::Basis, c, v)?,
            Variant::Transform3D(c) => self.floats(Kind::Transform3D, c, v)?,
            Variant::Projection(c) => self.floats(Kind::Projection, c, v)?,
            Variant::Color(c) => self.floats(Kind::Color, c, v)?,
            Variant::Rid(id) => {
                self.header(Kind::Rid, 0, v)?;
                if g4 {
                    self.out.extend_from_slice(&id.to_le_bytes());
                }
            }
            Variant::ObjectId(id) => {
                self.header(Kind::Object, FLAG_OBJECT_AS_ID, v)?;
                self.out.extend_from_slice(&id.to_le_bytes());
            }
            Variant::Dictionary(_)
            | Variant::Array(_)
            | Variant::TypedArray(..)
            | Variant::TypedDictionary(..) => {}
            Variant::PackedByteArray(b) => {
                self.header(Kind::PackedByte, 0, v)?;
                self.count(b.len(), v)?;
                self.out.extend_from_slice(b);
                self.pad(b.len());
            }
            Variant::PackedInt32Array(a) => {
                self.header(Kind::PackedInt32, 0, v)?;
                self.count(a.len(), v)?;
                self.i32s(a);
            }
            Variant::PackedInt64Array(a) => {
                self.header(Kind::PackedInt64, 0, v)?;
                self.count(a.len(), v)?;
                for x in a {
                    self.out.extend_from_slice(&x.to_le_bytes());
                }
            }
            Variant::PackedFloat32Array(a) => {
                self.header(Kind::PackedFloat32, 0, v)?;
                self.count(a.len(), v)?;
                self.f32s(a);
            }
            Variant::PackedFloat64Array(a) => {
                self.header(Kind::PackedFloat64, 0, v)?;
                self.count(a.len(), v)?;
                for x in a {
                    self.out.extend_from_slice(&x.to_le_bytes());
                }
            }
            Variant::PackedStringArray(a) => {
                self.header(Kind::PackedString, 0, v)?;
                self.count(a.len(), v)?;
                for s in a {
                    // Each string carries its NUL terminator in its length.
                    self.count(s.len() + 1, v)?;
                    self.out.extend_from_slice(s.as_bytes());
                    self.out.push(0);
                    self.pad(s.len() + 1);
                }
            }
            Variant::PackedVector2Array(a) => self.packed_floats(Kind::PackedVector2, a, v)?,
            Variant::PackedVector3Array(a) => self.packed_floats(Kind::PackedVector3, a, v)?,
            Variant::PackedColorArray(a) => self.packed_floats(Kind::PackedColor, a, v)?,
            Variant::PackedVector4Array(a) => self.packed_floats(Kind::PackedVector4, a, v)?,
        }
        Ok(())
    }

    fn not_here(&self, v: &Variant) -> EncodeError {
        EncodeError::NotInGeneration {
            type_name: v.type_name(),
            encoding: self.encoding,
        }
    }

    fn floats(&mut self, kind: Kind, c: &[f32], v: &Variant) -> Result<(), EncodeError> {
        self.header(kind, 0, v)?;
        self.f32s(c);
        Ok(())
    }

    fn ints(&mut self, kind: Kind, c: &[i32], v: &Variant) -> Result<(), EncodeError> {
        self.header(kind, 0, v)?;
        self.i32s(c);
        Ok(())
    }

    fn packed_floats<const N: usize>(
        &mut self,
        kind: Kind,
        a: &[[f32; N]],
        v: &Variant,
    ) -> Result<(), EncodeError> {
        self.header(kind, 0, v)?;
        self.count(a.len(), v)?;
        for c in a {
            self.f32s(c);
        }
        Ok(())
    }

    fn items(&mut self, items: &[Variant], v: &Variant, depth: usize) -> Result<(), EncodeError> {
        self.count(items.len(), v)?;
        for item in items {
            self.value(item, depth + 1)?;
        }
        Ok(())
    }

    fn entries(
        &mut self,
        entries: &[(Variant, Variant)],
        v: &Variant,
        depth: usize,
    ) -> Result<(), EncodeError> {
        self.count(entries.len(), v)?;
        for (key, value) in entries {
            self.value(key, depth + 1)?;
            self.value(value, depth + 1)?;
        }
        Ok(())
    }
}

fn kind_bits(t: &ContainerType) -> u32 {
    match t {
        ContainerType::None => 0,
        ContainerType::Builtin(_) => 1,
        ContainerType::ClassName(_) => 2,
        ContainerType::Script(_) => 3,
    }
}
