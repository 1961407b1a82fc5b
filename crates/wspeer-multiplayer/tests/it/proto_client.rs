//! The client state machines alone, fed by hand as a server would feed them,
//! on a virtual clock: the handshake timeout (3 s) covers the wait for the id,
//! invalid ids end the attempt, and a misbehaving server cannot confuse them.

use std::time::{Duration, Instant};

use wspeer_multiplayer::{
    Bytes, ConnectionStatus, Event, Protocol, PutPacketError,
    proto::{Client, DEFAULT_HANDSHAKE_TIMEOUT},
};

fn events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn feed(client: &mut Client, message: &[u8], now: Instant) {
    client.handle_message(Bytes::copy_from_slice(message), now);
}

/// A Godot 3 system message: [kind][from 1][to 0][id].
fn sys3(kind: u8, id: i32) -> Vec<u8> {
    [
        &[kind][..],
        &1i32.to_le_bytes(),
        &0i32.to_le_bytes(),
        &id.to_le_bytes(),
    ]
    .concat()
}

#[test]
fn the_handshake_timeout_covers_the_wait_for_the_id() {
    assert_eq!(DEFAULT_HANDSHAKE_TIMEOUT, Duration::from_secs(3));
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let start = Instant::now();
        let mut client = Client::new(protocol, start);
        assert_eq!(client.poll_timeout(), Some(start + Duration::from_secs(3)));
        // The WebSocket opened at once, but no id came.
        client.handle_timeout(start + Duration::from_millis(2999));
        assert_eq!(client.status(), ConnectionStatus::Connecting);
        assert!(events(&mut client).is_empty());
        client.handle_timeout(start + Duration::from_secs(3));
        assert_eq!(client.status(), ConnectionStatus::Disconnected);
        assert_eq!(events(&mut client), [Event::ConnectionFailed]);
        assert_eq!(client.poll_close(), Some(1));
        assert_eq!(client.poll_timeout(), None);
        // The connection's close that follows changes nothing.
        client.handle_closed(start + Duration::from_secs(4));
        assert!(events(&mut client).is_empty());
    }
}

#[test]
fn a_custom_timeout_and_an_id_in_time() {
    let start = Instant::now();
    let mut client = Client::new(Protocol::Godot4, start);
    client.set_handshake_timeout(start, Duration::from_millis(500));
    feed(
        &mut client,
        &7i32.to_le_bytes(),
        start + Duration::from_millis(499),
    );
    assert_eq!(client.status(), ConnectionStatus::Connected);
    client.handle_timeout(start + Duration::from_secs(60));
    assert_eq!(client.status(), ConnectionStatus::Connected);
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn godot4_invalid_ids_end_the_attempt() {
    let now = Instant::now();
    let bad: [&[u8]; 5] = [
        &[1, 0, 0, 0],
        &[0, 0, 0, 0],
        &[0xff; 4],
        &[2, 0, 0],
        &[2, 0, 0, 0, 0],
    ];
    for message in bad {
        let mut client = Client::new(Protocol::Godot4, now);
        feed(&mut client, message, now);
        assert_eq!(
            client.status(),
            ConnectionStatus::Disconnected,
            "{message:?}"
        );
        assert_eq!(events(&mut client), [Event::ConnectionFailed]);
        assert_eq!(client.poll_close(), Some(1));
        assert_eq!(client.unique_id(), 0);
    }
}

#[test]
fn godot4_connected_then_the_server_goes() {
    let now = Instant::now();
    let mut client = Client::new(Protocol::Godot4, now);
    assert_eq!(
        client.put_packet(1, b"x"),
        Err(PutPacketError::NotConnected)
    );
    feed(&mut client, &42i32.to_le_bytes(), now);
    assert_eq!(
        events(&mut client),
        [Event::ConnectedToServer, Event::PeerConnected(1)]
    );
    feed(&mut client, &[7, 1, 9, 0, 0, 0], now);
    feed(&mut client, &[7, 1, 9, 0, 0, 0], now); // announced twice: once
    feed(&mut client, &[7, 1, 42, 0, 0, 0], now); // ourselves: ignored
    feed(&mut client, &[7, 1, 1, 0, 0, 0], now); // the server: ignored
    feed(&mut client, &[7, 2, 8, 0, 0, 0], now); // unknown peer left: ignored
    assert_eq!(events(&mut client), [Event::PeerConnected(9)]);
    assert_eq!(client.peer_ids().collect::<Vec<_>>(), [1, 9]);
    // Data from the server and relayed from 9.
    feed(&mut client, &[3, b'a'], now);
    feed(&mut client, &[7, 3, 9, 0, 0, 0, 3, b'b'], now);
    let packets: Vec<_> = std::iter::from_fn(|| client.poll_packet())
        .map(|p| (p.from, p.data.to_vec()))
        .collect();
    assert_eq!(packets, [(1, b"a".to_vec()), (9, b"b".to_vec())]);
    assert_eq!(client.put_packet(1, b""), Err(PutPacketError::EmptyPacket));
    client.handle_closed(now);
    assert_eq!(
        events(&mut client),
        [Event::PeerDisconnected(1), Event::ServerDisconnected]
    );
    assert_eq!(
        client.put_packet(1, b"x"),
        Err(PutPacketError::NotConnected)
    );
}

#[test]
fn a_refused_connection_fails() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let now = Instant::now();
        let mut client = Client::new(protocol, now);
        client.handle_closed(now);
        assert_eq!(events(&mut client), [Event::ConnectionFailed]);
    }
}

