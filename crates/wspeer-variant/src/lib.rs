//! Godot's binary Variant serialization (`var2bytes`/`bytes2var` in Godot 3,
//! `var_to_bytes`/`bytes_to_var` in Godot 4, and `PacketPeer.put_var`/`get_var`).
//!
//! Sans-IO: [`encode`] turns a [`Variant`] into bytes, [`decode`] turns bytes
//! into a [`Variant`]. The generation is always chosen explicitly with
//! [`Encoding`], because the type ids and several layouts differ.
//!
//! Decoding is safe on hostile input: it never panics, never reserves more
//! than the remaining input can hold, and stops at [`MAX_DEPTH`] nested
//! containers. Full objects, Callables and Signals are refused; objects sent
//! as ids decode to [`Variant::ObjectId`] and nothing is ever instantiated.

mod convert;
mod decode;
mod encode;
mod encoding;
mod error;
pub mod fuzzing;
#[cfg(feature = "serde")]
mod serde;
mod type_id;
mod value;

#[cfg(feature = "serde")]
pub use crate::serde::{SerdeError, from_variant, to_variant};
pub use convert::FromVariantError;
pub use decode::{MAX_DEPTH, decode, decode_prefix};
pub use encode::{encode, encode_into};
pub use encoding::Encoding;
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use value::{ContainerType, NodePath, Variant};
