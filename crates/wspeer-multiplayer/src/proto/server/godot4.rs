//! The Godot 4 server's rules (`websocket_multiplayer_peer.cpp`, `scene_multiplayer.cpp`): the id packet, then
//! `SceneMultiplayer`'s peer announcements and relay.

use bytes::Bytes;

use super::{Checked, Server};
use crate::{
    error::PutPacketError,
    proto::godot4::{self, ScenePacket},
    protocol::Godot4Payload,
    violation::{self, Violation},
};

impl Server {
    /// A new peer: its id first, then (relay on) `ADD_PEER` both ways with every
    /// peer already connected (`_admit_peer`).
    pub(super) fn open_godot4(&mut self, id: i32) {
        self.out
            .send(id, Bytes::copy_from_slice(&godot4::encode_id(id)));
        if self.relay {
            let new = Bytes::copy_from_slice(&godot4::encode_add_peer(id));
            for &peer in &self.peers {
                self.out.send(peer, new.clone());
                self.out
                    .send(id, Bytes::copy_from_slice(&godot4::encode_add_peer(peer)));
            }
        }
        self.peers.insert(id);
    }

    /// A message from peer `from`.
    pub(super) fn message_godot4(&mut self, from: i32, message: Bytes) -> Checked {
        match godot4::decode(&message)? {
            ScenePacket::Other(_) => {
                self.deliver_godot4(from, message);
                Ok(())
            }
            ScenePacket::Relay { peer, inner } => {
                let inner = message.slice_ref(inner);
                self.relay_godot4(from, peer, inner)
            }
            // Godot ignores an auth packet from an admitted peer; so do we
            // (wspeer does not authenticate).
            ScenePacket::Auth => {
                tracing::debug!(peer = from, "ignored a SceneMultiplayer auth packet");
                Ok(())
            }
            ScenePacket::AddPeer(_) | ScenePacket::DelPeer(_) => Err(Violation::SysFromClient {
                kind: message.get(1).copied().unwrap_or_default(),
            }),
        }
    }

    /// `SYS_COMMAND_RELAY` from `from` to `target`: sent on as `[7][3][from]…`
    /// (the source replaces the target); the server keeps it too for 0 and for
    /// `-id` other than -1.
    fn relay_godot4(&mut self, from: i32, target: i32, inner: Bytes) -> Checked {
        if !self.relay {
            return Err(Violation::RelayDisabled);
        }
        if godot4::is_sys(&inner) {
            // Godot would process a nested SYS packet as if the client had sent
            // it; nothing legitimate does that.
            return Err(Violation::NestedSys);
        }
        // Godot's server is not in its own peer list, so a relay to 1 is
        // dropped like a relay to a peer that left.
        if target > 0 && !self.peers.contains(&target) {
            return Err(Violation::UnknownTarget { target });
        }
        self.send_to_target(target, from, godot4::encode_relay(from, &inner));
        if target == 0 || target < -1 {
            self.deliver_godot4(from, inner);
        }
        Ok(())
    }

    /// A `SceneMultiplayer` packet addressed to the server.
    fn deliver_godot4(&mut self, from: i32, packet: Bytes) {
        if self.payload == Godot4Payload::Raw {
            self.deliver(from, packet);
            return;
        }
        match godot4::raw_payload_start(&packet) {
            Ok(Some(start)) => self.deliver(from, packet.slice(start..)),
            Ok(None) => tracing::debug!(
                peer = from,
                "dropped a SceneMultiplayer packet that is not send_bytes (RPC or replication)"
            ),
            Err(violation) => violation::report(from, &violation),
        }
    }

    /// What the server sends for `put_packet(data)`.
    pub(super) fn packet_godot4(&self, data: &[u8]) -> Result<Bytes, PutPacketError> {
        if data.is_empty() {
            return Err(PutPacketError::EmptyPacket);
        }
        Ok(match self.payload {
            Godot4Payload::SendBytes => godot4::encode_raw(data),
            Godot4Payload::Raw => Bytes::copy_from_slice(data),
        })
    }
}
