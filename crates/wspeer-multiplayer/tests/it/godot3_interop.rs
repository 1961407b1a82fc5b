//! The Godot 3 protocol against real Godot 3.2.3 (`godot3-server`), both ways:
//! three Godot `WebSocketClient`s (multiplayer API on) in a wspeer server's
//! game, and a wspeer client in a Godot `WebSocketServer`'s game with a Godot
//! client. Every packet must land exactly where Godot's own server puts it,
//! with the right `get_packet_peer()`.

use crate::support::godot::start;
use wspeer_multiplayer::{ConnectionStatus, Event, MultiplayerConfig, MultiplayerPeer, Protocol};
use wspeer_testkit::{
    godot::{Godot, free_port, godot},
    wait::{PROGRAM_WAIT, poll_within},
};

/// Runs `step` until it returns true; panics after the wait for a step that
/// includes Godot's start-up.
fn until(what: &str, step: impl FnMut() -> bool) {
    assert!(
        poll_within(PROGRAM_WAIT, step),
        "timed out after {PROGRAM_WAIT:?} waiting for {what}"
    );
}

fn config() -> MultiplayerConfig {
    MultiplayerConfig::default().supported_protocols(["ludus"])
}

/// What a Godot script printed, without the commands it was sent.
fn without_commands(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.contains(" send ") && !l.ends_with(" quit"))
        .cloned()
        .collect()
}

/// Lines starting with `packet`, sorted (packets from different senders may
/// interleave in any order).
fn packets(lines: &[String]) -> Vec<String> {
    let mut p: Vec<String> = without_commands(lines)
        .into_iter()
        .filter(|l| l.starts_with("packet"))
        .collect();
    p.sort();
    p
}

/// The lines that are not packets, in order.
fn signals(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("packet"))
        .cloned()
        .collect()
}

fn ascending(ids: &[i32]) -> Vec<i32> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// The wspeer server, and what it saw.
struct Host {
    peer: MultiplayerPeer,
    events: Vec<Event>,
    packets: Vec<(i32, String)>,
}

impl Host {
    fn poll(&mut self) {
        self.events.extend(self.peer.poll());
        while let Ok(p) = self.peer.get_packet_with_peer() {
            self.packets
                .push((p.from, String::from_utf8_lossy(&p.data).into_owned()));
        }
    }

    fn send(&mut self, target: i32, text: &str) {
        self.peer.set_target_peer(target);
        self.peer.put_packet(text.as_bytes()).expect("put_packet");
    }
}

