//! A virtual network for the state machines (quinn's `Pair`, for a star): one
//! server, any number of clients, messages carried in memory in order, a clock
//! that moves only when a test moves it. Every message is logged for
//! byte-exact checks.

use std::time::{Duration, Instant};

use wspeer_multiplayer::{
    Bytes, Event, IdGenerator, Packet, Protocol,
    proto::{Client, Server},
};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Server to the client with this server-side id.
    ToClient(i32),
    /// The client with this server-side id to the server.
    ToServer(i32),
}

/// One client and what it saw.
pub struct Node {
    pub client: Client,
    /// The id the server gave this connection.
    pub id: i32,
    /// Whether its connection is still open.
    pub open: bool,
    pub events: Vec<Event>,
    pub packets: Vec<Packet>,
}

pub struct Net {
    pub now: Instant,
    pub server: Server,
    pub nodes: Vec<Node>,
    pub server_events: Vec<Event>,
    pub server_packets: Vec<Packet>,
    /// Every message carried, in order.
    pub wire: Vec<(Dir, Bytes)>,
}

impl Net {
    /// A server that hands out `ids` in this order.
    pub fn new(protocol: Protocol, ids: &[u32]) -> Self {
        let script: Vec<u32> = ids.to_vec();
        let mut script = script.into_iter();
        let mut server = Server::new(protocol);
        server.set_id_generator(IdGenerator::from_fn(move || {
            script.next().expect("the test ran out of scripted ids")
        }));
        Self {
            now: Instant::now(),
            server,
            nodes: Vec::new(),
            server_events: Vec::new(),
            server_packets: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// A client connects and its connection opens; returns its index.
    pub fn connect(&mut self) -> usize {
        let client = Client::new(self.server.protocol(), self.now);
        let id = self.server.handle_open().expect("admitted");
        self.nodes.push(Node {
            client,
            id,
            open: true,
            events: Vec::new(),
            packets: Vec::new(),
        });
        self.run();
        self.nodes.len() - 1
    }

    /// Index of the client with server-side id `id`.
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

    /// Carries everything queued, until nothing moves.
    pub fn run(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                self.wire.push((Dir::ToClient(t.to), t.data.clone()));
                let now = self.now;
                if let Some(node) = self.nodes.iter_mut().find(|n| n.id == t.to && n.open) {
                    node.client.handle_message(t.data, now);
                }
            }
            while let Some(id) = self.server.poll_close() {
                moved = true;
                self.drop_connection(id);
            }
            for i in 0..self.nodes.len() {
                while let Some(t) = self.nodes[i].client.poll_transmit() {
                    moved = true;
                    assert_eq!(t.to, 1, "a client sends only to its server");
                    let id = self.nodes[i].id;
                    self.wire.push((Dir::ToServer(id), t.data.clone()));
                    if self.nodes[i].open {
                        self.server.handle_message(id, t.data);
                    }
                }
                while self.nodes[i].client.poll_close().is_some() {
                    moved = true;
                    let id = self.nodes[i].id;
                    self.drop_connection(id);
                }
            }
            self.collect();
            if !moved {
                return;
            }
        }
    }

    /// The connection of server-side id `id` is gone, seen from both ends.
    fn drop_connection(&mut self, id: i32) {
        let now = self.now;
        if let Some(node) = self.nodes.iter_mut().find(|n| n.id == id && n.open) {
            node.open = false;
            node.client.handle_closed(now);
        }
        self.server.handle_closed(id);
    }

    /// The client at `index` loses its connection (the network, not a close).
    pub fn cut(&mut self, index: usize) {
        let id = self.nodes[index].id;
        self.drop_connection(id);
        self.run();
    }

    fn collect(&mut self) {
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        while let Some(p) = self.server.poll_packet() {
            self.server_packets.push(p);
        }
        for node in &mut self.nodes {
            while let Some(e) = node.client.poll_event() {
                node.events.push(e);
            }
            while let Some(p) = node.client.poll_packet() {
                node.packets.push(p);
            }
        }
    }

    /// Moves the clock and lets every client check its timeout.
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

    /// The payloads each client and the server received, as (receiver index or
    /// `None` for the server, from, text).
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

/// `i32` little-endian bytes, for building expected messages.
pub fn le(v: i32) -> [u8; 4] {
    v.to_le_bytes()
}

/// Concatenates byte pieces into one expected message.
pub fn cat(pieces: &[&[u8]]) -> Vec<u8> {
    pieces.concat()
}
