//! Interop with real Godot: Debian's `godot3-server` (Godot 3.2.3, headless)
//! runs the GDScript in `tests/godot/` against wspeer, both ways. Skipped with a
//! loud message when Godot is missing; a failure when `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use wspeer::{
    ReadyState, TcpServer, WebSocketPeer, WriteMode,
    godot3::{ClientEvent, ServerEvent, WebSocketClient, WebSocketServer},
};

use wspeer_testkit::{
    godot::{Godot, free_port, godot},
    wait::poll_until,
};

/// Starts `script` of this crate's Godot project in `tests/godot/`.
fn start(godot: &Path, script: &str, env: &[(&str, String)]) -> Godot {
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/godot");
    Godot::start(godot, &project, script, env)
}

/// Echoes every visible packet of `peer` with its own frame type.
fn echo(peer: &mut WebSocketPeer) {
    while let Ok(packet) = peer.get_packet() {
        let mode = if peer.was_string_packet() {
            WriteMode::Text
        } else {
            WriteMode::Binary
        };
        peer.send(&packet, mode).unwrap();
    }
}

#[test]
fn godot_client_with_a_wspeer_websocket_server() {
    let Some(godot) = godot("godot_client_with_a_wspeer_websocket_server") else {
        return;
    };
    let mut server = WebSocketServer::new();
    server.set_bind_ip("127.0.0.1").unwrap();
    server.listen(0, &["demo-chat"]).unwrap();
    let url = format!("ws://127.0.0.1:{}/test/", server.local_port());
    let client = start(&godot, "client.gd", &[("WSPEER_URL", url)]);
    let mut events = Vec::new();
    let lines = client.finish(|| {
        let batch: Vec<ServerEvent> = server.poll().collect();
        for event in batch {
            if let ServerEvent::DataReceived { id } = event {
                echo(server.peer(id).unwrap());
            }
            events.push(event);
        }
    });
    poll_until("the server to see the client go", || {
        events.extend(server.poll());
        events
            .iter()
            .any(|e| matches!(e, ServerEvent::ClientDisconnected { .. }))
    });
    assert_client_script_saw_echoes(&lines);
    let [
        ServerEvent::ClientConnected { id, protocol },
        ServerEvent::DataReceived { .. },
        ServerEvent::DataReceived { .. },
        ServerEvent::ClientCloseRequest { code, reason, .. },
        ServerEvent::ClientDisconnected { was_clean, .. },
    ] = events.as_slice()
    else {
        panic!("unexpected server events {events:?}");
    };
    assert!(*id >= 2);
    assert_eq!(protocol, "demo-chat");
    // Godot 3 sends "godot bye\0"; the Godot 3 API strips the NUL.
    assert_eq!((*code, reason.as_str()), (4001, "godot bye"));
    assert!(*was_clean);
}

/// What `client.gd` must print against an echo server. Its last line is Godot
/// 3's own quirk: a close it started itself reports `was_clean_close` false.
fn assert_client_script_saw_echoes(lines: &[String]) {
    let wanted = [
        "connect 0",
        "established demo-chat",
        "text hello from godot",
        "binary [1, 2, 3, 250]",
        "closed False",
    ];
    let seen: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| wanted.contains(l) || l.starts_with("closed") || l.starts_with("error"))
        .collect();
    assert_eq!(seen, wanted, "Godot printed {lines:?}");
}

#[test]
fn godot_client_with_a_wspeer_tcp_server_and_peer() {
    let Some(godot) = godot("godot_client_with_a_wspeer_tcp_server_and_peer") else {
        return;
    };
    let mut tcp = TcpServer::new();
    tcp.listen(0, "127.0.0.1").unwrap();
    let url = format!("ws://127.0.0.1:{}/test/", tcp.local_port());
    let client = start(&godot, "client.gd", &[("WSPEER_URL", url)]);
    let mut peer: Option<WebSocketPeer> = None;
    let lines = client.finish(|| {
        if let Some(stream) = tcp.take_connection() {
            let mut accepted = WebSocketPeer::new();
            accepted.set_supported_protocols(["demo-chat"]);
            accepted.accept_stream(stream).unwrap();
            peer = Some(accepted);
        }
        if let Some(peer) = &mut peer {
            peer.poll();
            echo(peer);
        }
    });
    assert_client_script_saw_echoes(&lines);
    let mut peer = peer.expect("Godot connected");
    poll_until("closed", || {
        peer.poll();
        peer.ready_state() == ReadyState::Closed
    });
    assert_eq!(peer.selected_protocol(), "demo-chat");
    // The plain facade shows the reason exactly as Godot 3 sent it.
    assert_eq!(
        (peer.close_code(), peer.close_reason()),
        (4001, "godot bye\0")
    );
}

