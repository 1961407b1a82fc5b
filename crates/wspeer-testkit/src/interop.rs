//! Finding the outside programs interop tests need (Godot, kosoku, Chromium …),
//! and what to do when one is missing: skip with a loud message, or fail when
//! `WSPEER_REQUIRE_INTEROP=1` (as CI sets it after installing them).

use std::{io::Write, path::PathBuf};

/// The variable that turns a missing outside program into a failure.
pub const REQUIRE_ENV: &str = "WSPEER_REQUIRE_INTEROP";

/// `program` on the `PATH`, or `None` after [`skip`]ping `test`.
pub fn find_program(test: &str, program: &str, install_hint: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.exists())
    });
    if found.is_none() {
        skip(
            test,
            &format!("{program} is not installed ({install_hint})"),
        );
    }
    found
}

/// Reports that `test` cannot run because of `why`: a panic when
/// `WSPEER_REQUIRE_INTEROP=1`, otherwise a loud message on the process's stderr
/// (not the captured test output, so that a skip is never silent).
pub fn skip(test: &str, why: &str) {
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{test}: {REQUIRE_ENV}=1 but {why}");
    }
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {test}: {why}\n");
}
