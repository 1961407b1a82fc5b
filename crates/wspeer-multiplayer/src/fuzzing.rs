//! Entry points for the fuzz targets in `fuzz/` (`mp_godot4`, `mp_godot3`) and
//! for the test that replays their regressions; not for applications.
//!
//! Each input is read twice: as one message for the codec (decode, and
//! re-encode what decoded), and as a script that drives a server and its
//! clients on the [simulated network](crate::sim), where the clients both
//! speak the protocol properly and send raw bytes from the input. Nothing may
//! panic, and the network's checks and the invariants below must hold after
//! every step.

use std::time::Duration;

use bytes::Bytes;

use crate::{
    ConnectionStatus, IdGenerator, Protocol,
    proto::{godot3, godot4},
    sim::Network,
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

/// A server and its clients on the simulated network, and the input that
/// tells them what to do.
struct Script<'a> {
    input: &'a [u8],
    net: Network,
}

impl<'a> Script<'a> {
    fn new(protocol: Protocol, input: &'a [u8]) -> Self {
        // Ids from the input too: collisions and reserved values included.
        let mut seed: u32 = 0x9e37_79b9;
        let ids = IdGenerator::from_fn(move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Small ids collide often, which is the point.
            seed % 8
        });
        Self {
            input,
            net: Network::new(protocol, ids),
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
        let ids: Vec<i32> = self.net.server.peer_ids().collect();
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
        let nodes = self.net.nodes.len();
        (nodes > 0).then(|| pick % nodes)
    }

    fn run(mut self) {
        while let Some(op) = self.byte() {
            if self.step(op).is_none() {
                break;
            }
            self.net.run();
            self.check();
            // Only the invariants matter here, not the logs.
            self.net.clear_logs();
        }
    }

    fn step(&mut self, op: u8) -> Option<()> {
        match op % 10 {
            0 if self.net.nodes.len() < MAX_CLIENTS => {
                // A refusal is part of the script too.
                let _ = self.net.try_connect();
            }
            1 => {
                let i = self.node_index()?;
                self.net.cut(i);
            }
            2 => {
                // Raw bytes from a client.
                let i = self.node_index()?;
                let message = self.message()?;
                let node = &self.net.nodes[i];
                if node.open {
                    self.net.server.handle_message(node.id, message);
                }
            }
            3 => {
                // Raw bytes from the server.
                let i = self.node_index()?;
                let message = self.message()?;
                let now = self.net.now;
                self.net.nodes[i].client.handle_message(message, now);
            }
            4 => {
                let i = self.node_index()?;
                let target = self.target()?;
                let message = self.message()?;
                let _ = self.net.nodes[i].client.put_packet(target, &message);
            }
            5 => {
                let target = self.target()?;
                let message = self.message()?;
                let _ = self.net.server.put_packet(target, &message);
            }
            6 => {
                let target = self.target()?;
                let force = self.byte()? & 1 == 1;
                let _ = self.net.server.disconnect_peer(target, force);
            }
            7 => {
                let i = self.node_index()?;
                let force = self.byte()? & 1 == 1;
                let _ = self.net.nodes[i].client.disconnect(force);
            }
            8 => {
                let step = Duration::from_millis(u64::from(self.byte()?) * 50);
                self.net.advance(step);
            }
            9 => {
                let flags = self.byte()?;
                self.net.server.set_server_relay(flags & 1 == 0);
                self.net.server.set_refuse_new_connections(flags & 2 == 2);
                if let Some(i) = self.node_index() {
                    self.net.nodes[i].client.set_server_relay(flags & 4 == 0);
                }
            }
            _ => {}
        }
        Some(())
    }

    /// Ids are unique and valid; a connected client has a valid id.
    fn check(&self) {
        let ids: Vec<i32> = self.net.server.peer_ids().collect();
        assert!(ids.iter().all(|&id| id >= 2), "ids {ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids {ids:?}");
        for node in &self.net.nodes {
            if node.client.status() == ConnectionStatus::Connected {
                assert!(node.client.unique_id() >= 2);
            }
        }
    }
}
