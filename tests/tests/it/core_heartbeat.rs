//! The heartbeat (Godot 4.4's `heartbeat_interval`): a peer that never answers
//! pings is dropped with code -1; one that answers keeps the connection open.

use std::time::Duration;

use wspeer_core::{CloseStatus, Config, Message, ReadyState};
use wspeer_tests::{
    frames::{PING, read_frame},
    raw_server::client_of_raw_server,
    server::connected,
    within,
};

const INTERVAL: Duration = Duration::from_millis(200);

#[tokio::test]
async fn peer_that_never_answers_pings_is_dropped_with_minus_one() {
    let (client, mut stream) =
        client_of_raw_server(Config::default().heartbeat_interval(INTERVAL)).await;
    // The raw server reads frames but never answers.
    let peer = tokio::spawn(async move {
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut stream).await.expect("read a frame") {
            frames.push(frame);
        }
        frames
    });

    let closed = within("the heartbeat to give up", client.closed()).await;
    assert_eq!(closed, CloseStatus::unclean());
    // The peer saw one empty, masked ping and then the TCP connection end, with
    // no close frame (as Godot: the heartbeat timeout is close(-1)).
    let frames = within("the raw server to see EOF", peer)
        .await
        .expect("raw server");
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].opcode, PING);
    assert!(frames[0].fin && frames[0].masked && frames[0].payload.is_empty());
}

#[tokio::test]
async fn peer_that_answers_pings_stays_connected() {
    let config = Config::default().heartbeat_interval(INTERVAL);
    let (mut ws, mut client) = connected(config.clone(), config).await;

    // Several intervals with both heartbeats running and no data: each side's
    // pings are answered by the other. The idle stretch is the behaviour under
    // test (a real-socket peer, so tokio's paused clock would outrun the pongs).
    tokio::time::sleep(INTERVAL * 6).await;
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(ws.ready_state(), ReadyState::Open);

    client.send("still alive").await.expect("send");
    assert_eq!(
        within("the message", ws.recv()).await,
        Some(Message::text("still alive"))
    );
    ws.send("yes").await.expect("send");
    assert_eq!(
        within("the reply", client.recv()).await,
        Some(Message::text("yes"))
    );
    client.close(1000, "").expect("close");
    assert_eq!(within("close", ws.closed()).await.code, 1000);
}

/// A server whose application stops reading (its inbound queue full) stops
/// reading the socket, so the client's pongs wait unread: that is our own
/// backpressure, not a dead peer, and must not drop the connection.
#[tokio::test]
async fn a_full_inbound_queue_does_not_fail_the_heartbeat() {
    let config = Config::default()
        .heartbeat_interval(INTERVAL)
        .max_queued_packets(2);
    let (mut ws, client) = connected(config.clone(), Config::default()).await;
    // Fill the server's queue and more; the rest waits in the socket.
    for i in 0..20 {
        client
            .try_send(Message::text(format!("message {i}")))
            .expect("queue");
    }
    // Five heartbeat intervals without reading: the stretch of unread pongs is
    // the behaviour under test, as above.
    tokio::time::sleep(INTERVAL * 5).await;
    assert_eq!(ws.ready_state(), ReadyState::Open);
    for i in 0..20 {
        let got = within("a message", ws.recv()).await.expect("a message");
        assert_eq!(got, Message::text(format!("message {i}")));
    }
    assert_eq!(ws.ready_state(), ReadyState::Open);
}
