//! Entry points for the fuzz targets in `fuzz/` (`mp_godot4`, `mp_godot3`) and
//! for the test that replays their regressions; not for applications.
//!
//! Each input is read twice: as one message for the codec (decode, and
//! re-encode what decoded), and as a script that drives a server and its
//! clients, where the clients both speak the protocol properly and send raw
//! bytes from the input, on a virtual clock. Nothing may panic, and the
//! invariants below must hold after every step.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{
    ConnectionStatus, IdGenerator, Protocol,
    proto::{Client, Server, godot3, godot4},
};

/// Most clients a script may open, so that one input stays small.
const MAX_CLIENTS: usize = 6;

/// Runs `data` through the Godot 4 codec and state machines.
pub fn godot4(data: &[u8]) {
    codec_godot4(data);
    Script::new(Protocol::Godot4, data).run();
}

/// Runs `data` through the Godot 3 codec and state machines.
pub fn godot3(data: &[u8]) {
    codec_godot3(data);
    Script::new(Protocol::Godot3, data).run();
}

fn codec_godot4(data: &[u8]) {
    if let Ok(id) = godot4::decode_id(data) {
        assert_eq!(godot4::encode_id(id), data);
    }
    match godot4::decode(data) {
        Ok(godot4::ScenePacket::AddPeer(id)) => {
            assert_eq!(godot4::encode_add_peer(id)[2..], data[2..6]);
        }
        Ok(godot4::ScenePacket::DelPeer(id)) => {
            assert_eq!(godot4::encode_del_peer(id)[2..], data[2..6]);
        }
        Ok(godot4::ScenePacket::Relay { peer, inner }) => {
            assert_eq!(godot4::encode_relay(peer, inner)[1..], data[1..]);
        }
        Ok(godot4::ScenePacket::Other(packet)) => assert_eq!(packet, data),
        Ok(godot4::ScenePacket::Auth) | Err(_) => {}
    }
}

fn codec_godot3(data: &[u8]) {
    if let Ok((header, payload)) = godot3::decode(data) {
        assert_eq!(godot3::encode(header, payload), data);
        if let Ok(id) = godot3::decode_sys_id(payload) {
            let sys = godot3::encode_sys(header.kind, id);
            assert_eq!(sys[9..], payload[..4]);
        }
    }
}

/// A client machine and the server-side id of its connection.
struct Node {
    client: Client,
    id: i32,
    open: bool,
}

/// A server, its clients, and the input that tells them what to do.
struct Script<'a> {
    input: &'a [u8],
    now: Instant,
    server: Server,
    nodes: Vec<Node>,
}

impl<'a> Script<'a> {
    fn new(protocol: Protocol, input: &'a [u8]) -> Self {
        let mut server = Server::new(protocol);
        // Ids from the input too: collisions and reserved values included.
        let mut seed: u32 = 0x9e37_79b9;
        server.set_id_generator(IdGenerator::from_fn(move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Small ids collide often, which is the point.
            seed % 8
        }));
        Self {
            input,
            now: Instant::now(),
            server,
            nodes: Vec::new(),
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.input.split_first()?;
        self.input = rest;
        Some(b)
    }

    fn i32(&mut self) -> Option<i32> {
        let (bytes, rest) = self.input.split_first_chunk::<4>()?;
        self.input = rest;
        Some(i32::from_le_bytes(*bytes))
    }

    /// Up to 255 bytes of the input, as one message.
    fn message(&mut self) -> Option<Bytes> {
        let len = usize::from(self.byte()?).min(self.input.len());
        let (message, rest) = self.input.split_at(len);
        self.input = rest;
        Some(Bytes::copy_from_slice(message))
    }

    /// A target that is often a real one: a connected id, its negation, 0, 1,
    /// or any i32.
    fn target(&mut self) -> Option<i32> {
        let pick = self.byte()?;
        let ids: Vec<i32> = self.server.peer_ids().collect();
        let any = ids.get(usize::from(pick / 8) % ids.len().max(1)).copied();
        Some(match (pick % 6, any) {
            (0, _) => 0,
            (1, _) => 1,
            (2, _) => -1,
            (3, Some(id)) => id,
            (4, Some(id)) => -id,
            _ => self.i32()?,
        })
    }

