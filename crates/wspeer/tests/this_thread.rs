//! `runtime::use_this_thread`: every connection runs inside `poll()` on the
//! polling thread, and no background thread is started. Every test here uses
//! that mode (the background runtime's presence is process-wide).

mod support;

use std::time::{Duration, Instant};

use support::{poll_until, server};
use wspeer::{ReadyState, WebSocketPeer, runtime};

/// A server peer and `count` clients, all polled from this thread.
fn connected(count: usize) -> (Vec<WebSocketPeer>, Vec<WebSocketPeer>) {
    let (mut server, url) = server();
    let mut clients: Vec<WebSocketPeer> = (0..count)
        .map(|_| {
            let mut client = WebSocketPeer::new();
            client.connect_to_url(&url).expect("connect_to_url");
            client
        })
        .collect();
    let mut accepted = Vec::new();
    poll_until("every client to open", || {
        // The clients' TCP connects run only while this thread polls them.
        for client in &mut clients {
            client.poll();
        }
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            peer.accept_stream(stream).expect("accept_stream");
            accepted.push(peer);
        }
        for peer in &mut accepted {
            peer.poll();
        }
        accepted.len() == count
            && accepted.iter().all(|p| p.ready_state() == ReadyState::Open)
            && clients.iter().all(|c| c.ready_state() == ReadyState::Open)
    });
    (accepted, clients)
}

#[test]
fn many_connections_echo_on_one_thread_with_no_background_runtime() {
    runtime::use_this_thread().expect("use_this_thread");
    let (mut servers, mut clients) = connected(20);
    for (i, client) in clients.iter_mut().enumerate() {
        client.send_text(&format!("hello {i}")).expect("send");
    }
    let mut echoed = 0;
    poll_until("every echo", || {
        // One pass of a game loop: the first poll does the I/O for all.
        for server in &mut servers {
            server.poll();
            while let Ok(packet) = server.get_packet() {
                server.put_packet(&packet).expect("echo");
            }
        }
        for client in &mut clients {
            client.poll();
            while let Ok(packet) = client.get_packet() {
                assert!(packet.starts_with(b"hello "));
                echoed += 1;
            }
        }
        echoed == 20
    });
    assert!(
        !runtime::is_background_running(),
        "this-thread mode must not start the background runtime"
    );
    for client in &mut clients {
        client.close_normal();
    }
    poll_until("clean closes", || {
        servers.iter_mut().for_each(WebSocketPeer::poll);
        clients.iter_mut().for_each(WebSocketPeer::poll);
        clients
            .iter()
            .all(|c| c.ready_state() == ReadyState::Closed)
    });
    assert!(clients.iter().all(|c| c.close_code() == 1000));
    runtime::stop_using_this_thread();
}

#[test]
fn wait_for_activity_returns_when_a_message_arrives_and_times_out_otherwise() {
    runtime::use_this_thread().expect("use_this_thread");
    let (mut servers, mut clients) = connected(1);
    let (server, client) = (&mut servers[0], &mut clients[0]);
    // Let earlier news (the opening) be consumed first.
    while runtime::wait_for_activity(Duration::from_millis(50)) {}
    let started = Instant::now();
    assert!(!runtime::wait_for_activity(Duration::from_millis(100)));
    assert!(started.elapsed() >= Duration::from_millis(100));

    client.send_text("ping").expect("send");
    client.poll(); // queues the wake-up; the next tick writes the message
    let started = Instant::now();
    assert!(runtime::wait_for_activity(Duration::from_secs(10)));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the wait ended with the message, not the timeout"
    );
    server.poll();
    assert_eq!(server.get_packet().expect("the message"), &b"ping"[..]);
    runtime::stop_using_this_thread();
}

#[test]
fn use_this_thread_is_refused_inside_a_tokio_runtime() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let refused = tokio.block_on(async { runtime::use_this_thread() });
    assert!(refused.is_err());
}
