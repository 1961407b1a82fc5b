/// Which generation of Godot's format to read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Godot 3.x (`var2bytes`), as 3.2.3 writes it.
    #[default]
    Godot3,
    /// Godot 4.x (`var_to_bytes`), single-precision build.
    Godot4,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Godot3 => "Godot 3",
            Encoding::Godot4 => "Godot 4",
        })
    }
}
