//! Sending and receiving through `WebSocketPeer` over real sockets.

use crate::support::{pair, pair_with, poll_until, wait_packets};
use wspeer::{GetPacketError, ReadyState, SendError, WebSocketPeer, WriteMode};

#[test]
fn text_and_binary_keep_their_kind() {
    let (mut server, mut client) = pair();
    client.send_text("héllo").unwrap();
    client.send(b"raw", WriteMode::Binary).unwrap();
    client.put_packet(&[]).unwrap();
    client.send("as text".as_bytes(), WriteMode::Text).unwrap();
    wait_packets(&mut server, 4);

    assert_eq!(server.available_packet_count(), 4);
    assert_eq!(&server.get_packet().unwrap()[..], "héllo".as_bytes());
    assert!(server.was_string_packet());
    assert_eq!(&server.get_packet().unwrap()[..], b"raw");
    assert!(!server.was_string_packet());
    assert_eq!(server.get_packet().unwrap().len(), 0);
    assert!(!server.was_string_packet());
    assert_eq!(server.get_message().unwrap().as_text(), Some("as text"));
    assert!(server.was_string_packet());
    assert_eq!(server.available_packet_count(), 0);
    assert_eq!(server.get_packet(), Err(GetPacketError::Unavailable));
}

/// Polls only `server` until it is closed: it closed first, so it is closed
/// once the other side's task echoed the close, which that task does without
/// its own game loop polling.
fn wait_server_closed(server: &mut WebSocketPeer) {
    poll_until("the close echo", || {
        server.poll();
        server.ready_state() == ReadyState::Closed
    });
    assert_ne!(server.close_code(), -1, "the close was not echoed");
}

#[test]
fn packet_count_moves_only_in_poll() {
    let (mut server, mut client) = pair();
    server.send_text("one").unwrap();
    // A close after it: once the server is closed, the client's task has
    // echoed the close, so it has read "one" too. It must still be invisible.
    server.close(1000, "").unwrap();
    wait_server_closed(&mut server);
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(client.available_packet_count(), 0);
    assert_eq!(client.get_packet(), Err(GetPacketError::Unavailable));
    client.poll();
    assert_eq!(client.available_packet_count(), 1);
    assert_eq!(&client.get_packet().unwrap()[..], b"one");
}

#[test]
fn state_moves_only_in_poll() {
    let (mut server, mut client) = pair();
    server.close(4001, "bye").unwrap();
    wait_server_closed(&mut server);
    // The close has reached the client's task, but the game loop has not polled.
    assert_eq!(client.ready_state(), ReadyState::Open);
    poll_until("client closed", || {
        client.poll();
        server.poll();
        client.ready_state() == ReadyState::Closed
    });
    assert_eq!(client.close_code(), 4001);
    assert_eq!(client.close_reason(), "bye");
}

#[test]
fn invalid_utf8_text_is_refused_and_nothing_is_sent() {
    let (mut server, mut client) = pair();
    assert_eq!(
        client.send(&[0xff, 0xfe], WriteMode::Text),
        Err(SendError::InvalidUtf8)
    );
    client.send_text("after").unwrap();
    wait_packets(&mut server, 1);
    assert_eq!(&server.get_packet().unwrap()[..], b"after");
    assert_eq!(client.ready_state(), ReadyState::Open);
}

#[test]
fn sending_when_not_open_fails() {
    let mut peer = WebSocketPeer::new();
    assert_eq!(peer.send_text("x"), Err(SendError::NotOpen));
    assert_eq!(peer.put_packet(b"x"), Err(SendError::NotOpen));
    let (_server, mut client) = pair();
    client.close_normal();
    assert_eq!(client.ready_state(), ReadyState::Closing);
    assert_eq!(client.send_text("late"), Err(SendError::NotOpen));
}

#[test]
fn full_outbound_queue_fails_at_once() {
    let mut client = WebSocketPeer::new();
    client.set_max_queued_packets(4);
    client.set_outbound_buffer_size(1000);
    let (_server, mut client) = pair_with(WebSocketPeer::new(), client);

    assert_eq!(client.put_packet(&[0; 1001]), Err(SendError::TooLarge));
    // The server never reads, so its socket buffers fill up, then our queue.
    let chunk = [7u8; 1000];
    let mut full = false;
    for _ in 0..100_000 {
        match client.put_packet(&chunk) {
            Ok(()) => {}
            Err(SendError::Full) => {
                full = true;
                break;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        client.poll();
    }
    assert!(full, "the outbound queue never filled");
    assert!(client.current_outbound_buffered_amount() <= 1000);
    assert_eq!(client.ready_state(), ReadyState::Open);
}

#[test]
fn buffered_amount_grows_on_send_and_drains_after_poll() {
    let (mut server, mut client) = pair();
    assert_eq!(client.current_outbound_buffered_amount(), 0);
    client.put_packet(&[1; 300]).unwrap();
    client.send_text("abc").unwrap();
    assert_eq!(client.current_outbound_buffered_amount(), 303);
    poll_until("flushed", || {
        client.poll();
        client.current_outbound_buffered_amount() == 0
    });
    wait_packets(&mut server, 2);
}

#[test]
fn messages_arrive_once_and_in_order() {
    let (mut server, mut client) = pair();
    let total = 5000;
    let mut sent = 0;
    let mut received = 0;
    poll_until("all messages", || {
        while sent < total && client.send_text(&sent.to_string()).is_ok() {
            sent += 1;
        }
        client.poll();
        server.poll();
        while let Ok(packet) = server.get_packet() {
            assert_eq!(packet, received.to_string().as_bytes());
            received += 1;
        }
        received == total
    });
    server.poll();
    assert_eq!(server.available_packet_count(), 0);
}

fn compressing() -> WebSocketPeer {
    let mut peer = WebSocketPeer::new();
    peer.set_config(wspeer_core::Config::default().permessage_deflate(Default::default()));
    peer
}

/// permessage-deflate is a `Config` setting in the facade too, off by
/// default: both ends must want it, and then messages travel compressed.
#[test]
fn compression_when_both_sides_set_it() {
    let (server, client) = pair();
    assert_eq!((server.compression(), client.compression()), (None, None));

    let (mut server, mut client) = pair_with(compressing(), WebSocketPeer::new());
    assert_eq!((server.compression(), client.compression()), (None, None));
    client.send_text("plain").unwrap();
    wait_packets(&mut server, 1);
    assert_eq!(&server.get_packet().unwrap()[..], b"plain");

    let (mut server, mut client) = pair_with(compressing(), compressing());
    let agreed = server.compression().expect("agreed");
    assert_eq!(client.compression(), Some(agreed));
    let line = "player 7 moved to the market square and bought bread. ".repeat(40);
    let before = wspeer_core::compression_totals();
    client.send_text(&line).unwrap();
    wait_packets(&mut server, 1);
    assert_eq!(server.get_message().unwrap().as_text(), Some(line.as_str()));
    assert!(wspeer_core::compression_totals().received_messages > before.received_messages);
}
