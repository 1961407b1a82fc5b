//! The Godot 3 client's rules (Godot 3's `websocket_multiplayer_peer.cpp`: `_process_multiplayer`, client side):
//! `SYS_ID`, `SYS_ADD`, `SYS_DEL` and payloads, all with the 9-byte header.

use bytes::Bytes;

use super::Client;
use crate::{
    event::{ConnectionStatus, Event},
    ids::SERVER_ID,
    proto::godot3::{self, Header, MessageType},
    violation::Violation,
};

impl Client {
    /// A message from the server.
    pub(super) fn message_godot3(&mut self, message: Bytes) -> Result<(), Violation> {
        let (header, payload) = godot3::decode(&message)?;
        match header.kind {
            MessageType::Payload => {
                // Stored with source = from; `to` is not checked (as Godot).
                self.out.packet(header.from, message.slice_ref(payload));
                Ok(())
            }
            MessageType::Id => self.sys_id(godot3::decode_sys_id(payload)?),
            MessageType::AddPeer => match godot3::decode_sys_id(payload)? {
                SERVER_ID => self.server_added(),
                id => self.add_peer(id),
            },
            MessageType::DelPeer => {
                self.del_peer(godot3::decode_sys_id(payload)?);
                Ok(())
            }
        }
    }

    /// `SYS_ID`: our id. Godot takes any value at any time; we take it once,
    /// before connecting, and only a valid one.
    fn sys_id(&mut self, id: i32) -> Result<(), Violation> {
        if self.status == ConnectionStatus::Connected {
            return Err(Violation::InvalidId { id });
        }
        if id < 2 {
            self.fail_with(&Violation::InvalidId { id });
            return Ok(());
        }
        self.unique_id = id;
        Ok(())
    }

    /// `SYS_ADD(1)`: the server is there, we are connected (Godot:
    /// `peer_connected(1)`, then `connection_succeeded`).
    fn server_added(&mut self) -> Result<(), Violation> {
        match self.status {
            ConnectionStatus::Connecting if self.unique_id == 0 => {
                self.fail_with(&Violation::AddBeforeId);
                Ok(())
            }
            ConnectionStatus::Connecting => {
                self.connected();
                self.out.event(Event::PeerConnected(SERVER_ID));
                self.out.event(Event::ConnectedToServer);
                Ok(())
            }
            _ => Err(Violation::InvalidId { id: SERVER_ID }),
        }
    }

    /// `put_packet`: `[SYS_NONE][own id][target][data]` to the server.
    pub(super) fn put_godot3(&mut self, target: i32, data: &[u8]) {
        let header = Header {
            kind: MessageType::Payload,
            from: self.unique_id,
            to: target,
        };
        self.out.send(SERVER_ID, godot3::encode(header, data));
    }
}
