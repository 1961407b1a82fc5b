/// One Godot value. Math types hold their components in Godot's order
/// (`Transform2D` is `x.x, x.y, y.x, y.y, origin.x, origin.y`; `Basis` is row
/// major, `Transform3D` is the basis then the origin).
///
/// Equality is structural: a `Float(NaN)` is not equal to itself, as in Rust.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)]
pub enum Variant {
    #[default]
    Nil,
    Bool(bool),
    /// Written in 32 bits when it fits, else 64, as Godot does.
    Int(i64),
    /// Written in 32 bits when an `f32` holds it exactly, else 64, as Godot does.
    Float(f64),
    String(String),
    /// Godot 4 only; Godot 3 writes it as a `String`.
    StringName(String),
    NodePath(NodePath),
    Vector2([f32; 2]),
    Vector2i([i32; 2]),
    Rect2([f32; 4]),
    Rect2i([i32; 4]),
    Vector3([f32; 3]),
    Vector3i([i32; 3]),
    Transform2D([f32; 6]),
    Vector4([f32; 4]),
    Vector4i([i32; 4]),
    Plane([f32; 4]),
    /// `Quat` in Godot 3: x, y, z, w.
    Quaternion([f32; 4]),
    Aabb([f32; 6]),
    Basis([f32; 9]),
    /// `Transform` in Godot 3.
    Transform3D([f32; 12]),
    Projection([f32; 16]),
    Color([f32; 4]),
    /// Godot 3 carries no id (it decodes as `Rid(0)`); Godot 4 carries 64 bits.
    Rid(u64),
    /// An object sent as its instance id (`0` is a null object). Never
    /// instantiated.
    ObjectId(u64),
    /// Entries in the order they travel (Godot keeps insertion order).
    Dictionary(Vec<(Variant, Variant)>),
    Array(Vec<Variant>),
    /// Godot 4's `Array[T]`.
    TypedArray(ContainerType, Vec<Variant>),
    /// Godot 4's `Dictionary[K, V]`.
    TypedDictionary(ContainerType, ContainerType, Vec<(Variant, Variant)>),
    /// `PoolByteArray` in Godot 3.
    PackedByteArray(Vec<u8>),
    /// `PoolIntArray` in Godot 3.
    PackedInt32Array(Vec<i32>),
    PackedInt64Array(Vec<i64>),
    /// `PoolRealArray` in Godot 3.
    PackedFloat32Array(Vec<f32>),
    PackedFloat64Array(Vec<f64>),
    PackedStringArray(Vec<String>),
    PackedVector2Array(Vec<[f32; 2]>),
    PackedVector3Array(Vec<[f32; 3]>),
    PackedColorArray(Vec<[f32; 4]>),
    PackedVector4Array(Vec<[f32; 4]>),
}

/// The element type of a Godot 4 typed container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContainerType {
    /// Untyped (`Variant`).
    None,
    /// A built-in type, by its Godot 4 type id.
    Builtin(u32),
    /// A native class, by name.
    ClassName(String),
    /// A script, by resource path.
    Script(String),
}

/// A `NodePath`: names separated by `/`, subnames (properties) after `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodePath {
    /// Node names.
    pub names: Vec<String>,
    /// Subnames (property path).
    pub subnames: Vec<String>,
    /// Starts with `/`.
    pub absolute: bool,
}

impl NodePath {
    /// Parses Godot's text form, e.g. `/root/Main:position:x`.
    pub fn parse(text: &str) -> Self {
        let absolute = text.starts_with('/');
        let body = text.trim_start_matches('/');
        let mut parts = body.split(':');
        let names = parts
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let subnames = parts.filter(|s| !s.is_empty()).map(str::to_owned).collect();
        NodePath {
            names,
            subnames,
            absolute,
        }
    }
}

impl std::fmt::Display for NodePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.absolute {
            f.write_str("/")?;
        }
        f.write_str(&self.names.join("/"))?;
        for sub in &self.subnames {
            write!(f, ":{sub}")?;
        }
        Ok(())
    }
}

impl Variant {
    /// Godot 4's name for this value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Variant::Nil => "Nil",
            Variant::Bool(_) => "bool",
            Variant::Int(_) => "int",
            Variant::Float(_) => "float",
            Variant::String(_) => "String",
            Variant::StringName(_) => "StringName",
            Variant::NodePath(_) => "NodePath",
            Variant::Vector2(_) => "Vector2",
            Variant::Vector2i(_) => "Vector2i",
            Variant::Rect2(_) => "Rect2",
            Variant::Rect2i(_) => "Rect2i",
            Variant::Vector3(_) => "Vector3",
            Variant::Vector3i(_) => "Vector3i",
            Variant::Transform2D(_) => "Transform2D",
            Variant::Vector4(_) => "Vector4",
            Variant::Vector4i(_) => "Vector4i",
            Variant::Plane(_) => "Plane",
            Variant::Quaternion(_) => "Quaternion",
            Variant::Aabb(_) => "AABB",
            Variant::Basis(_) => "Basis",
            Variant::Transform3D(_) => "Transform3D",
            Variant::Projection(_) => "Projection",
            Variant::Color(_) => "Color",
            Variant::Rid(_) => "RID",
            Variant::ObjectId(_) => "Object",
            Variant::Dictionary(_) => "Dictionary",
            Variant::Array(_) => "Array",
            Variant::TypedArray(..) => "Array[T]",
            Variant::TypedDictionary(..) => "Dictionary[K, V]",
            Variant::PackedByteArray(_) => "PackedByteArray",
            Variant::PackedInt32Array(_) => "PackedInt32Array",
            Variant::PackedInt64Array(_) => "PackedInt64Array",
            Variant::PackedFloat32Array(_) => "PackedFloat32Array",
            Variant::PackedFloat64Array(_) => "PackedFloat64Array",
            Variant::PackedStringArray(_) => "PackedStringArray",
            Variant::PackedVector2Array(_) => "PackedVector2Array",
            Variant::PackedVector3Array(_) => "PackedVector3Array",
            Variant::PackedColorArray(_) => "PackedColorArray",
            Variant::PackedVector4Array(_) => "PackedVector4Array",
        }
    }
}
