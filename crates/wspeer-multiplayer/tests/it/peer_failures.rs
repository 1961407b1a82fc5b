//! `MultiplayerPeer` when things go wrong, on real sockets: no id in time, an
//! invalid id, nobody listening, refused connections, a client that breaks the
//! protocol; and the same game over TLS.

use std::time::Duration;

use crate::support::game::Game;
use wspeer::{ReadyState, TcpServer, WebSocketPeer};
use wspeer_multiplayer::{
    ConnectionStatus, Event, MultiplayerConfig, MultiplayerPeer, Protocol, TlsOptions,
};
use wspeer_testkit::TestCa;
use wspeer_testkit::wait::poll_until;

const SHORT: Duration = Duration::from_millis(300);

/// Polls `client` until it reports an event; returns all it reported.
fn events_until_done(client: &mut MultiplayerPeer, mut between: impl FnMut()) -> Vec<Event> {
    let mut events = Vec::new();
    poll_until("the client's outcome", || {
        between();
        events.extend(client.poll());
        client.connection_status() == ConnectionStatus::Disconnected
    });
    events
}

/// A plain WebSocket server that accepts one client and then does `serve` with it
/// every poll.
struct RawServer {
    tcp: TcpServer,
    peer: Option<WebSocketPeer>,
}

impl RawServer {
    fn new() -> Self {
        let mut tcp = TcpServer::new();
        tcp.listen(0, "127.0.0.1").unwrap();
        Self { tcp, peer: None }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.tcp.local_port())
    }

    fn poll(&mut self) -> Option<&mut WebSocketPeer> {
        if let Some(stream) = self.tcp.take_connection() {
            let mut peer = WebSocketPeer::new();
            peer.accept_stream(stream).unwrap();
            self.peer = Some(peer);
        }
        let peer = self.peer.as_mut()?;
        peer.poll();
        Some(peer)
    }
}

#[test]
fn no_id_within_the_handshake_timeout() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let mut server = RawServer::new();
        let config = MultiplayerConfig::default().handshake_timeout(SHORT);
        let mut client = MultiplayerPeer::with_config(protocol, config);
        client.create_client(&server.url(), None).unwrap();
        assert_eq!(client.connection_status(), ConnectionStatus::Connecting);
        let events = events_until_done(&mut client, || {
            server.poll();
        });
        assert_eq!(events, [Event::ConnectionFailed], "{protocol:?}");
        // The WebSocket itself had opened: only the id was missing.
        assert!(server.peer.is_some());
    }
}

#[test]
fn an_invalid_id_ends_the_attempt() {
    let mut server = RawServer::new();
    let mut client = MultiplayerPeer::new(Protocol::Godot4);
    client.create_client(&server.url(), None).unwrap();
    let mut sent = false;
    let events = events_until_done(&mut client, || {
        if let Some(peer) = server.poll()
            && peer.ready_state() == ReadyState::Open
            && !sent
        {
            peer.put_packet(&1i32.to_le_bytes()).unwrap();
            sent = true;
        }
    });
    assert_eq!(events, [Event::ConnectionFailed]);
    // Closed with 1000, as Godot closes it.
    let peer = server.peer.as_mut().unwrap();
    poll_until("the close", || {
        peer.poll();
        peer.ready_state() == ReadyState::Closed
    });
    assert_eq!(peer.close_code(), 1000);
}

#[test]
fn nobody_listening() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut client = MultiplayerPeer::new(Protocol::Godot3);
    client
        .create_client(&format!("ws://127.0.0.1:{port}/"), None)
        .unwrap();
    assert_eq!(
        events_until_done(&mut client, || ()),
        [Event::ConnectionFailed]
    );
    assert!(client.peer(1).unwrap().connect_error().is_some());
}

