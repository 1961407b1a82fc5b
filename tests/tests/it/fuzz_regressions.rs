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

/// The largest inputs of the permessage-deflate targets' corpora:
/// `deflate_decode` (1,666,319 runs in 241 s, coverage 1425) and
/// `deflate_negotiation` (438,584 runs in 121 s, coverage 569), no crash.
#[test]
fn every_deflate_regression_input_holds_its_invariants() {
    for (target, run) in [
        (
            "deflate_decode",
            wspeer_core::fuzzing::deflate_decode as fn(&[u8]),
        ),
        (
            "deflate_negotiation",
            wspeer_core::fuzzing::deflate_negotiation,
        ),
    ] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions")
            .join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).expect("the regression directory") {
            run(&std::fs::read(entry.expect("an entry").path()).expect("an input"));
            count += 1;
        }
        assert!(count >= 10, "only {count} inputs in {}", dir.display());
    }
}