#[test]
fn three_godot_clients_in_a_wspeer_godot3_game() {
    let Some(godot) = godot("three_godot_clients_in_a_wspeer_godot3_game") else {
        return;
    };
    let mut host = Host {
        peer: MultiplayerPeer::with_config(Protocol::Godot3, config()),
        events: Vec::new(),
        packets: Vec::new(),
    };
    host.peer.create_server(0, "127.0.0.1", None).unwrap();
    let url = format!("ws://127.0.0.1:{}/", host.peer.local_port());

    // They join one after the other; each learns its id from the server.
    let mut clients: Vec<Godot> = Vec::new();
    let mut ids: Vec<i32> = Vec::new();
    for _ in 0..3 {
        let mut client = start(&godot, "mp_client.gd", &[("WSPEER_URL", url.clone())]);
        let line = client.wait_for("connected ", || host.poll());
        let id: i32 = line["connected ".len()..].parse().unwrap();
        assert!(id >= 2);
        let expected: Vec<i32> = ids.iter().copied().chain([id]).collect();
        until("the server's join event", || {
            host.poll();
            host.events.len() >= expected.len()
        });
        ids.push(id);
        clients.push(client);
    }
    assert_eq!(
        host.events,
        ids.iter()
            .map(|&id| Event::PeerConnected(id))
            .collect::<Vec<_>>()
    );
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    // Client A sends to B, to all, to all but B, to the server, to all but the
    // server; B sends to C. Then each reports to the server, in order.
    for (target, text) in [
        (b, "a-b"),
        (0, "a-all"),
        (-b, "a-not-b"),
        (1, "a-server"),
        (-1, "a-not-server"),
        (1, "done-a"),
    ] {
        host.send(a, &format!("send {target} {text}"));
    }
    host.send(b, &format!("send {c} b-c"));
    host.send(b, "send 1 done-b");
    until("done-a and done-b", || {
        host.poll();
        for client in &mut clients {
            client.pump();
        }
        host.packets.iter().any(|p| p.1 == "done-a") && host.packets.iter().any(|p| p.1 == "done-b")
    });
    // The server sends to B, to all, to all but C, then "end" to all.
    host.send(b, "s-b");
    host.send(0, "s-all");
    host.send(-c, "s-not-c");
    host.send(0, "end");
    for client in &mut clients {
        client.wait_for("packet 1 end", || host.poll());
    }

    // Where Godot 3's own server would deliver each, with get_packet_peer().
    // Godot 3's server keeps "to -1" too (it compares its id with -from).
    let mut expected_host = vec![
        (a, "a-all".to_owned()),
        (a, "a-not-b".into()),
        (a, "a-server".into()),
        (a, "a-not-server".into()),
        (a, "done-a".into()),
        (b, "done-b".into()),
    ];
    expected_host.sort();
    host.packets.sort();
    assert_eq!(host.packets, expected_host);
    let expect = |lines: &[&str]| {
        let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(
        packets(&clients[0].seen),
        expect(&["packet 1 s-all", "packet 1 s-not-c", "packet 1 end"])
    );
    assert_eq!(
        packets(&clients[1].seen),
        expect(&[
            &format!("packet {a} a-b"),
            &format!("packet {a} a-all"),
            &format!("packet {a} a-not-server"),
            "packet 1 s-b",
            "packet 1 s-all",
            "packet 1 s-not-c",
            "packet 1 end",
        ])
    );
    assert_eq!(
        packets(&clients[2].seen),
        expect(&[
            &format!("packet {a} a-all"),
            &format!("packet {a} a-not-b"),
            &format!("packet {a} a-not-server"),
            &format!("packet {b} b-c"),
            "packet 1 s-all",
            "packet 1 end",
        ])
    );

    // They leave: C, then B (each by disconnect_from_host: Godot 3 then reports
    // connection_failed), then the server kicks A.
    host.send(c, "quit");
    let c_lines = clients.pop().unwrap().finish(|| host.poll());
    host.send(b, "quit");
    let b_lines = clients.pop().unwrap().finish(|| host.poll());
    let mut a_client = clients.pop().unwrap();
    a_client.wait_for(&format!("peer_disconnected {b}"), || host.poll());
    host.peer.disconnect_peer(a, false).unwrap();
    let a_lines = a_client.finish(|| host.poll());
    until("the last leave", || {
        host.poll();
        host.events.len() >= 6
    });
    assert_eq!(
        host.events[3..],
        [
            Event::PeerDisconnected(c),
            Event::PeerDisconnected(b),
            Event::PeerDisconnected(a)
        ]
    );

    // Godot 3's order: peer_connected(1), then connection_succeeded; the
    // others in ascending id order (the server's map order).
    let joined = |own: i32, others: &[i32]| -> Vec<String> {
        let mut lines = vec![
            "connect 0".to_owned(),
            "peer_connected 1".into(),
            format!("connected {own}"),
        ];
        lines.extend(
            ascending(others)
                .iter()
                .map(|id| format!("peer_connected {id}")),
        );
        lines
    };
    let mut a_expected = joined(a, &[]);
    a_expected.extend([
        format!("peer_connected {b}"),
        format!("peer_connected {c}"),
        format!("peer_disconnected {c}"),
        format!("peer_disconnected {b}"),
        "connection_failed".into(),
    ]);
    assert_eq!(signals(&a_lines), a_expected);
    let mut b_expected = joined(b, &[a]);
    b_expected.extend([
        format!("peer_connected {c}"),
        format!("peer_disconnected {c}"),
        "connection_failed".into(),
    ]);
    assert_eq!(signals(&b_lines), b_expected);
    let mut c_expected = joined(c, &[a, b]);
    c_expected.push("connection_failed".into());
    assert_eq!(signals(&c_lines), c_expected);
}

#[test]
fn a_wspeer_client_in_a_godot_servers_game() {
    let Some(godot) = godot("a_wspeer_client_in_a_godot_servers_game") else {
        return;
    };
    let port = free_port();
    let mut server = start(
        &godot,
        "mp_server.gd",
        &[
            ("WSPEER_PORT", port.to_string()),
            ("WSPEER_CLIENTS", "2".into()),
        ],
    );
    assert_eq!(server.wait_for("listening", || ()), "listening 0");
    let url = format!("ws://127.0.0.1:{port}/");
    let mut g_client = start(&godot, "mp_client.gd", &[("WSPEER_URL", url.clone())]);
    let line = g_client.wait_for("connected ", || ());
    let g: i32 = line["connected ".len()..].parse().unwrap();

    // The wspeer client joins: its id from Godot's server, then the others.
    let mut rust = MultiplayerPeer::with_config(Protocol::Godot3, config());
    rust.create_client(&url, None).unwrap();
    let mut events = Vec::new();
    let mut got: Vec<(i32, String)> = Vec::new();
    let poll =
        |rust: &mut MultiplayerPeer, events: &mut Vec<Event>, got: &mut Vec<(i32, String)>| {
            events.extend(rust.poll());
            while let Ok(p) = rust.get_packet_with_peer() {
                got.push((p.from, String::from_utf8_lossy(&p.data).into_owned()));
            }
        };
    until("the wspeer client to join", || {
        poll(&mut rust, &mut events, &mut got);
        g_client.pump();
        server.pump();
        events.contains(&Event::PeerConnected(g))
    });
    assert_eq!(
        events,
        [
            Event::PeerConnected(1),
            Event::ConnectedToServer,
            Event::PeerConnected(g)
        ]
    );
    let r = rust.unique_id();
    assert!(r >= 2 && r != g);
    assert_eq!(rust.connection_status(), ConnectionStatus::Connected);
    g_client.wait_for(&format!("peer_connected {r}"), || ());
    server.wait_for(&format!("peer_connected {r}"), || ());

    // We send to G, to all, to all but G, to the server, to all but the server;
    // then ask the server and G to send to us, to all, and to all but us.
    let mut send = |target: i32, text: String| {
        rust.set_target_peer(target);
        rust.put_packet(text.as_bytes()).unwrap();
    };
    send(g, "r-g".into());
    send(0, "r-all".into());
    send(-g, "r-not-g".into());
    send(1, "r-server".into());
    send(-1, "r-not-server".into());
    send(1, format!("send {r} s-r"));
    send(g, format!("send {r} g-r"));
    send(g, "send 0 g-all".into());
    send(g, format!("send -{r} g-not-r"));
    send(1, "send 0 s-all".into());
    send(1, format!("send -{g} s-not-g"));
    send(g, format!("send {r} done-g"));
    send(1, format!("send {r} done-s"));
    until("done-g and done-s", || {
        poll(&mut rust, &mut events, &mut got);
        g_client.pump();
        server.pump();
        got.iter().any(|p| p.1 == "done-g") && got.iter().any(|p| p.1 == "done-s")
    });
    got.sort();
    let mut expected = vec![
        (1, "s-r".to_owned()),
        (g, "g-r".into()),
        (g, "g-all".into()),
        (1, "s-all".into()),
        (1, "s-not-g".into()),
        (g, "done-g".into()),
        (1, "done-s".into()),
    ];
    expected.sort();
    assert_eq!(got, expected);

    // G leaves; then we do, and Godot's server quits.
    rust.set_target_peer(g);
    rust.put_packet(b"quit").unwrap();
    let g_lines = g_client.finish(|| poll(&mut rust, &mut events, &mut got));
    until("G to leave", || {
        poll(&mut rust, &mut events, &mut got);
        events.contains(&Event::PeerDisconnected(g))
    });
    rust.close();
    let server_lines = server.finish(|| ());

    let sorted = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        v
    };
    assert_eq!(
        packets(&g_lines),
        sorted(vec![
            format!("packet {r} r-g"),
            format!("packet {r} r-all"),
            format!("packet {r} r-not-server"),
            "packet 1 s-all".into(),
        ])
    );
    assert_eq!(
        packets(&server_lines),
        sorted(vec![
            format!("packet {r} r-all"),
            format!("packet {r} r-not-g"),
            format!("packet {r} r-server"),
            // Godot 3's own quirk, which the wspeer server reproduces.
            format!("packet {r} r-not-server"),
            format!("packet {g} g-all"),
            format!("packet {g} g-not-r"),
        ])
    );
    assert_eq!(
        signals(&server_lines),
        [
            "listening 0".to_owned(),
            format!("peer_connected {g}"),
            format!("peer_connected {r}"),
            format!("peer_disconnected {g}"),
            format!("peer_disconnected {r}"),
        ]
    );
    assert_eq!(
        signals(&g_lines),
        [
            "connect 0".to_owned(),
            "peer_connected 1".into(),
            format!("connected {g}"),
            format!("peer_connected {r}"),
            "connection_failed".into(),
        ]
    );
}
