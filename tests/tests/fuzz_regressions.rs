//! Replays every input in `fuzz/regressions/server_input/` (a compressed
//! session among them) and `fuzz/regressions/connection/` through the fuzz targets' entry points: the
//! seeds and every crash the fuzzer ever found stay fixed. `fuzz/run.sh` runs
//! the fuzzer itself (nightly toolchain).

use std::path::PathBuf;

#[test]
fn every_regression_input_ends_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/server_input");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory") {
        let path = entry.expect("an entry").path();
        let data = std::fs::read(&path).expect("an input");
        eprintln!("replaying {}", path.display());
        wspeer_core::fuzzing::server_input(&data);
        count += 1;
    }
    assert!(
        count >= 5,
        "only {count} regression inputs in {}",
        dir.display()
    );
}

/// Inputs of the connection machine's target: the largest of a 1,048,178-run
/// corpus (coverage 907), kept so that a change that breaks one shows here.
#[test]
fn every_machine_regression_input_holds_its_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/connection");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory") {
        let data = std::fs::read(entry.expect("an entry").path()).expect("an input");
        wspeer_core::fuzzing::connection_machine(&data);
        count += 1;
    }
    assert!(count >= 10, "only {count} inputs in {}", dir.display());
}
