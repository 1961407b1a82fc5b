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