#[test]
fn disconnect_and_close() {
    let now = Instant::now();
    let mut client = Client::new(Protocol::Godot4, now);
    feed(&mut client, &42i32.to_le_bytes(), now);
    let _ = events(&mut client);
    // Without force: the events come once the connection has closed.
    client.disconnect(false).unwrap();
    assert_eq!(client.poll_close(), Some(1));
    assert!(events(&mut client).is_empty());
    client.handle_closed(now);
    assert_eq!(
        events(&mut client),
        [Event::PeerDisconnected(1), Event::ServerDisconnected]
    );
    assert!(client.disconnect(false).is_err());

    let mut client = Client::new(Protocol::Godot3, now);
    client.close();
    assert_eq!(client.status(), ConnectionStatus::Disconnected);
    assert_eq!(client.poll_close(), Some(1));
    client.handle_closed(now);
    assert!(events(&mut client).is_empty());
}

#[test]
fn godot3_connects_on_sys_add_1_after_sys_id() {
    let now = Instant::now();
    let mut client = Client::new(Protocol::Godot3, now);
    feed(&mut client, &sys3(3, 77), now);
    assert_eq!(client.unique_id(), 77);
    assert_eq!(client.status(), ConnectionStatus::Connecting);
    feed(&mut client, &sys3(1, 1), now);
    feed(&mut client, &sys3(1, 5), now);
    feed(&mut client, &sys3(2, 5), now);
    assert_eq!(
        events(&mut client),
        [
            Event::PeerConnected(1),
            Event::ConnectedToServer,
            Event::PeerConnected(5),
            Event::PeerDisconnected(5)
        ]
    );
    // A second id, a second SYS_ADD(1), short and unknown messages: ignored.
    feed(&mut client, &sys3(3, 78), now);
    feed(&mut client, &sys3(1, 1), now);
    feed(&mut client, &sys3(1, 77), now);
    feed(&mut client, &sys3(9, 6), now);
    feed(&mut client, &[1, 1, 0, 0, 0, 0, 0, 0, 0, 5], now);
    feed(&mut client, &[0; 8], now);
    assert!(events(&mut client).is_empty());
    assert_eq!(client.unique_id(), 77);
    // put_packet: [0][own id][target][data].
    client.put_packet(-5, b"z").unwrap();
    let t = client.poll_transmit().unwrap();
    assert_eq!(t.to, 1);
    assert_eq!(t.data[..], [0, 77, 0, 0, 0, 0xfb, 0xff, 0xff, 0xff, b'z']);
}

#[test]
fn godot3_bad_handshakes_fail() {
    let now = Instant::now();
    // SYS_ADD(1) before any SYS_ID.
    let mut client = Client::new(Protocol::Godot3, now);
    feed(&mut client, &sys3(1, 1), now);
    assert_eq!(events(&mut client), [Event::ConnectionFailed]);
    // An id under 2.
    let mut client = Client::new(Protocol::Godot3, now);
    feed(&mut client, &sys3(3, 1), now);
    assert_eq!(events(&mut client), [Event::ConnectionFailed]);
    // Payloads before connecting are kept, as Godot keeps them.
    let mut client = Client::new(Protocol::Godot3, now);
    feed(&mut client, &[0, 1, 0, 0, 0, 0, 0, 0, 0, b'p'], now);
    assert_eq!(client.poll_packet().unwrap().from, 1);
}
