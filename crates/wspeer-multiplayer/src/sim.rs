//! A simulated network for the state machines of [`proto`](crate::proto), for
//! tests: one [`Server`], any number of [`Client`]s, every message carried in
//! memory and in order, on a clock that moves only when the caller moves it.
//! Every message, event and packet is logged for byte-exact checks.
//!
//! It checks what any correct pair of machines does, and panics otherwise: a
//! server sends only to peer ids (2 and up), a client only to the server (1),
//! the server's application hears only from peers, and the machines fall
//! quiet once everything queued has been carried.
//!
//! ```
//! use wspeer_multiplayer::{Event, IdGenerator, Protocol, sim::Network};
//!
//! let mut net = Network::new(Protocol::Godot4, IdGenerator::random());
//! let a = net.connect();
//! let b = net.connect();
//! let b_id = net.nodes[b].id;
//! net.nodes[a].client.put_packet(b_id, b"hi").unwrap();
//! net.run();
//! assert_eq!(&net.nodes[b].packets[0].data[..], b"hi");
//! assert!(net.nodes[a].events.contains(&Event::PeerConnected(b_id)));
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{
    error::OpenError,
    event::{Event, Packet},
    ids::{IdGenerator, SERVER_ID},
    proto::{Client, Server},
    protocol::Protocol,
};

/// Rounds of carrying after which the machines count as talking forever.
const MAX_ROUNDS: usize = 64;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Server to the client with this server-side id.
    ToClient(i32),
    /// The client with this server-side id to the server.
    ToServer(i32),
}

/// One client and what it saw.
#[derive(Debug)]
pub struct Node {
    /// Its state machine.
    pub client: Client,
    /// The id the server gave its connection.
    pub id: i32,
    /// Whether its connection is still open.
    pub open: bool,
    /// Its events, in order.
    pub events: Vec<Event>,
    /// The packets it received, in order.
    pub packets: Vec<Packet>,
}

/// A server and its clients, connected by the simulated network.
#[derive(Debug)]
pub struct Network {
    /// The clock the machines see.
    pub now: Instant,
    /// The server's state machine.
    pub server: Server,
    /// The clients, in the order they connected.
    pub nodes: Vec<Node>,
    /// The server's events, in order.
    pub server_events: Vec<Event>,
    /// The packets the server received, in order.
    pub server_packets: Vec<Packet>,
    /// Every message carried, in order.
    pub wire: Vec<(Dir, Bytes)>,
}

