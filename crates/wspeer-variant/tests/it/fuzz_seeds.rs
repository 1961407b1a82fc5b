//! Replays every input in `fuzz/regressions/variant/` through the fuzz
//! target's body, so seeds and any crash the fuzzer found stay fixed.

#[test]
fn variant_regressions_hold_their_invariants() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/variant");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the regression directory") {
        let path = entry.expect("an entry").path();
        eprintln!("replaying {}", path.display());
        wspeer_variant::fuzzing::decode_both(&std::fs::read(&path).expect("an input"));
        count += 1;
    }
    assert!(count >= 10, "only {count} inputs in {}", dir.display());
}
