//! A wspeer multiplayer server and its wspeer clients on real sockets
//! (127.0.0.1, port 0), all polled from the test's loop with bounded waits.

use wspeer_multiplayer::{ConnectionStatus, Event, MultiplayerConfig, MultiplayerPeer, Protocol};
use wspeer_testkit::wait::{WAIT, poll_within};

/// Who received a packet: the server, or client `i`.
pub type Receiver = Option<usize>;

pub struct Game {
    pub protocol: Protocol,
    pub server: MultiplayerPeer,
    pub clients: Vec<MultiplayerPeer>,
    pub server_events: Vec<Event>,
    pub client_events: Vec<Vec<Event>>,
    /// Every packet received: (receiver, sender id, text).
    pub packets: Vec<(Receiver, i32, String)>,
}

impl Game {
    /// A server on 127.0.0.1, any port.
    pub fn new(protocol: Protocol) -> Self {
        Self::with_config(protocol, MultiplayerConfig::default())
    }

    pub fn with_config(protocol: Protocol, config: MultiplayerConfig) -> Self {
        let mut server = MultiplayerPeer::with_config(protocol, config);
        server.create_server(0, "127.0.0.1", None).expect("listen");
        Self {
            protocol,
            server,
            clients: Vec::new(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            packets: Vec::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.server.local_port())
    }

    /// Polls everyone once, collecting events and packets.
    pub fn poll_all(&mut self) {
        self.server_events.extend(self.server.poll());
        while let Ok(p) = self.server.get_packet_with_peer() {
            self.packets
                .push((None, p.from, String::from_utf8_lossy(&p.data).into()));
        }
        for (i, client) in self.clients.iter_mut().enumerate() {
            self.client_events[i].extend(client.poll());
            while let Ok(p) = client.get_packet_with_peer() {
                self.packets
                    .push((Some(i), p.from, String::from_utf8_lossy(&p.data).into()));
            }
        }
    }

    /// Polls everyone until `done` holds.
    pub fn until(&mut self, what: &str, mut done: impl FnMut(&Game) -> bool) {
        let in_time = poll_within(WAIT, || {
            self.poll_all();
            done(self)
        });
        assert!(
            in_time,
            "timed out after {WAIT:?} waiting for {what}; server saw {:?}, clients {:?}",
            self.server_events, self.client_events
        );
    }

    /// A new client joins; returns its index once the server and every other
    /// client know it.
    pub fn join(&mut self) -> usize {
        let mut client = MultiplayerPeer::with_config(self.protocol, self.server.config().clone());
        client.create_client(&self.url(), None).expect("connect");
        self.clients.push(client);
        self.client_events.push(Vec::new());
        let index = self.clients.len() - 1;
        self.until("the new client to be known to all", |g| {
            let id = g.clients[index].unique_id();
            id >= 2
                && g.client_events[index].contains(&Event::ConnectedToServer)
                && g.server_events.contains(&Event::PeerConnected(id))
                && g.client_events
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != index)
                    .all(|(_, e)| e.contains(&Event::PeerConnected(id)))
                && g.client_events[index]
                    .iter()
                    .filter(|e| matches!(e, Event::PeerConnected(_)))
                    .count()
                    == g.clients.len()
        });
        index
    }

    pub fn id(&self, index: usize) -> i32 {
        self.clients[index].unique_id()
    }

    /// `sender` (None: the server) sends `text` to `target`, then a marker to
    /// everyone; returns who received `text`, once every other peer has the
    /// marker (so anything else would have arrived too).
    pub fn deliver(&mut self, sender: Receiver, target: i32, text: &str) -> Vec<(Receiver, i32)> {
        self.packets.clear();
        let peer = match sender {
            None => &mut self.server,
            Some(i) => &mut self.clients[i],
        };
        peer.set_target_peer(target);
        peer.put_packet(text.as_bytes()).expect("put_packet");
        peer.set_target_peer(0);
        peer.put_packet(b"marker").expect("marker");
        // Everyone but the sender: the connected clients and the server, less one.
        let others = self
            .clients
            .iter()
            .filter(|c| c.connection_status() == ConnectionStatus::Connected)
            .count();
        self.until("the markers", |g| {
            g.packets.iter().filter(|p| p.2 == "marker").count() == others
        });
        let mut got: Vec<(Receiver, i32)> = self
            .packets
            .iter()
            .filter(|p| p.2 == text)
            .map(|p| (p.0, p.1))
            .collect();
        got.sort();
        got
    }
}