impl Network {
    /// A server speaking `protocol` that draws its peer ids from `ids`, and no
    /// client yet.
    pub fn new(protocol: Protocol, ids: IdGenerator) -> Self {
        let mut server = Server::new(protocol);
        server.set_id_generator(ids);
        Self {
            now: Instant::now(),
            server,
            nodes: Vec::new(),
            server_events: Vec::new(),
            server_packets: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// A client connects and everything is carried; returns its index in
    /// [`nodes`](Self::nodes).
    ///
    /// # Panics
    ///
    /// If the server refuses the connection.
    pub fn connect(&mut self) -> usize {
        self.try_connect()
            .expect("the server admits the connection")
    }

    /// A client tries to connect: its index in [`nodes`](Self::nodes) once the
    /// server admitted it and everything was carried, or why the server
    /// refused it (then no client is added).
    pub fn try_connect(&mut self) -> Result<usize, OpenError> {
        let client = Client::new(self.server.protocol(), self.now);
        let id = self.server.handle_open()?;
        self.nodes.push(Node {
            client,
            id,
            open: true,
            events: Vec::new(),
            packets: Vec::new(),
        });
        self.run();
        Ok(self.nodes.len() - 1)
    }

    /// The index of the client whose connection has server-side id `id`.
    ///
    /// # Panics
    ///
    /// If there is no such client.
    pub fn index(&self, id: i32) -> usize {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .expect("a client with that id")
    }

    /// The client at `index`.
    pub fn node(&mut self, index: usize) -> &mut Node {
        &mut self.nodes[index]
    }

    /// Carries everything queued, both ways, until nothing moves.
    ///
    /// # Panics
    ///
    /// If a machine sends where it never may, the server delivers a packet
    /// from a non-peer, or the machines are still talking after 64 rounds.
    pub fn run(&mut self) {
        for _ in 0..MAX_ROUNDS {
            let moved = self.carry();
            self.collect();
            if !moved {
                return;
            }
        }
        panic!("the machines were still talking after {MAX_ROUNDS} rounds");
    }

    /// One round: what the server queued, then what each client queued.
    /// Returns whether anything moved.
    fn carry(&mut self) -> bool {
        let mut moved = false;
        while let Some(t) = self.server.poll_transmit() {
            moved = true;
            assert!(t.to > SERVER_ID, "the server sent to {}", t.to);
            self.wire.push((Dir::ToClient(t.to), t.data.clone()));
            let now = self.now;
            if let Some(node) = self.nodes.iter_mut().find(|n| n.id == t.to && n.open) {
                node.client.handle_message(t.data, now);
            }
        }
        while let Some(id) = self.server.poll_close() {
            moved = true;
            if let Some(index) = self.nodes.iter().position(|n| n.id == id && n.open) {
                self.drop_connection(index);
            }
        }
        for index in 0..self.nodes.len() {
            while let Some(t) = self.nodes[index].client.poll_transmit() {
                moved = true;
                assert_eq!(t.to, SERVER_ID, "a client sent to {}", t.to);
                let id = self.nodes[index].id;
                self.wire.push((Dir::ToServer(id), t.data.clone()));
                if self.nodes[index].open {
                    self.server.handle_message(id, t.data);
                }
            }
            while self.nodes[index].client.poll_close().is_some() {
                moved = true;
                self.drop_connection(index);
            }
        }
        moved
    }

    /// The connection of the client at `index` is gone, seen from both ends
    /// (once: a connection closes only while it is open).
    fn drop_connection(&mut self, index: usize) {
        let now = self.now;
        let node = &mut self.nodes[index];
        if node.open {
            node.open = false;
            node.client.handle_closed(now);
            self.server.handle_closed(node.id);
        }
    }

    /// The client at `index` loses its connection (the network, not a close),
    /// and everything is carried.
    pub fn cut(&mut self, index: usize) {
        self.drop_connection(index);
        self.run();
    }

    fn collect(&mut self) {
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        while let Some(p) = self.server.poll_packet() {
            // Only connected peers speak to the server's application.
            assert!(
                p.from > SERVER_ID,
                "the server got a packet from {}",
                p.from
            );
            self.server_packets.push(p);
        }
        for node in &mut self.nodes {
            node.events
                .extend(std::iter::from_fn(|| node.client.poll_event()));
            node.packets
                .extend(std::iter::from_fn(|| node.client.poll_packet()));
        }
    }

    /// Moves the clock, lets every client check its timeout, and carries
    /// everything.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        let now = self.now;
        for node in &mut self.nodes {
            node.client.handle_timeout(now);
        }
        self.run();
    }

    /// Forgets what was logged so far.
    pub fn clear_logs(&mut self) {
        self.wire.clear();
        self.server_events.clear();
        self.server_packets.clear();
        for node in &mut self.nodes {
            node.events.clear();
            node.packets.clear();
        }
    }

    /// The payloads the server and each client received, as (receiver: `None`
    /// for the server or the client's index, sender, payload as text), the
    /// server's first.
    pub fn deliveries(&self) -> Vec<(Option<usize>, i32, String)> {
        let text = |p: &Packet| String::from_utf8_lossy(&p.data).into_owned();
        let mut out: Vec<_> = self
            .server_packets
            .iter()
            .map(|p| (None, p.from, text(p)))
            .collect();
        for (i, node) in self.nodes.iter().enumerate() {
            out.extend(node.packets.iter().map(|p| (Some(i), p.from, text(p))));
        }
        out
    }
}