#[test]
fn refused_connections_fail_by_the_timeout() {
    let config = MultiplayerConfig::default().handshake_timeout(SHORT);
    let mut game = Game::with_config(Protocol::Godot4, config.clone());
    game.join();
    game.server.set_refuse_new_connections(true);
    let mut late = MultiplayerPeer::with_config(Protocol::Godot4, config);
    late.create_client(&game.url(), None).unwrap();
    let events = events_until_done(&mut late, || game.poll_all());
    assert_eq!(events, [Event::ConnectionFailed]);
    assert_eq!(game.server.peer_ids().len(), 1);
    game.server.set_refuse_new_connections(false);
    game.join();
}

#[test]
fn forced_disconnects_are_silent_on_the_server_only() {
    let mut game = Game::new(Protocol::Godot3);
    game.join();
    game.join();
    let a = game.id(0);
    game.server.disconnect_peer(a, true).unwrap();
    assert!(game.server.peer(a).is_none());
    game.until("the others to be told", |g| {
        g.client_events[1].contains(&Event::PeerDisconnected(a))
            && g.client_events[0].contains(&Event::ServerDisconnected)
    });
    assert!(!game.server_events.contains(&Event::PeerDisconnected(a)));
    assert!(game.server.disconnect_peer(a, true).is_err());
    assert!(game.clients[1].disconnect_peer(a, false).is_err());
}

/// A raw client that has its Godot 3 id sends everything a client must not: the
/// server drops each message, keeps the connection, and serves the others.
#[test]
fn a_cheating_godot3_client_changes_nothing() {
    let mut game = Game::new(Protocol::Godot3);
    game.join();
    let honest = game.id(0);
    let mut raw = WebSocketPeer::new();
    raw.connect_to_url(&game.url()).unwrap();
    let mut id = 0;
    poll_until("the raw client's id", || {
        game.poll_all();
        raw.poll();
        while let Ok(m) = raw.get_packet() {
            if m[0] == 3 {
                id = i32::from_le_bytes([m[9], m[10], m[11], m[12]]);
            }
        }
        id != 0 && game.server.peer_ids().len() == 2
    });
    let header = |kind: u8, from: i32, to: i32| {
        let mut m = vec![kind];
        m.extend(from.to_le_bytes());
        m.extend(to.to_le_bytes());
        m.extend(b"evil");
        m
    };
    for message in [
        header(0, honest, 0),  // pretends to be the other client
        header(0, 1, 0),       // pretends to be the server
        header(1, id, 0),      // SYS_ADD
        header(3, id, honest), // SYS_ID
        header(0, id, 999),    // nobody
        header(0, id, id),     // itself
        vec![0, 1, 2],         // short
        vec![],                // empty
    ] {
        raw.put_packet(&message).unwrap();
    }
    raw.put_packet(&header(0, id, 0)[..9]).unwrap(); // a valid, empty broadcast
    game.until("the valid broadcast", |g| g.packets.len() == 2);
    assert_eq!(
        game.packets,
        [(None, id, String::new()), (Some(0), id, String::new())]
    );
    assert_eq!(raw.ready_state(), ReadyState::Open);
}

#[test]
fn a_game_over_tls() {
    let ca = TestCa::new("multiplayer CA");
    let cert = ca.server_cert(&["localhost"]);
    let server_tls = TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap();
    let client_tls = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap();
    let mut server = MultiplayerPeer::new(Protocol::Godot4);
    // Client options on a server are refused.
    assert!(
        server
            .create_server(0, "127.0.0.1", Some(client_tls.clone()))
            .is_err()
    );
    server
        .create_server(0, "127.0.0.1", Some(server_tls.clone()))
        .unwrap();
    let url = format!("wss://localhost:{}/", server.local_port());
    let mut client = MultiplayerPeer::new(Protocol::Godot4);
    assert!(client.create_client(&url, Some(server_tls)).is_err());
    client.create_client(&url, Some(client_tls)).unwrap();
    poll_until("connected over TLS", || {
        server.poll().for_each(drop);
        client.poll().for_each(drop);
        client.connection_status() == ConnectionStatus::Connected
    });
    client.set_target_peer(1);
    client.put_packet(b"secret").unwrap();
    poll_until("the packet", || {
        server.poll().for_each(drop);
        server.available_packet_count() == 1
    });
    assert_eq!(&server.get_packet().unwrap()[..], b"secret");
}
