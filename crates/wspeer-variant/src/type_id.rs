//! Type ids: Godot 3's `Variant::Type` (core/variant.h, 3.2) and Godot 4's
//! (core/variant/variant.h).

/// The wire types, independent of generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Kind {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Vector2,
    Vector2i,
    Rect2,
    Rect2i,
    Vector3,
    Vector3i,
    Transform2D,
    Vector4,
    Vector4i,
    Plane,
    Quaternion,
    Aabb,
    Basis,
    Transform3D,
    Projection,
    Color,
    StringName,
    NodePath,
    Rid,
    Object,
    Callable,
    Signal,
    Dictionary,
    Array,
    PackedByte,
    PackedInt32,
    PackedInt64,
    PackedFloat32,
    PackedFloat64,
    PackedString,
    PackedVector2,
    PackedVector3,
    PackedColor,
    PackedVector4,
}

use Kind::*;

const GODOT3: [Kind; 27] = [
    Nil,
    Bool,
    Int,
    Float,
    String,
    Vector2,
    Rect2,
    Vector3,
    Transform2D,
    Plane,
    Quaternion,
    Aabb,
    Basis,
    Transform3D,
    Color,
    NodePath,
    Rid,
    Object,
    Dictionary,
    Array,
    PackedByte,
    PackedInt32,
    PackedFloat32,
    PackedString,
    PackedVector2,
    PackedVector3,
    PackedColor,
];

const GODOT4: [Kind; 39] = [
    Nil,
    Bool,
    Int,
    Float,
    String,
    Vector2,
    Vector2i,
    Rect2,
    Rect2i,
    Vector3,
    Vector3i,
    Transform2D,
    Vector4,
    Vector4i,
    Plane,
    Quaternion,
    Aabb,
    Basis,
    Transform3D,
    Projection,
    Color,
    StringName,
    NodePath,
    Rid,
    Object,
    Callable,
    Signal,
    Dictionary,
    Array,
    PackedByte,
    PackedInt32,
    PackedInt64,
    PackedFloat32,
    PackedFloat64,
    PackedString,
    PackedVector2,
    PackedVector3,
    PackedColor,
    PackedVector4,
];

fn table(encoding: crate::Encoding) -> &'static [Kind] {
    match encoding {
        crate::Encoding::Godot3 => &GODOT3,
        crate::Encoding::Godot4 => &GODOT4,
    }
}

pub(crate) fn kind_of(id: u32, encoding: crate::Encoding) -> Option<Kind> {
    table(encoding).get(id as usize).copied()
}

pub(crate) fn id_of(kind: Kind, encoding: crate::Encoding) -> Option<u32> {
    table(encoding)
        .iter()
        .position(|k| *k == kind)
        .map(|i| i as u32)
}
