//! Connecting, accepting, closing and reusing `WebSocketPeer`s.

use std::{net::IpAddr, time::Duration};

use crate::support::{accept, pair, pair_with, poll_until, server, wait_closed, wait_packets};
use wspeer::{CloseError, PeerError, ReadyState, WebSocketPeer};

#[test]
fn starts_closed_and_connects() {
    let peer = WebSocketPeer::new();
    assert_eq!(peer.ready_state(), ReadyState::Closed);
    assert_eq!(peer.close_code(), -1);
    assert_eq!(peer.connected_port(), 0);

    let (mut tcp, url) = server();
    let mut client = WebSocketPeer::new();
    client.connect_to_url(&format!("{url}path?q=1")).unwrap();
    assert_eq!(client.ready_state(), ReadyState::Connecting);
    assert_eq!(client.requested_url(), format!("{url}path?q=1"));
    let mut served = WebSocketPeer::new();
    accept(&mut tcp, &mut served);
    assert_eq!(served.ready_state(), ReadyState::Connecting);
    poll_until("open", || {
        client.poll();
        served.poll();
        client.ready_state() == ReadyState::Open && served.ready_state() == ReadyState::Open
    });
    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(client.connected_host(), Some(localhost));
    assert_eq!(client.connected_port(), tcp.local_port());
    assert_eq!(served.connected_host(), Some(localhost));
    assert_ne!(served.connected_port(), 0);
    assert_eq!(
        served.requested_url(),
        format!("ws://127.0.0.1:{}/path?q=1", tcp.local_port())
    );
    assert_eq!(client.selected_protocol(), "");
}

#[test]
fn subprotocol_is_negotiated_in_client_order() {
    let mut server_peer = WebSocketPeer::new();
    server_peer.set_supported_protocols(["b", " a "]);
    assert_eq!(server_peer.supported_protocols(), ["b", "a"]);
    let mut client = WebSocketPeer::new();
    client.set_supported_protocols(["c", "a", "b"]);
    let (server_peer, client) = pair_with(server_peer, client);
    assert_eq!(server_peer.selected_protocol(), "a");
    assert_eq!(client.selected_protocol(), "a");
}

#[test]
fn protocol_mismatch_closes_with_minus_one_and_says_why() {
    let (mut tcp, url) = server();
    let mut client = WebSocketPeer::new();
    client.set_supported_protocols(["x"]);
    client.connect_to_url(&url).unwrap();
    let mut served = WebSocketPeer::new();
    served.set_supported_protocols(["demo-chat"]);
    accept(&mut tcp, &mut served);
    poll_until("both closed", || {
        client.poll();
        served.poll();
        client.ready_state() == ReadyState::Closed && served.ready_state() == ReadyState::Closed
    });
    assert_eq!(client.close_code(), -1);
    let why = client.connect_error().expect("a connect error").to_string();
    assert!(why.contains("400"), "{why}");
    assert!(why.contains("demo-chat"), "{why}");
}

#[test]
fn clean_close_both_ways() {
    let (mut server, mut client) = pair();
    client.close(4000, "bye").unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closing);
    wait_closed(&mut client, &mut server);
    wait_closed(&mut server, &mut client);
    // Each side reports the code it received: the server got ours, we got its echo.
    assert_eq!((server.close_code(), server.close_reason()), (4000, "bye"));
    assert_eq!((client.close_code(), client.close_reason()), (4000, "bye"));

    let (mut server, mut client) = pair();
    server.close_normal();
    wait_closed(&mut client, &mut server);
    assert_eq!(client.close_code(), 1000);
    assert_eq!(client.close_reason(), "");
}

#[test]
fn negative_code_drops_without_a_close_frame() {
    let (mut server, mut client) = pair();
    client.close(-1, "").unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(client.close_code(), -1);
    wait_closed(&mut server, &mut client);
    assert_eq!(server.close_code(), -1);
}

#[test]
fn invalid_close_requests_are_refused() {
    let (_server, mut client) = pair();
    assert_eq!(client.close(1005, ""), Err(CloseError::InvalidCode(1005)));
    assert_eq!(
        client.close(1000, &"r".repeat(124)),
        Err(CloseError::ReasonTooLong(124))
    );
    assert_eq!(client.ready_state(), ReadyState::Open);
}

