//! Replays every input in `fuzz/regressions/server_input/` through the fuzz
//! target's entry point: the seeds and every crash the fuzzer ever found stay
//! fixed. `fuzz/run.sh` runs the fuzzer itself (nightly toolchain).

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
