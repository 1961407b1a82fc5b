//! serde integration: any `Serialize` type becomes a [`Variant`] (structs and
//! maps as Dictionaries, sequences as Arrays), and a [`Variant`] becomes any
//! `Deserialize` type.

mod de;
mod ser;

use crate::Variant;

/// Why a value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SerdeError(String);

impl serde::ser::Error for SerdeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

impl serde::de::Error for SerdeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

/// Converts `value` to a Variant: a struct becomes a Dictionary with its field
/// names as String keys.
pub fn to_variant<T: serde::Serialize + ?Sized>(value: &T) -> Result<Variant, SerdeError> {
    value.serialize(ser::VariantSerializer)
}

/// Converts a Variant to `T`: a Dictionary with String keys fills a struct.
pub fn from_variant<T: serde::de::DeserializeOwned>(value: Variant) -> Result<T, SerdeError> {
    T::deserialize(value)
}
