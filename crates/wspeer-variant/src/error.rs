use crate::Encoding;

/// Why bytes could not be decoded, and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    /// Offset into the input where the offending field starts.
    pub offset: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ends before a field that its header announced.
    #[error("input truncated: {what} needs {needed} bytes, {available} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the input.
        available: usize,
    },
    /// The header names a type id this generation does not have.
    #[error("unknown type id {0}")]
    UnknownType(u32),
    /// A string is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A count is negative when read as Godot's `int32_t`.
    #[error("negative count {0}")]
    NegativeCount(i32),
    /// Containers nest deeper than [`crate::MAX_DEPTH`].
    #[error("containers nested deeper than {0}")]
    TooDeep(usize),
    /// A full object (class name and properties); Godot refuses these unless
    /// `allow_objects` is set, and wspeer never instantiates objects.
    #[error("full object refused (only objects encoded as ids are accepted)")]
    ObjectRefused,
    /// A Callable, which cannot travel over the network.
    #[error("Callable refused: it cannot be serialized")]
    CallableRefused,
    /// A Signal, which refers to an object on the sender's side.
    #[error("Signal refused: it cannot be serialized")]
    SignalRefused,
    /// A NodePath in the pre-3.0 format (a bare string), which Godot refuses.
    #[error("NodePath in the obsolete string format")]
    ObsoleteNodePath,
}

/// Why a value could not be encoded in the chosen generation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The type does not exist in that generation (e.g. `Vector2i` in Godot 3).
    #[error("{type_name} does not exist in {encoding}")]
    NotInGeneration {
        /// The Variant type's name.
        type_name: &'static str,
        /// The generation asked for.
        encoding: Encoding,
    },
    /// A string, array or dictionary longer than Godot's 31-bit counts.
    #[error("{type_name} of {len} elements is too long for Godot's 32-bit counts")]
    TooLong {
        /// The Variant type's name.
        type_name: &'static str,
        /// Its length.
        len: usize,
    },
    /// Containers nest deeper than [`crate::MAX_DEPTH`].
    #[error("containers nested deeper than {0}")]
    TooDeep(usize),
}
