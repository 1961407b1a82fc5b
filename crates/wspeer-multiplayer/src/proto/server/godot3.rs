//! The Godot 3 server's rules (Godot 3's `websocket_multiplayer_peer.cpp`: `_send_add`, `_process_multiplayer`,
//! `_server_relay`): system messages in Godot's order, `from` checked, original
//! bytes relayed.

use bytes::Bytes;

use super::{Checked, Server};
use crate::{
    ids::SERVER_ID,
    proto::godot3::{self, MessageType},
    violation::Violation,
};

fn sys(kind: MessageType, id: i32) -> Bytes {
    Bytes::copy_from_slice(&godot3::encode_sys(kind, id))
}

impl Server {
    /// A new peer (`_send_add`): `SYS_ID(id)` and `SYS_ADD(1)` to it, then for
    /// every other peer X in ascending order, `SYS_ADD(id)` to X and
    /// `SYS_ADD(X)` to it.
    pub(super) fn open_godot3(&mut self, id: i32) {
        self.out.send(id, sys(MessageType::Id, id));
        self.out.send(id, sys(MessageType::AddPeer, SERVER_ID));
        if self.relay {
            let new = sys(MessageType::AddPeer, id);
            for &peer in &self.peers {
                self.out.send(peer, new.clone());
                self.out.send(id, sys(MessageType::AddPeer, peer));
            }
        }
        self.peers.insert(id);
    }

    /// A message from peer `from` (`_process_multiplayer`, server side).
    pub(super) fn message_godot3(&mut self, from: i32, message: Bytes) -> Checked {
        let (header, payload) = godot3::decode(&message)?;
        if header.kind != MessageType::Payload {
            return Err(Violation::SysFromClient {
                kind: header.kind.into(),
            });
        }
        if header.from != from {
            return Err(Violation::WrongFrom {
                claimed: header.from,
            });
        }
        let payload = message.slice_ref(payload);
        let to = header.to;
        if to > SERVER_ID {
            return self.relay_godot3(from, to, message);
        }
        // 1, 0 and every negative target reach the server: Godot compares its
        // own id with -from instead of -to, so even -1 (everyone but the
        // server) is kept. Kept here too, so that packets land where Godot's
        // own server puts them.
        self.deliver(from, payload);
        if to <= 0 && self.relay {
            self.send_to_target(to, from, message);
        }
        Ok(())
    }

    /// A message for one other client: forwarded unchanged.
    fn relay_godot3(&mut self, from: i32, to: i32, message: Bytes) -> Checked {
        if !self.relay {
            return Err(Violation::RelayDisabled);
        }
        if to == from {
            return Err(Violation::TargetIsSender);
        }
        if !self.peers.contains(&to) {
            return Err(Violation::UnknownTarget { target: to });
        }
        self.out.send(to, message);
        Ok(())
    }
}
