//! Godot 3's `WebSocketServer` and `WebSocketClient`: their events, in order,
//! over real sockets.

use std::collections::HashSet;

use crate::support::poll_until;
use wspeer::{
    WriteMode,
    godot3::{ClientEvent, ServerEvent, WebSocketClient, WebSocketServer},
};

/// Polls both until `done` says so; returns every event seen, per side.
fn run(
    server: &mut WebSocketServer,
    client: &mut WebSocketClient,
    mut done: impl FnMut(&[ServerEvent], &[ClientEvent]) -> bool,
) -> (Vec<ServerEvent>, Vec<ClientEvent>) {
    let (mut on_server, mut on_client) = (Vec::new(), Vec::new());
    poll_until("the expected events", || {
        on_server.extend(server.poll());
        on_client.extend(client.poll());
        done(&on_server, &on_client)
    });
    (on_server, on_client)
}

fn connected(server: &mut WebSocketServer, client: &mut WebSocketClient) -> i32 {
    let (on_server, on_client) = run(server, client, |s, c| !s.is_empty() && !c.is_empty());
    assert_eq!(
        on_client,
        [ClientEvent::ConnectionEstablished {
            protocol: "my-protocol".into()
        }]
    );
    let [ServerEvent::ClientConnected { id, protocol }] = on_server.as_slice() else {
        panic!("unexpected server events {on_server:?}");
    };
    assert_eq!(protocol, "my-protocol");
    assert!(*id >= 2);
    *id
}

fn listening() -> (WebSocketServer, String) {
    let mut server = WebSocketServer::new();
    server.set_bind_ip("127.0.0.1").unwrap();
    server.listen(0, &["my-protocol", "binary"]).unwrap();
    let url = format!("ws://127.0.0.1:{}/test/", server.local_port());
    (server, url)
}

#[test]
fn events_of_a_whole_session_in_order() {
    let (mut server, url) = listening();
    let mut client = WebSocketClient::new();
    client
        .connect_to_url(&url, &["my-protocol2", "my-protocol", "binary"])
        .unwrap();
    let id = connected(&mut server, &mut client);
    assert!(server.has_peer(id));
    assert_eq!(server.peer_ids().collect::<Vec<_>>(), [id]);
    assert_eq!(server.peer_address(id), Some("127.0.0.1".parse().unwrap()));
    assert_ne!(server.peer_port(id), 0);
    assert_eq!(client.connected_port(), server.local_port());

    // Client to server: one DataReceived per message.
    client.peer().set_write_mode(WriteMode::Text);
    client.peer().put_packet(b"one").unwrap();
    client.peer().put_packet(b"two").unwrap();
    let (on_server, _) = run(&mut server, &mut client, |s, _| s.len() == 2);
    assert_eq!(
        on_server,
        [
            ServerEvent::DataReceived { id },
            ServerEvent::DataReceived { id }
        ]
    );
    let peer = server.peer(id).unwrap();
    assert_eq!(&peer.get_packet().unwrap()[..], b"one");
    assert!(peer.was_string_packet());
    assert_eq!(&peer.get_packet().unwrap()[..], b"two");

    // Server to client, binary by default.
    server.peer(id).unwrap().put_packet(&[1, 2, 3]).unwrap();
    let (_, on_client) = run(&mut server, &mut client, |_, c| !c.is_empty());
    assert_eq!(on_client, [ClientEvent::DataReceived]);
    assert_eq!(&client.peer().get_packet().unwrap()[..], &[1, 2, 3]);
    assert!(!client.peer().was_string_packet());

    // The client closes: the server sees the request, then the disconnect.
    client.disconnect_from_host(1000, "Bye bye!").unwrap();
    let (on_server, on_client) = run(&mut server, &mut client, |s, c| {
        !s.is_empty() && !c.is_empty()
    });
    assert_eq!(
        on_server,
        [
            ServerEvent::ClientCloseRequest {
                id,
                code: 1000,
                reason: "Bye bye!".into()
            },
            ServerEvent::ClientDisconnected {
                id,
                was_clean: true
            }
        ]
    );
    // Godot 3 reports false here, for a close the client started itself.
    assert_eq!(
        on_client,
        [ClientEvent::ConnectionClosed { was_clean: true }]
    );
    server.poll();
    assert!(
        !server.has_peer(id),
        "dropped at the poll after the disconnect"
    );
}

#[test]
fn the_server_closes_a_client() {
    let (mut server, url) = listening();
    let mut client = WebSocketClient::new();
    client.connect_to_url(&url, &["my-protocol"]).unwrap();
    let id = connected(&mut server, &mut client);
    server.disconnect_peer(id, 4000, "kicked").unwrap();
    let (on_server, on_client) = run(&mut server, &mut client, |s, c| {
        !s.is_empty() && c.len() == 2
    });
    assert_eq!(
        on_client,
        [
            ClientEvent::ServerCloseRequest {
                code: 4000,
                reason: "kicked".into()
            },
            ClientEvent::ConnectionClosed { was_clean: true }
        ]
    );
    assert_eq!(
        on_server,
        [ServerEvent::ClientDisconnected {
            id,
            was_clean: true
        }]
    );
}

#[test]
fn a_failed_connection_is_a_connection_error() {
    let (mut server, url) = listening();
    let mut client = WebSocketClient::new();
    client.connect_to_url(&url, &["nothing-in-common"]).unwrap();
    let (on_server, on_client) = run(&mut server, &mut client, |_, c| !c.is_empty());
    assert_eq!(on_client, [ClientEvent::ConnectionError]);
    assert!(client.peer().connect_error().is_some());
    assert!(on_server.is_empty(), "a refused handshake is not an event");
}

#[test]
fn many_clients_get_unique_ids() {
    let (mut server, url) = listening();
    let mut clients: Vec<WebSocketClient> = (0..50)
        .map(|_| {
            let mut c = WebSocketClient::new();
            c.connect_to_url(&url, &["binary"]).unwrap();
            c
        })
        .collect();
    let mut ids = HashSet::new();
    poll_until("50 connections", || {
        for event in server.poll() {
            if let ServerEvent::ClientConnected { id, .. } = event {
                assert!(ids.insert(id), "id {id} given twice");
                assert!((2..=i32::MAX).contains(&id));
            }
        }
        for c in &mut clients {
            c.poll().for_each(drop);
        }
        ids.len() == 50
    });
    server.stop();
    assert!(!server.is_listening());
    assert_eq!(server.peer_ids().count(), 0);
}
