//! Replays every input in `fuzz/regressions/mp_godot4/` and `mp_godot3/`
//! through the fuzz targets' entry points: the seeds and every crash the fuzzer
//! ever found stay fixed. `crates/wspeer-multiplayer/fuzz.sh` runs the fuzzer
//! itself (nightly toolchain, cargo-fuzz).

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory") {
        let path = entry.expect("an entry").path();
        let data = std::fs::read(&path).expect("an input");
        eprintln!("replaying {}", path.display());
        run(&data);
        count += 1;
    }
    assert!(count >= 5, "only {count} inputs in {}", dir.display());
}

#[test]
fn godot4_regressions_end_without_panicking() {
    replay("mp_godot4", wspeer_multiplayer::fuzzing::godot4);
}

#[test]
fn godot3_regressions_end_without_panicking() {
    replay("mp_godot3", wspeer_multiplayer::fuzzing::godot3);
}
