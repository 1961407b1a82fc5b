//! Bounded waits: every await in a test goes through [`within`], so a test that
//! goes wrong fails with a message instead of hanging.

use std::{future::Future, time::Duration};

/// The longest any single step of a test may take. Generous, because CI machines
/// are slow and busy; it is a guard against hangs, never a speed requirement.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future` for at most [`WAIT`]; panics naming `what` if it takes longer.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(WAIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(10);

/// Checks `condition` every few milliseconds until it returns `Ok`; panics after
/// [`WAIT`] with `what` and the last `Err` it gave, which should say what was
/// seen instead.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> Result<(), String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match condition() {
            Ok(()) => return,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("timed out after {WAIT:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