#[test]
fn wspeer_clients_with_a_godot_websocket_server() {
    let Some(godot) = godot("wspeer_clients_with_a_godot_websocket_server") else {
        return;
    };
    let port = free_port();
    let mut server = start(
        &godot,
        "server.gd",
        &[
            ("WSPEER_PORT", port.to_string()),
            ("WSPEER_CLIENTS", "2".into()),
        ],
    );
    assert_eq!(server.wait_for("listening", || ()), "listening 0");
    let url = format!("ws://127.0.0.1:{port}/chat");

    // Godot 3 style: WebSocketClient and its events.
    let mut client = WebSocketClient::new();
    client.connect_to_url(&url, &["demo-chat"]).unwrap();
    let mut events = Vec::new();
    poll_until("connected", || {
        events.extend(client.poll());
        !events.is_empty()
    });
    assert_eq!(
        events,
        [ClientEvent::ConnectionEstablished {
            protocol: "demo-chat".into()
        }]
    );
    client.peer().set_write_mode(WriteMode::Text);
    client.peer().put_packet("hi godot".as_bytes()).unwrap();
    client.peer().set_write_mode(WriteMode::Binary);
    client.peer().put_packet(&[9, 8, 7]).unwrap();
    events.clear();
    poll_until("two echoes", || {
        events.extend(client.poll());
        events.len() == 2
    });
    assert_eq!(&client.peer().get_packet().unwrap()[..], b"hi godot");
    assert!(client.peer().was_string_packet());
    assert_eq!(&client.peer().get_packet().unwrap()[..], &[9, 8, 7]);
    assert!(!client.peer().was_string_packet());
    client.disconnect_from_host(4002, "from rust").unwrap();
    events.clear();
    poll_until("closed", || {
        events.extend(client.poll());
        !events.is_empty()
    });
    assert_eq!(events, [ClientEvent::ConnectionClosed { was_clean: true }]);

    // Godot 4 style: a WebSocketPeer client.
    let mut peer = WebSocketPeer::new();
    peer.set_supported_protocols(["demo-chat"]);
    peer.connect_to_url(&url).unwrap();
    poll_until("open", || {
        peer.poll();
        peer.ready_state() == ReadyState::Open
    });
    assert_eq!(peer.selected_protocol(), "demo-chat");
    peer.send_text("peer text").unwrap();
    crate::support::wait_packets(&mut peer, 1);
    assert_eq!(&peer.get_packet().unwrap()[..], b"peer text");
    peer.close(1000, "done").unwrap();
    poll_until("closed", || {
        peer.poll();
        peer.ready_state() == ReadyState::Closed
    });
    // Godot 3 echoes the close with its own NUL-terminated copy of our reason.
    assert_eq!(peer.close_code(), 1000);

    let lines = server.finish(|| ());
    let interesting: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("Godot Engine") && !l.trim().is_empty())
        .collect();
    assert_eq!(
        interesting,
        [
            "listening 0",
            "connected demo-chat",
            "data 8 text True",
            "data 3 text False",
            "close_request 4002 from rust",
            "disconnected True",
            "connected demo-chat",
            "data 9 text True",
            "close_request 1000 done",
            "disconnected True",
        ]
    );
}

#[test]
fn messages_around_godots_64_kib_buffer() {
    let Some(godot) = godot("messages_around_godots_64_kib_buffer") else {
        return;
    };
    let port = free_port();
    let mut server = start(
        &godot,
        "server.gd",
        &[
            ("WSPEER_PORT", port.to_string()),
            ("WSPEER_CLIENTS", "1".into()),
            ("WSPEER_DEADLINE_MS", "4000".into()),
        ],
    );
    assert_eq!(server.wait_for("listening", || ()), "listening 0");
    let mut peer = WebSocketPeer::new();
    peer.set_supported_protocols(["demo-chat"]);
    peer.set_outbound_buffer_size(1 << 20);
    peer.set_inbound_buffer_size(1 << 20);
    peer.set_config(peer.config().clone().close_timeout(Duration::from_secs(1)));
    peer.connect_to_url(&format!("ws://127.0.0.1:{port}/"))
        .unwrap();
    poll_until("open", || {
        peer.poll();
        peer.ready_state() == ReadyState::Open
    });
    let mut exchange = |size: usize| -> Vec<usize> {
        peer.put_packet(&vec![7u8; size]).unwrap();
        peer.send_text("marker").unwrap();
        let mut sizes = Vec::new();
        poll_until("the marker's echo", || {
            peer.poll();
            while let Ok(packet) = peer.get_packet() {
                sizes.push(packet.len());
            }
            sizes.last() == Some(&6)
        });
        sizes
    };
    // Just under: 65535 bytes fit Godot 3's 64 KiB ring and come back.
    assert_eq!(exchange(65535), [65535, 6]);
    // 65536 passes wslay's limit but not the ring: Godot drops it, still
    // signals data_received (its get_packet then gives an empty packet, which its
    // put_packet does not send), and the connection goes on.
    assert_eq!(exchange(65536), [6]);
    // Just over: wslay closes with 1009 and stops reading; Godot 3 never notices,
    // so our closing handshake ends by our close timeout, with Godot's code.
    peer.put_packet(&vec![7u8; 65537]).unwrap();
    poll_until("closed", || {
        peer.poll();
        peer.ready_state() == ReadyState::Closed
    });
    assert_eq!(peer.close_code(), 1009);
    drop(peer);
    let lines = server.finish(|| ());
    let data: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("data"))
        .collect();
    assert_eq!(
        data,
        [
            "data 65535 text False",
            "data 6 text True",
            "data 0 text True",
            "data 6 text True"
        ]
    );
    // wslay stopped reading after its 1009, so Godot never saw us go.
    assert_eq!(lines.last().map(String::as_str), Some("timeout"));
}