    fn node_index(&mut self) -> Option<usize> {
        let pick = usize::from(self.byte()?);
        (!self.nodes.is_empty()).then(|| pick % self.nodes.len())
    }

    fn run(mut self) {
        while let Some(op) = self.byte() {
            if self.step(op).is_none() {
                break;
            }
            self.pump();
            self.check();
        }
    }

    fn step(&mut self, op: u8) -> Option<()> {
        match op % 10 {
            0 if self.nodes.len() < MAX_CLIENTS => {
                let client = Client::new(self.server.protocol(), self.now);
                if let Ok(id) = self.server.handle_open() {
                    self.nodes.push(Node {
                        client,
                        id,
                        open: true,
                    });
                }
            }
            1 => {
                let i = self.node_index()?;
                self.drop_connection(self.nodes[i].id);
            }
            2 => {
                // Raw bytes from a client.
                let i = self.node_index()?;
                let message = self.message()?;
                if self.nodes[i].open {
                    self.server.handle_message(self.nodes[i].id, message);
                }
            }
            3 => {
                // Raw bytes from the server.
                let i = self.node_index()?;
                let message = self.message()?;
                let now = self.now;
                self.nodes[i].client.handle_message(message, now);
            }
            4 => {
                let i = self.node_index()?;
                let target = self.target()?;
                let message = self.message()?;
                let _ = self.nodes[i].client.put_packet(target, &message);
            }
            5 => {
                let target = self.target()?;
                let message = self.message()?;
                let _ = self.server.put_packet(target, &message);
            }
            6 => {
                let target = self.target()?;
                let force = self.byte()? & 1 == 1;
                let _ = self.server.disconnect_peer(target, force);
            }
            7 => {
                let i = self.node_index()?;
                let force = self.byte()? & 1 == 1;
                let _ = self.nodes[i].client.disconnect(force);
            }
            8 => {
                let step = Duration::from_millis(u64::from(self.byte()?) * 50);
                self.now += step;
                let now = self.now;
                for node in &mut self.nodes {
                    node.client.handle_timeout(now);
                }
            }
            9 => {
                let flags = self.byte()?;
                self.server.set_server_relay(flags & 1 == 0);
                self.server.set_refuse_new_connections(flags & 2 == 2);
                if let Some(i) = self.node_index() {
                    self.nodes[i].client.set_server_relay(flags & 4 == 0);
                }
            }
            _ => {}
        }
        Some(())
    }

    fn drop_connection(&mut self, id: i32) {
        let now = self.now;
        for node in self.nodes.iter_mut().filter(|n| n.id == id && n.open) {
            node.open = false;
            node.client.handle_closed(now);
        }
        self.server.handle_closed(id);
    }

    /// Carries every message both ways until nothing moves, checking where the
    /// machines send.
    fn pump(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                assert!(t.to >= 2, "the server sent to {}", t.to);
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
                    assert_eq!(t.to, 1, "a client sent to {}", t.to);
                    if self.nodes[i].open {
                        self.server.handle_message(self.nodes[i].id, t.data);
                    }
                }
                while self.nodes[i].client.poll_close().is_some() {
                    moved = true;
                    let id = self.nodes[i].id;
                    self.drop_connection(id);
                }
            }
            while let Some(packet) = self.server.poll_packet() {
                // Only connected peers speak to the server's application.
                assert!(packet.from >= 2, "a packet from {}", packet.from);
            }
            while self.server.poll_event().is_some() {}
            for node in &mut self.nodes {
                while node.client.poll_event().is_some() {}
                while node.client.poll_packet().is_some() {}
            }
            if !moved {
                return;
            }
        }
    }

    /// Ids are unique and valid; a connected client has a valid id.
    fn check(&self) {
        let ids: Vec<i32> = self.server.peer_ids().collect();
        assert!(ids.iter().all(|&id| id >= 2), "ids {ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids {ids:?}");
        for node in &self.nodes {
            if node.client.status() == ConnectionStatus::Connected {
                assert!(node.client.unique_id() >= 2);
            }
        }
    }
}
