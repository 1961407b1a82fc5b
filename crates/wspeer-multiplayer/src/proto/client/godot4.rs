//! The Godot 4 client's rules (`websocket_multiplayer_peer.cpp`, `scene_multiplayer.cpp`): the id packet, then
//! `SceneMultiplayer`'s `SYS` packets and raw bytes from the server.

use bytes::Bytes;

use super::Client;
use crate::{
    error::PutPacketError,
    event::{ConnectionStatus, Event},
    ids::SERVER_ID,
    proto::godot4::{self, ScenePacket},
    protocol::Godot4Payload,
    violation::{self, Violation},
};

impl Client {
    /// A message from the server.
    pub(super) fn message_godot4(&mut self, message: Bytes) -> Result<(), Violation> {
        if self.status == ConnectionStatus::Connecting {
            // The first message must be our id: 4 bytes, at least 2. Anything
            // else ends the attempt (Godot: close(1000), connection_failed).
            match godot4::decode_id(&message) {
                Ok(id) => {
                    self.unique_id = id;
                    self.connected();
                    self.out.event(Event::ConnectedToServer);
                    self.out.event(Event::PeerConnected(SERVER_ID));
                }
                Err(violation) => self.fail_with(&violation),
            }
            return Ok(());
        }
        match godot4::decode(&message)? {
            ScenePacket::Other(_) => self.deliver_godot4(SERVER_ID, message),
            ScenePacket::AddPeer(id) => {
                self.check_relay()?;
                self.add_peer(id)?;
            }
            ScenePacket::DelPeer(id) => {
                self.check_relay()?;
                self.del_peer(id);
            }
            ScenePacket::Relay { peer, inner } => {
                self.check_relay()?;
                if godot4::is_sys(inner) {
                    return Err(Violation::NestedSys);
                }
                let inner = message.slice_ref(inner);
                self.deliver_godot4(peer, inner);
            }
            ScenePacket::Auth => {
                tracing::debug!("ignored a SceneMultiplayer auth packet from the server");
            }
        }
        Ok(())
    }

    fn check_relay(&self) -> Result<(), Violation> {
        if self.relay {
            Ok(())
        } else {
            Err(Violation::RelayDisabled)
        }
    }

    fn deliver_godot4(&mut self, from: i32, packet: Bytes) {
        if self.payload == Godot4Payload::Raw {
            self.out.packet(from, packet);
            return;
        }
        match godot4::raw_payload_start(&packet) {
            Ok(Some(start)) => self.out.packet(from, packet.slice(start..)),
            Ok(None) => tracing::debug!(
                peer = from,
                "dropped a SceneMultiplayer packet that is not send_bytes (RPC or replication)"
            ),
            Err(violation) => violation::report(SERVER_ID, &violation),
        }
    }

    /// `send_bytes(data, target)` (or a raw packet): direct to the server for
    /// target 1, wrapped in a relay for anyone else (`send_command`).
    pub(super) fn put_godot4(&mut self, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
        if data.is_empty() {
            return Err(PutPacketError::EmptyPacket);
        }
        let raw = self.payload == Godot4Payload::Raw;
        if target == SERVER_ID || !self.relay {
            // Without relay the server is the only peer we know: 0 and `-id`
            // reach it, -1 reaches nobody, another client is unknown.
            if target > SERVER_ID {
                return Err(PutPacketError::UnknownPeer(target));
            }
            if target == -SERVER_ID {
                return Ok(());
            }
            let packet = if raw {
                Bytes::copy_from_slice(data)
            } else {
                godot4::encode_raw(data)
            };
            self.out.send(SERVER_ID, packet);
            return Ok(());
        }
        let packet = if raw {
            godot4::encode_relay(target, data)
        } else {
            godot4::encode_relay_raw(target, data)
        };
        self.out.send(SERVER_ID, packet);
        Ok(())
    }
}
