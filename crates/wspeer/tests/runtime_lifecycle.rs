//! The background runtime starts on first use and stops, with its thread, once
//! the last peer is gone. Alone in its test binary, so no other test keeps it up.

mod support;

use std::fs;

use support::{pair, poll_until, wait_closed};
use wspeer::runtime;

/// Threads of this process named like the background runtime's.
fn runtime_threads() -> usize {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.trim() == runtime::THREAD_NAME)
        .count()
}

#[test]
fn the_runtime_stops_when_the_last_peer_is_gone() {
    assert!(!runtime::is_background_running());
    let (mut server, mut client) = pair();
    assert!(runtime::is_background_running());
    if cfg!(target_os = "linux") {
        assert_eq!(runtime_threads(), 1);
    }

    client.close_normal();
    wait_closed(&mut client, &mut server);
    drop((server, client));
    poll_until("the runtime to stop", || !runtime::is_background_running());
    if cfg!(target_os = "linux") {
        poll_until("the runtime thread to exit", || runtime_threads() == 0);
    }

    // And it comes back for the next peer.
    let (_server, _client) = pair();
    assert!(runtime::is_background_running());
}
