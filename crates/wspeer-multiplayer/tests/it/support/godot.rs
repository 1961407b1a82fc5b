//! Real Godot for interop tests: `wspeer_testkit::godot`, pointed at this
//! crate's GDScript in `tests/godot/`.

use std::path::{Path, PathBuf};

use wspeer_testkit::godot::Godot;

/// Starts `script` of this crate's Godot project.
pub fn start(godot: &Path, script: &str, env: &[(&str, String)]) -> Godot {
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/godot");
    Godot::start(godot, &project, script, env)
}
