//! `runtime::wait_for_activity` with the default background runtime: a loop
//! that waits instead of sleeping wakes up for a message, not at its timeout.

mod support;

use std::time::{Duration, Instant};

use support::pair;
use wspeer::runtime;

#[test]
fn wait_for_activity_returns_for_a_message_not_at_the_timeout() {
    let (mut server, mut client) = pair();
    // Use up the news of the opening first.
    while runtime::wait_for_activity(Duration::from_millis(50)) {}

    let started = Instant::now();
    client.send_text("wake up").expect("send");
    let mut got = None;
    while got.is_none() {
        assert!(
            runtime::wait_for_activity(Duration::from_secs(20)),
            "the wait ended by its timeout, not by the message"
        );
        server.poll();
        got = server.get_packet().ok();
    }
    assert_eq!(got.as_deref(), Some(&b"wake up"[..]));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the message took {:?} to wake the loop",
        started.elapsed()
    );
}
