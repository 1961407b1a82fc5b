use crate::type_id::{Kind, kind_of};
use crate::{ContainerType, DecodeError, DecodeErrorKind, Encoding, NodePath, Variant};

/// Deepest container nesting accepted, Godot 4's `Variant::MAX_RECURSION_DEPTH`.
/// Godot 3.2 has no limit; wspeer applies this one to both generations.
pub const MAX_DEPTH: usize = 1024;

const FLAG_64: u32 = 1 << 16;
const TYPE_MASK: u32 = 0xFF;

/// Decodes one value from the start of `bytes`, ignoring what follows it
/// (as `bytes2var` and `get_var` do).
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Variant, DecodeError> {
    decode_prefix(bytes, encoding).map(|(v, _)| v)
}

/// Decodes one value from the start of `bytes` and says how many bytes it used.
pub fn decode_prefix(bytes: &[u8], encoding: Encoding) -> Result<(Variant, usize), DecodeError> {
    let mut d = Decoder {
        bytes,
        pos: 0,
        encoding,
    };
    let v = d.value(0)?;
    Ok((v, d.pos))
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    encoding: Encoding,
}

type R<T> = Result<T, DecodeError>;

impl<'a> Decoder<'a> {
    fn err(&self, at: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset: at, kind }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: u64, what: &'static str) -> R<&'a [u8]> {
        if n > self.left() as u64 {
            return Err(self.err(
                self.pos,
                DecodeErrorKind::Truncated {
                    what,
                    needed: n,
                    available: self.left(),
                },
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> R<[u8; N]> {
        let s = self.take(N as u64, what)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &'static str) -> R<u32> {
        self.array::<4>(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> R<u64> {
        self.array::<8>(what).map(u64::from_le_bytes)
    }

    fn f32s<const N: usize>(&mut self, wide: bool, what: &'static str) -> R<[f32; N]> {
        let mut out = [0f32; N];
        for slot in &mut out {
            *slot = if wide {
                f64::from_le_bytes(self.array::<8>(what)?) as f32
            } else {
                f32::from_le_bytes(self.array::<4>(what)?)
            };
        }
        Ok(out)
    }

    fn i32s<const N: usize>(&mut self, what: &'static str) -> R<[i32; N]> {
        let mut out = [0i32; N];
        for slot in &mut out {
            *slot = i32::from_le_bytes(self.array::<4>(what)?);
        }
        Ok(out)
    }

    /// A count read as Godot's `int32_t`, checked against what the remaining
    /// input can hold at `min_size` bytes per element before anything is reserved.
    fn count(&mut self, min_size: u64, what: &'static str) -> R<usize> {
        let at = self.pos;
        let raw = self.u32(what)? as i32;
        if raw < 0 {
            return Err(self.err(at, DecodeErrorKind::NegativeCount(raw)));
        }
        self.fits(raw as u32, min_size, what, at)
    }

    fn fits(&self, n: u32, min_size: u64, what: &'static str, at: usize) -> R<usize> {
        let needed = n as u64 * min_size;
        if needed > self.left() as u64 {
            return Err(self.err(
                at,
                DecodeErrorKind::Truncated {
                    what,
                    needed,
                    available: self.left(),
                },
            ));
        }
        Ok(n as usize)
    }

    fn skip_pad(&mut self, len: usize, what: &'static str) -> R<()> {
        let pad = (4 - len % 4) % 4;
        self.take(pad as u64, what).map(|_| ())
    }

    /// Godot's `_decode_string`: length, UTF-8 up to the first NUL, padding.
    fn string(&mut self, what: &'static str) -> R<String> {
        let at = self.pos;
        let raw = self.u32(what)? as i32;
        if raw < 0 {
            return Err(self.err(at, DecodeErrorKind::NegativeCount(raw)));
        }
        let len = raw as usize;
        let padded = len + (4 - len % 4) % 4;
        let body_at = self.pos;
        let body = self.take(padded as u64, what)?;
        let text = &body[..len];
        let text = text.split(|b| *b == 0).next().unwrap_or(&[]);
        std::str::from_utf8(text)
            .map(str::to_owned)
            .map_err(|_| self.err(body_at, DecodeErrorKind::InvalidUtf8))
    }

    fn container_type(&mut self, bits: u32) -> R<ContainerType> {
        Ok(match bits & 0b11 {
            0 => ContainerType::None,
            1 => ContainerType::Builtin(self.u32("typed container's builtin type")?),
            2 => ContainerType::ClassName(self.string("typed container's class name")?),
            _ => ContainerType::Script(self.string("typed container's script path")?),
        })
    }

    fn value(&mut self, depth: usize) -> R<Variant> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err(at, DecodeErrorKind::TooDeep(MAX_DEPTH)));
        }
        let header = self.u32("header")?;
        let id = header & TYPE_MASK;
        let kind =
            kind_of(id, self.encoding).ok_or(self.err(at, DecodeErrorKind::UnknownType(id)))?;
        let g4 = self.encoding == Encoding::Godot4;
        // Containers recurse; everything else lives in `leaf` so that each
        // level of nesting costs a small stack frame.
        Ok(match kind {
            Kind::Dictionary if g4 && header & (0b1111 << 16) != 0 => {
                let key = self.container_type(header >> 16)?;
                let value = self.container_type(header >> 18)?;
                Variant::TypedDictionary(key, value, self.entries(depth)?)
            }
            Kind::Dictionary => Variant::Dictionary(self.entries(depth)?),
            Kind::Array if g4 && header & (0b11 << 16) != 0 => {
                let t = self.container_type(header >> 16)?;
                Variant::TypedArray(t, self.items(depth)?)
            }
            Kind::Array => Variant::Array(self.items(depth)?),
            _ => self.leaf(kind, header, at)?,
        })
    }

    #[inline(never)]
    fn leaf(&mut self, kind: Kind, header: u32, at: usize) -> R<Variant> {
        let wide = header & FLAG_64 != 0;
        let g4 = self.encoding == Encoding::Godot4;
        Ok(match kind {
            Kind::Nil => Variant::Nil,
            Kind::Bool => Variant::Bool(self.u32("bool")? != 0),
            Kind::Int if wide => Variant::Int(self.u64("int")? as i64),
            Kind::Int => Variant::Int(self.u32("int")? as i32 as i64),
            Kind::Float if wide => Variant::Float(f64::from_le_bytes(self.array::<8>("float")?)),
            Kind::Float => Variant::Float(f32::from_le_bytes(self.array::<4>("float")?) as f64),
            Kind::String => Variant::String(self.string("String")?),
            Kind::StringName => Variant::StringName(self.string("StringName")?),
            Kind::NodePath => self.node_path(at)?,
            Kind::Vector2 => Variant::Vector2(self.f32s(wide && g4, "Vector2")?),
            Kind::Vector2i => Variant::Vector2i(self.i32s("Vector2i")?),
            Kind::Rect2 => Variant::Rect2(self.f32s(wide && g4, "Rect2")?),
            Kind::Rect2i => Variant::Rect2i(self.i32s("Rect2i")?),
            Kind::Vector3 => Variant::Vector3(self.f32s(wide && g4, "Vector3")?),
            Kind::Vector3i => Variant::Vector3i(self.i32s("Vector3i")?),
            Kind::Transform2D => Variant::Transform2D(self.f32s(wide && g4, "Transform2D")?),
            Kind::Vector4 => Variant::Vector4(self.f32s(wide && g4, "Vector4")?),
            Kind::Vector4i => Variant::Vector4i(self.i32s("Vector4i")?),
            Kind::Plane => Variant::Plane(self.f32s(wide && g4, "Plane")?),
            Kind::Quaternion => Variant::Quaternion(self.f32s(wide && g4, "Quaternion")?),
            Kind::Aabb => Variant::Aabb(self.f32s(wide && g4, "AABB")?),
            Kind::Basis => Variant::Basis(self.f32s(wide && g4, "Basis")?),
            Kind::Transform3D => Variant::Transform3D(self.f32s(wide && g4, "Transform3D")?),
            Kind::Projection => Variant::Projection(self.f32s(wide && g4, "Projection")?),
            Kind::Color => Variant::Color(self.f32s(false, "Color")?),
            Kind::Rid if g4 => Variant::Rid(self.u64("RID")?),
            Kind::Rid => Variant::Rid(0),
            Kind::Object if wide => Variant::ObjectId(self.u64("object id")?),
            Kind::Object => return Err(self.err(at, DecodeErrorKind::ObjectRefused)),
            Kind::Callable => return Err(self.err(at, DecodeErrorKind::CallableRefused)),
            Kind::Signal => return Err(self.err(at, DecodeErrorKind::SignalRefused)),
            Kind::Dictionary | Kind::Array => unreachable_container(),
            Kind::PackedByte => {
                let n = self.count(1, "PackedByteArray")?;
                let bytes = self.take(n as u64, "PackedByteArray")?.to_vec();
                self.skip_pad(n, "PackedByteArray padding")?;
                Variant::PackedByteArray(bytes)
            }
            Kind::PackedInt32 => {
                let n = self.count(4, "PackedInt32Array")?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(self.u32("PackedInt32Array")? as i32);
                }
                Variant::PackedInt32Array(a)
            }
            Kind::PackedInt64 => {
                let n = self.count(8, "PackedInt64Array")?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(self.u64("PackedInt64Array")? as i64);
                }
                Variant::PackedInt64Array(a)
            }
            Kind::PackedFloat32 => {
                let n = self.count(4, "PackedFloat32Array")?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(f32::from_le_bytes(self.array::<4>("PackedFloat32Array")?));
                }
                Variant::PackedFloat32Array(a)
            }
            Kind::PackedFloat64 => {
                let n = self.count(8, "PackedFloat64Array")?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(f64::from_le_bytes(self.array::<8>("PackedFloat64Array")?));
                }
                Variant::PackedFloat64Array(a)
            }
            Kind::PackedString => {
                let n = self.count(4, "PackedStringArray")?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(self.string("PackedStringArray element")?);
                }
                Variant::PackedStringArray(a)
            }
            Kind::PackedVector2 => {
                Variant::PackedVector2Array(self.packed(wide && g4, "PackedVector2Array")?)
            }
            Kind::PackedVector3 => {
                Variant::PackedVector3Array(self.packed(wide && g4, "PackedVector3Array")?)
            }
            Kind::PackedColor => Variant::PackedColorArray(self.packed(false, "PackedColorArray")?),
            Kind::PackedVector4 => {
                Variant::PackedVector4Array(self.packed(wide, "PackedVector4Array")?)
            }
        })
    }

    fn packed<const N: usize>(&mut self, wide: bool, what: &'static str) -> R<Vec<[f32; N]>> {
        let size = if wide { 8 } else { 4 };
        let n = self.count(size * N as u64, what)?;
        let mut a = Vec::with_capacity(n);
        for _ in 0..n {
            a.push(self.f32s(wide, what)?);
        }
        Ok(a)
    }

    fn node_path(&mut self, at: usize) -> R<Variant> {
        let first = self.u32("NodePath name count")?;
        if first & 0x8000_0000 == 0 {
            return Err(self.err(at, DecodeErrorKind::ObsoleteNodePath));
        }
        let names_n = self.fits(first & 0x7FFF_FFFF, 4, "NodePath names", at)?;
        let sub_at = self.pos;
        let mut sub_n = self.u32("NodePath subname count")?;
        let flags = self.u32("NodePath flags")?;
        if flags & 2 != 0 {
            // Obsolete format: the property travels as one more subname.
            sub_n = sub_n.saturating_add(1);
        }
        let sub_n = self.fits(sub_n, 4, "NodePath subnames", sub_at)?;
        self.fits(
            (names_n + sub_n).min(u32::MAX as usize) as u32,
            4,
            "NodePath strings",
            at,
        )?;
        let mut names = Vec::with_capacity(names_n);
        for _ in 0..names_n {
            names.push(self.string("NodePath name")?);
        }
        let mut subnames = Vec::with_capacity(sub_n);
        for _ in 0..sub_n {
            subnames.push(self.string("NodePath subname")?);
        }
        Ok(Variant::NodePath(NodePath {
            names,
            subnames,
            absolute: flags & 1 != 0,
        }))
    }

    /// Array and Dictionary counts: bit 31 is Godot's old "shared" flag, masked off.
    fn container_count(&mut self, min_size: u64, what: &'static str) -> R<usize> {
        let at = self.pos;
        let raw = self.u32(what)?;
        self.fits(raw & 0x7FFF_FFFF, min_size, what, at)
    }

    fn items(&mut self, depth: usize) -> R<Vec<Variant>> {
        let n = self.container_count(4, "Array")?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(items)
    }

    fn entries(&mut self, depth: usize) -> R<Vec<(Variant, Variant)>> {
        let n = self.container_count(8, "Dictionary")?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.value(depth + 1)?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
        Ok(entries)
    }
}

/// `value` handles containers before calling `leaf`.
fn unreachable_container() -> Variant {
    Variant::Nil
}
