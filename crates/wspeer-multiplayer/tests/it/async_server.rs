//! `MultiplayerServer` (the async server) with `MultiplayerPeer` clients on
//! real sockets, both protocols: joins, leaves, targets, relays that flow while
//! the application is busy, refusal and shutdown.

use std::time::Duration;

use tokio::runtime::Runtime;
use wspeer_multiplayer::{
    ConnectionStatus, Event, MultiplayerConfig, MultiplayerPeer, MultiplayerServer, Packet,
    Protocol, ServerEvent,
};
use wspeer_testkit::wait::{WAIT, poll_within};

struct Setup {
    server: MultiplayerServer,
    clients: Vec<MultiplayerPeer>,
    events: Vec<Vec<Event>>,
    // Dropped last: the server's tasks run on it.
    rt: Runtime,
}

impl Setup {
    fn new(protocol: Protocol) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(MultiplayerServer::bind(
                "127.0.0.1:0",
                protocol,
                MultiplayerConfig::default(),
            ))
            .unwrap();
        Self {
            server,
            clients: Vec::new(),
            events: Vec::new(),
            rt,
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.server.local_addr())
    }

    fn poll_clients(&mut self) {
        for (client, events) in self.clients.iter_mut().zip(&mut self.events) {
            events.extend(client.poll());
        }
    }

    /// The next server event, polling the clients meanwhile.
    fn next(&mut self) -> ServerEvent {
        let mut event = None;
        let in_time = poll_within(WAIT, || {
            self.poll_clients();
            // A slice of waiting for the event itself, then the clients again.
            let slice = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(5), self.server.recv()).await
            });
            event = slice.ok().map(|e| e.expect("the server is open"));
            event.is_some()
        });
        assert!(in_time, "no server event within {WAIT:?}");
        event.expect("an event when in time")
    }

    /// Polls the clients until `done`.
    fn until(&mut self, what: &str, mut done: impl FnMut(&mut Setup) -> bool) {
        let in_time = poll_within(WAIT, || {
            self.poll_clients();
            done(self)
        });
        assert!(in_time, "timed out after {WAIT:?} waiting for {what}");
    }

    fn join(&mut self, protocol: Protocol) -> i32 {
        let mut client = MultiplayerPeer::new(protocol);
        client.create_client(&self.url(), None).unwrap();
        self.clients.push(client);
        self.events.push(Vec::new());
        let ServerEvent::PeerConnected(id) = self.next() else {
            panic!("expected a join");
        };
        let index = self.clients.len() - 1;
        self.until("connected", |s| {
            s.clients[index].connection_status() == ConnectionStatus::Connected
        });
        assert_eq!(self.clients[index].unique_id(), id);
        id
    }

    fn packets(&mut self, index: usize, count: usize) -> Vec<Packet> {
        let mut got = Vec::new();
        self.until("packets", |s| {
            while let Ok(p) = s.clients[index].get_packet_with_peer() {
                got.push(p);
            }
            got.len() >= count
        });
        got
    }
}

fn packet(from: i32, data: &[u8]) -> Packet {
    Packet {
        from,
        data: wspeer_multiplayer::Bytes::copy_from_slice(data),
    }
}

#[test]
fn joins_targets_relays_and_leaves() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let mut s = Setup::new(protocol);
        let a = s.join(protocol);
        let b = s.join(protocol);
        let c = s.join(protocol);
        assert_eq!(s.server.peer_ids().len(), 3);
        s.until("announcements", |s| s.clients[2].peer_ids().len() == 3);

        // To the server.
        s.clients[0].set_target_peer(1);
        s.clients[0].put_packet(b"to server").unwrap();
        assert_eq!(s.next(), ServerEvent::Packet(packet(a, b"to server")));
        // To everyone but B: the server and C.
        s.clients[0].set_target_peer(-b);
        s.clients[0].put_packet(b"not b").unwrap();
        assert_eq!(s.next(), ServerEvent::Packet(packet(a, b"not b")));
        assert_eq!(s.packets(2, 1), [packet(a, b"not b")]);
        // From the server to C, and to all.
        s.server.put_packet(c, b"for c").unwrap();
        s.server.put_packet(0, b"for all").unwrap();
        assert_eq!(
            s.packets(2, 2),
            [packet(1, b"for c"), packet(1, b"for all")]
        );
        assert_eq!(s.packets(1, 1), [packet(1, b"for all")]);
        assert_eq!(s.packets(0, 1), [packet(1, b"for all")]);

        // Relays flow while the application reads nothing.
        s.clients[1].set_target_peer(a);
        for i in 0..100u8 {
            s.clients[1].put_packet(&[i]).unwrap();
        }
        let got = s.packets(0, 100);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, p)| p.from == b && p.data[..] == [i as u8])
        );

        // B leaves.
        s.clients[1].close();
        assert_eq!(s.next(), ServerEvent::PeerDisconnected(b));
        s.until("B gone for A", |s| {
            s.events[0].contains(&Event::PeerDisconnected(b))
        });
        assert!(s.server.put_packet(b, b"x").is_err());
    }
}

#[test]
fn refusal_kick_and_shutdown() {
    let protocol = Protocol::Godot4;
    let mut s = Setup::new(protocol);
    let a = s.join(protocol);
    let b = s.join(protocol);
    let handle = s.server.handle();
    handle.set_refuse_new_connections(true);
    let mut late = MultiplayerPeer::new(protocol);
    late.create_client(&s.url(), None).unwrap();
    let mut late_events = Vec::new();
    s.until("the refusal", |_| {
        late_events.extend(late.poll());
        late.connection_status() == ConnectionStatus::Disconnected
    });
    assert_eq!(late_events, [Event::ConnectionFailed]);
    handle.set_refuse_new_connections(false);

    assert!(handle.peer_addr(a).is_some());
    handle.disconnect_peer(a, false).unwrap();
    assert_eq!(s.next(), ServerEvent::PeerDisconnected(a));
    s.until("A's loss", |s| {
        s.events[0].contains(&Event::ServerDisconnected)
    });

    assert_eq!(s.server.peer_ids(), [b]);
    handle.close();
    s.until("B's loss", |s| {
        s.events[1].contains(&Event::ServerDisconnected)
    });
    assert_eq!(s.rt.block_on(s.server.recv()), None);
}
