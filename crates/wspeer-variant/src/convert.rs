use crate::{NodePath, Variant};

/// A [`Variant`] was not of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct FromVariantError {
    /// The Rust type asked for.
    pub expected: &'static str,
    /// The Variant's type.
    pub got: &'static str,
}

macro_rules! from_rust {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Variant {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

from_rust! {
    () => |_v| Variant::Nil,
    bool => |v| Variant::Bool(v),
    i8 => |v| Variant::Int(v.into()),
    i16 => |v| Variant::Int(v.into()),
    i32 => |v| Variant::Int(v.into()),
    i64 => |v| Variant::Int(v),
    u8 => |v| Variant::Int(v.into()),
    u16 => |v| Variant::Int(v.into()),
    u32 => |v| Variant::Int(v.into()),
    f32 => |v| Variant::Float(v.into()),
    f64 => |v| Variant::Float(v),
    &str => |v| Variant::String(v.to_owned()),
    String => |v| Variant::String(v),
    NodePath => |v| Variant::NodePath(v),
    Vec<Variant> => |v| Variant::Array(v),
    Vec<(Variant, Variant)> => |v| Variant::Dictionary(v),
    Vec<u8> => |v| Variant::PackedByteArray(v),
    &[u8] => |v| Variant::PackedByteArray(v.to_vec()),
    Vec<i32> => |v| Variant::PackedInt32Array(v),
    Vec<i64> => |v| Variant::PackedInt64Array(v),
    Vec<f32> => |v| Variant::PackedFloat32Array(v),
    Vec<f64> => |v| Variant::PackedFloat64Array(v),
    Vec<String> => |v| Variant::PackedStringArray(v),
}

impl<T: Into<Variant>> From<Option<T>> for Variant {
    fn from(v: Option<T>) -> Self {
        v.map_or(Variant::Nil, Into::into)
    }
}

fn wrong<T>(expected: &'static str, got: &Variant) -> Result<T, FromVariantError> {
    Err(FromVariantError {
        expected,
        got: got.type_name(),
    })
}

impl TryFrom<Variant> for bool {
    type Error = FromVariantError;
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::Bool(b) => Ok(b),
            other => wrong("bool", &other),
        }
    }
}

impl TryFrom<Variant> for i64 {
    type Error = FromVariantError;
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::Int(i) => Ok(i),
            other => wrong("i64", &other),
        }
    }
}

impl TryFrom<Variant> for f64 {
    type Error = FromVariantError;
    /// Accepts ints too, as GDScript does where a float is expected.
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::Float(f) => Ok(f),
            Variant::Int(i) => Ok(i as f64),
            other => wrong("f64", &other),
        }
    }
}

impl TryFrom<Variant> for String {
    type Error = FromVariantError;
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::String(s) | Variant::StringName(s) => Ok(s),
            Variant::NodePath(p) => Ok(p.to_string()),
            other => wrong("String", &other),
        }
    }
}

impl TryFrom<Variant> for Vec<Variant> {
    type Error = FromVariantError;
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::Array(a) | Variant::TypedArray(_, a) => Ok(a),
            other => wrong("Array", &other),
        }
    }
}

impl TryFrom<Variant> for Vec<u8> {
    type Error = FromVariantError;
    fn try_from(v: Variant) -> Result<Self, Self::Error> {
        match v {
            Variant::PackedByteArray(b) => Ok(b),
            other => wrong("PackedByteArray", &other),
        }
    }
}

impl Variant {
    /// Looks a key up in a Dictionary by string key (String or StringName).
    pub fn get(&self, key: &str) -> Option<&Variant> {
        let entries = match self {
            Variant::Dictionary(e) | Variant::TypedDictionary(_, _, e) => e,
            _ => return None,
        };
        entries.iter().find_map(|(k, v)| match k {
            Variant::String(s) | Variant::StringName(s) if s == key => Some(v),
            _ => None,
        })
    }

    /// The Dictionary's entries, if it is one.
    pub fn as_dictionary(&self) -> Option<&[(Variant, Variant)]> {
        match self {
            Variant::Dictionary(e) | Variant::TypedDictionary(_, _, e) => Some(e),
            _ => None,
        }
    }

    /// The string, if this is a String or StringName.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Variant::String(s) | Variant::StringName(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an int.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Variant::Int(i) => Some(*i),
            _ => None,
        }
    }
}
