use serde::de::{
    self, Deserializer, IntoDeserializer, Visitor,
    value::{MapDeserializer, SeqDeserializer},
};

use super::SerdeError;
use crate::Variant;

type R<T> = Result<T, SerdeError>;

impl<'de> IntoDeserializer<'de, SerdeError> for Variant {
    type Deserializer = Variant;
    fn into_deserializer(self) -> Variant {
        self
    }
}

fn floats(components: &[f32]) -> Vec<Variant> {
    components
        .iter()
        .map(|c| Variant::Float((*c).into()))
        .collect()
}

/// The elements of anything array-like, as Variants.
fn elements(v: Variant) -> Result<Vec<Variant>, Variant> {
    Ok(match v {
        Variant::Array(a) | Variant::TypedArray(_, a) => a,
        Variant::PackedInt32Array(a) => a.into_iter().map(Variant::from).collect(),
        Variant::PackedInt64Array(a) => a.into_iter().map(Variant::from).collect(),
        Variant::PackedFloat32Array(a) => a.into_iter().map(Variant::from).collect(),
        Variant::PackedFloat64Array(a) => a.into_iter().map(Variant::from).collect(),
        Variant::PackedStringArray(a) => a.into_iter().map(Variant::from).collect(),
        Variant::PackedVector2Array(a) => a.iter().map(|c| Variant::Array(floats(c))).collect(),
        Variant::PackedVector3Array(a) => a.iter().map(|c| Variant::Array(floats(c))).collect(),
        Variant::PackedColorArray(a) | Variant::PackedVector4Array(a) => {
            a.iter().map(|c| Variant::Array(floats(c))).collect()
        }
        Variant::Vector2(c) => floats(&c),
        Variant::Vector3(c) => floats(&c),
        Variant::Rect2(c)
        | Variant::Vector4(c)
        | Variant::Plane(c)
        | Variant::Quaternion(c)
        | Variant::Color(c) => floats(&c),
        Variant::Transform2D(c) | Variant::Aabb(c) => floats(&c),
        Variant::Basis(c) => floats(&c),
        Variant::Transform3D(c) => floats(&c),
        Variant::Projection(c) => floats(&c),
        Variant::Vector2i(c) => c.into_iter().map(Variant::from).collect(),
        Variant::Vector3i(c) => c.into_iter().map(Variant::from).collect(),
        Variant::Rect2i(c) | Variant::Vector4i(c) => c.into_iter().map(Variant::from).collect(),
        other => return Err(other),
    })
}

impl<'de> Deserializer<'de> for Variant {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        match self {
            Variant::Nil => visitor.visit_unit(),
            Variant::Bool(b) => visitor.visit_bool(b),
            Variant::Int(i) => visitor.visit_i64(i),
            Variant::Float(f) => visitor.visit_f64(f),
            Variant::String(s) | Variant::StringName(s) => visitor.visit_string(s),
            Variant::NodePath(p) => visitor.visit_string(p.to_string()),
            Variant::Rid(id) | Variant::ObjectId(id) => visitor.visit_u64(id),
            Variant::PackedByteArray(b) => visitor.visit_byte_buf(b),
            Variant::Dictionary(e) | Variant::TypedDictionary(_, _, e) => {
                let mut map = MapDeserializer::new(e.into_iter());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
            other => match elements(other) {
                Ok(items) => {
                    let mut seq = SeqDeserializer::new(items.into_iter());
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end()?;
                    Ok(value)
                }
                Err(other) => Err(de::Error::custom(format!(
                    "cannot deserialize a {}",
                    other.type_name()
                ))),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        match self {
            Variant::Nil => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> R<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        match self {
            Variant::String(s) | Variant::StringName(s) => {
                visitor.visit_enum(s.into_deserializer())
            }
            Variant::Dictionary(mut e) if e.len() == 1 => {
                let (key, value) = e.pop().expect("one entry");
                visitor.visit_enum(Enum { key, value })
            }
            other => Err(de::Error::custom(format!(
                "an enum needs a String or a one-entry Dictionary, not a {}",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Enum {
    key: Variant,
    value: Variant,
}

impl<'de> de::EnumAccess<'de> for Enum {
    type Error = SerdeError;
    type Variant = Variant;
    fn variant_seed<S: de::DeserializeSeed<'de>>(self, seed: S) -> R<(S::Value, Variant)> {
        Ok((seed.deserialize(self.key)?, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Variant {
    type Error = SerdeError;
    fn unit_variant(self) -> R<()> {
        match self {
            Variant::Nil => Ok(()),
            other => Err(de::Error::custom(format!(
                "a unit variant with a {} value",
                other.type_name()
            ))),
        }
    }
    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(self, seed: S) -> R<S::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> R<V::Value> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        self.deserialize_any(visitor)
    }
}