#[test]
fn close_while_connecting_closes_at_once() {
    let (_tcp, url) = server();
    let mut client = WebSocketPeer::new();
    client.connect_to_url(&url).unwrap();
    client.close(1000, "").unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(client.close_code(), -1);
}

#[test]
fn a_busy_peer_cannot_connect_again_but_a_closed_one_can() {
    let (mut server, mut client) = pair();
    assert!(matches!(
        client.connect_to_url("ws://127.0.0.1:1/"),
        Err(PeerError::AlreadyInUse)
    ));
    client.close_normal();
    wait_closed(&mut client, &mut server);

    let (mut tcp, url) = crate::support::server();
    client.connect_to_url(&url).unwrap();
    let mut second = WebSocketPeer::new();
    accept(&mut tcp, &mut second);
    poll_until("reopened", || {
        client.poll();
        second.poll();
        client.ready_state() == ReadyState::Open && second.ready_state() == ReadyState::Open
    });
    second.send_text("again").unwrap();
    wait_packets(&mut client, 1);
    assert_eq!(&client.get_packet().unwrap()[..], b"again");
}

#[test]
fn bad_urls_and_headers_are_refused_at_once() {
    let mut peer = WebSocketPeer::new();
    assert!(matches!(
        peer.connect_to_url("http://example.com"),
        Err(PeerError::Invalid(_))
    ));
    assert!(matches!(
        peer.connect_to_url(""),
        Err(PeerError::Invalid(_))
    ));
    peer.set_handshake_headers(["no colon here"]);
    assert!(matches!(
        peer.connect_to_url("ws://127.0.0.1:1/"),
        Err(PeerError::InvalidHeader(_))
    ));
    assert_eq!(peer.ready_state(), ReadyState::Closed);
}

#[test]
fn refused_connection_ends_closed_with_minus_one() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client = WebSocketPeer::new();
    client
        .connect_to_url(&format!("ws://127.0.0.1:{port}/"))
        .unwrap();
    poll_until("closed", || {
        client.poll();
        client.ready_state() == ReadyState::Closed
    });
    assert_eq!(client.close_code(), -1);
    assert!(matches!(
        client.connect_error(),
        Some(wspeer::ConnectError::Refused { .. })
    ));
}

#[test]
fn dropping_an_open_peer_closes_it_with_1001() {
    let (server, mut client) = pair();
    drop(server);
    poll_until("closed by the drop", || {
        client.poll();
        client.ready_state() == ReadyState::Closed
    });
    assert_eq!(client.close_code(), 1001);
}

#[test]
fn settings_round_trip() {
    let mut peer = WebSocketPeer::new();
    assert_eq!(peer.inbound_buffer_size(), 65535);
    assert_eq!(peer.outbound_buffer_size(), 65535);
    assert_eq!(peer.max_queued_packets(), 2048);
    assert_eq!(peer.heartbeat_interval(), Duration::ZERO);
    peer.set_inbound_buffer_size(100);
    peer.set_outbound_buffer_size(200);
    peer.set_max_queued_packets(3);
    peer.set_heartbeat_interval(Duration::from_millis(250));
    peer.set_handshake_headers(["X-Game: demo"]);
    assert_eq!(peer.inbound_buffer_size(), 100);
    assert_eq!(peer.outbound_buffer_size(), 200);
    assert_eq!(peer.max_queued_packets(), 3);
    assert_eq!(peer.heartbeat_interval(), Duration::from_millis(250));
    assert_eq!(peer.handshake_headers(), ["X-Game: demo"]);
    peer.set_no_delay(false);
    assert!(!peer.config().no_delay);
}

#[test]
fn set_no_delay_on_a_live_connection_keeps_it_working() {
    let (mut server, mut client) = pair();
    client.set_no_delay(false);
    client.send_text("still here").unwrap();
    wait_packets(&mut server, 1);
    assert_eq!(&server.get_packet().unwrap()[..], b"still here");
}
