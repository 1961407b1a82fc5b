//! Godot's `TCPServer` over real sockets, and a server of 100 clients polled
//! from one loop.

use std::{collections::HashMap, time::Duration};

use crate::support::poll_until;
use wspeer::{Config, ListenError, ReadyState, TcpServer, WebSocketPeer};

#[test]
fn listen_take_and_stop() {
    let mut server = TcpServer::new();
    assert!(!server.is_listening());
    assert_eq!(server.local_port(), 0);
    assert!(!server.is_connection_available());
    assert!(server.take_connection().is_none());

    server.listen(0, "127.0.0.1").unwrap();
    assert!(server.is_listening());
    let port = server.local_port();
    assert_ne!(port, 0);
    assert!(matches!(
        server.listen(0, "127.0.0.1"),
        Err(ListenError::AlreadyListening)
    ));
    assert!(!server.is_connection_available());

    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    poll_until("a connection", || server.is_connection_available());
    let stream = server.take_connection().unwrap();
    assert_eq!(stream.connected_port(), client.local_addr().unwrap().port());
    assert!(!server.is_connection_available());

    server.stop();
    assert!(!server.is_listening());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn bad_addresses_are_refused() {
    let mut server = TcpServer::new();
    assert!(matches!(
        server.listen(0, "not an address"),
        Err(ListenError::InvalidAddress(_))
    ));
    let mut first = TcpServer::new();
    first.listen(0, "127.0.0.1").unwrap();
    let mut second = TcpServer::new();
    let taken = second.listen(first.local_port(), "127.0.0.1");
    assert!(matches!(taken, Err(ListenError::Io { .. })), "{taken:?}");
}

#[test]
fn wildcard_accepts_ipv4() {
    let mut server = TcpServer::new();
    server.listen(0, "*").unwrap();
    let port = server.local_port();
    let _v4 = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    poll_until("an IPv4 connection", || server.is_connection_available());
}

#[test]
fn one_loop_serves_a_hundred_clients_in_order() {
    const CLIENTS: usize = 100;
    const MESSAGES: usize = 50;
    let (mut server, url) = crate::support::server();
    let mut clients: Vec<WebSocketPeer> = (0..CLIENTS)
        .map(|_| {
            let mut c = WebSocketPeer::new();
            c.connect_to_url(&url).unwrap();
            c
        })
        .collect();
    let mut served: Vec<WebSocketPeer> = Vec::new();
    let mut sent = vec![0usize; CLIENTS];
    // Per served peer: the client id it announced and the next number expected.
    let mut expected: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut echoes = vec![0usize; CLIENTS];

    poll_until("every echo", || {
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            peer.accept_stream(stream).unwrap();
            served.push(peer);
        }
        for (index, peer) in served.iter_mut().enumerate() {
            peer.poll();
            while let Ok(packet) = peer.get_packet() {
                let text = String::from_utf8(packet.to_vec()).unwrap();
                let (client, n) = text.split_once(':').unwrap();
                let (client, n): (usize, usize) = (client.parse().unwrap(), n.parse().unwrap());
                let entry = expected.entry(index).or_insert((client, 0));
                assert_eq!(entry.0, client, "messages of two clients on one peer");
                assert_eq!(entry.1, n, "message lost, repeated or out of order");
                entry.1 += 1;
                peer.send_text(&text).unwrap();
            }
        }
        for (id, client) in clients.iter_mut().enumerate() {
            client.poll();
            if client.ready_state() == ReadyState::Open {
                while sent[id] < MESSAGES && client.send_text(&format!("{id}:{}", sent[id])).is_ok()
                {
                    sent[id] += 1;
                }
            }
            while let Ok(packet) = client.get_packet() {
                assert_eq!(packet, format!("{id}:{}", echoes[id]).as_bytes());
                echoes[id] += 1;
            }
        }
        echoes.iter().all(|&n| n == MESSAGES)
    });
    assert_eq!(served.len(), CLIENTS);
}

/// A game loop's server: takes every connection, polls the peers in their
/// handshakes and keeps the ones that open.
#[derive(Default)]
struct LoopServer {
    connecting: Vec<WebSocketPeer>,
    open: Vec<WebSocketPeer>,
    taken: usize,
}

impl LoopServer {
    fn step(&mut self, server: &mut TcpServer) {
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            // Longer than the test: only the limits can end a slow handshake.
            peer.set_config(Config::default().handshake_timeout(Duration::from_secs(120)));
            peer.accept_stream(stream).expect("accept_stream");
            self.connecting.push(peer);
            self.taken += 1;
        }
        let mut opened = Vec::new();
        self.connecting.retain_mut(|peer| {
            peer.poll();
            match peer.ready_state() {
                ReadyState::Connecting => true,
                ReadyState::Open => {
                    opened.push(std::mem::take(peer));
                    false
                }
                ReadyState::Closing | ReadyState::Closed => false,
            }
        });
        self.open.extend(opened);
    }
}

#[test]
fn slow_handshakes_are_bounded_and_lock_no_one_out() {
    const SLOW: usize = 300;
    let (mut server, url) = crate::support::server();
    server.set_handshake_limits(100, 20);
    let port = server.local_port();
    let mut game = LoopServer::default();

    // Requests that never end, all from 127.0.0.1, held open by the test.
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: x\r\n").expect("send");
        slow.push(stream);
        game.step(&mut server);
    }
    poll_until("the server to take every slow connection", || {
        game.step(&mut server);
        game.taken >= SLOW
    });
    // Past the caps, the longest-waiting ones were dropped: what is left in
    // its handshake is within them, memory included.
    poll_until("the dropped handshakes to end", || {
        game.step(&mut server);
        game.connecting.len() <= 20
    });
    assert!(server.pending_handshakes() <= 20);

    // A fresh client from the same address is served meanwhile.
    let mut client = WebSocketPeer::new();
    client.connect_to_url(&url).expect("connect");
    poll_until("the fresh client to open", || {
        game.step(&mut server);
        client.poll();
        client.ready_state() == ReadyState::Open && !game.open.is_empty()
    });
    client.send_text("served").expect("send");
    let peer = &mut game.open[0];
    poll_until("the fresh client's message", || {
        peer.poll();
        peer.available_packet_count() > 0
    });
    assert_eq!(&peer.get_packet().expect("a packet")[..], b"served");
    assert_eq!(game.open.len(), 1, "no slow client opened");
}
