//! Bounded waits for every test: a step that goes wrong fails with a message
//! naming what it waited for, instead of hanging. Each bound is a guard against
//! hangs, never a speed requirement, so it is generous for slow, busy machines.

use std::{
    future::Future,
    thread,
    time::{Duration, Instant},
};

/// The longest any single step of a test may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// For a step that includes starting an outside program (Godot, Chromium,
/// nginx): their start-up alone can take seconds on a loaded machine.
pub const PROGRAM_WAIT: Duration = Duration::from_secs(60);

/// For the whole Autobahn run, hundreds of cases in one step.
pub const AUTOBAHN_WAIT: Duration = Duration::from_secs(1200);

/// How long a poll loop rests between two looks, so that it does not spin.
const POLL: Duration = Duration::from_millis(2);

/// Calls `step` until it returns true or `bound` has passed; whether it did.
/// For game-loop style tests, where `step` polls the peers itself; callers that
/// can say more than "timed out" build their own message from the result.
pub fn poll_within(bound: Duration, mut step: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        if step() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}

/// Calls `step` until it returns true; panics naming `what` after [`WAIT`].
pub fn poll_until(what: &str, step: impl FnMut() -> bool) {
    assert!(
        poll_within(WAIT, step),
        "timed out after {WAIT:?} waiting for {what}"
    );
}

/// Awaits `future` for at most [`WAIT`]; panics naming `what` if it takes longer.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    within_for(WAIT, what, future).await
}

/// Awaits `future` for at most `bound`; panics naming `what` if it takes longer.
pub async fn within_for<F: Future>(bound: Duration, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(bound, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {bound:?} waiting for {what}"),
    }
}

/// Checks `condition` every few milliseconds until it returns `Ok`; panics after
/// [`WAIT`] with `what` and the last `Err` it gave, which should say what was
/// seen instead. Uses tokio's clock, so it also works with a paused one.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> Result<(), String>) {
    eventually_async(what, async || condition()).await;
}

/// [`eventually`] for a condition that has to await to look, such as trying
/// to connect to a program that is starting.
pub async fn eventually_async(what: &str, condition: impl AsyncFnMut() -> Result<(), String>) {
    eventually_async_for(WAIT, what, condition).await;
}

/// [`eventually_async`] with a bound of its own, for a whole wave of clients
/// rather than one step.
pub async fn eventually_async_for(
    bound: Duration,
    what: &str,
    mut condition: impl AsyncFnMut() -> Result<(), String>,
) {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        match condition().await {
            Ok(()) => return,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("timed out after {bound:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
