//! The server's state machine, for both protocols: which peers are connected,
//! the ids it hands out, what it announces and relays. No sockets, no clock.
//!
//! The server has no timer of its own: the time a new connection has for its
//! TCP, TLS and WebSocket handshakes is the transport's (its
//! `handshake_timeout`), and once open a peer stays until its connection closes.

mod godot3;
mod godot4;

use std::collections::BTreeSet;

use bytes::Bytes;

use super::outbox::{Outbox, Transmit};
use crate::{
    error::{DisconnectError, OpenError, PutPacketError},
    event::{Event, Packet},
    ids::{IdGenerator, SERVER_ID},
    protocol::{Godot4Payload, Protocol},
    violation::{self, Violation},
};

/// A multiplayer server as a state machine: Godot 4's `WebSocketMultiplayerPeer`
/// with `SceneMultiplayer`'s relay, or Godot 3's `WebSocketServer` in
/// multiplayer mode.
///
/// Call order, for a driver that owns the connections:
/// 1. A connection finished its WebSocket handshake: [`handle_open`], which
///    gives its id (or refuses it: drop the connection).
/// 2. A message arrived from peer `id`: [`handle_message`].
/// 3. Peer `id`'s connection is no longer open: [`handle_closed`].
/// 4. The application: [`put_packet`], [`disconnect_peer`], [`close`].
/// 5. After any of these, drain the outputs in this order: [`poll_transmit`]
///    (send each, binary, on peer `to`'s connection), [`poll_close`] (close
///    that connection with 1000), then [`poll_event`] and [`poll_packet`].
///
/// Peers are kept in ascending id order, so announcements and broadcasts go
/// out in that order (Godot 3's map order; Godot 4 uses a hash set).
///
/// [`handle_open`]: Self::handle_open
/// [`handle_message`]: Self::handle_message
/// [`handle_closed`]: Self::handle_closed
/// [`put_packet`]: Self::put_packet
/// [`disconnect_peer`]: Self::disconnect_peer
/// [`close`]: Self::close
/// [`poll_transmit`]: Self::poll_transmit
/// [`poll_close`]: Self::poll_close
/// [`poll_event`]: Self::poll_event
/// [`poll_packet`]: Self::poll_packet
#[derive(Debug)]
pub struct Server {
    protocol: Protocol,
    payload: Godot4Payload,
    relay: bool,
    refusing: bool,
    peers: BTreeSet<i32>,
    /// Peers whose first violation was logged at `warn`; later ones go to
    /// `debug`.
    warned: BTreeSet<i32>,
    ids: IdGenerator,
    out: Outbox,
}

impl Server {
    /// A server speaking `protocol`, with Godot's defaults: relay on, new
    /// connections accepted, random ids.
    pub fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            payload: Godot4Payload::default(),
            relay: true,
            refusing: false,
            peers: BTreeSet::new(),
            warned: BTreeSet::new(),
            ids: IdGenerator::random(),
            out: Outbox::default(),
        }
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Turns `server_relay` on or off (default on). Off, clients are not told
    /// about each other and client-to-client packets are dropped. Godot 4's
    /// `SceneMultiplayer.server_relay`; Godot 3 has no such switch (always on).
    pub fn set_server_relay(&mut self, enabled: bool) {
        self.relay = enabled;
    }

    /// Whether `server_relay` is on.
    pub fn server_relay(&self) -> bool {
        self.relay
    }

    /// What Godot 4 payloads are (default [`Godot4Payload::SendBytes`]).
    pub fn set_godot4_payload(&mut self, payload: Godot4Payload) {
        self.payload = payload;
    }

    /// Godot's `refuse_new_connections`: while on, [`handle_open`](Self::handle_open)
    /// refuses every connection.
    pub fn set_refuse_new_connections(&mut self, refuse: bool) {
        self.refusing = refuse;
    }

    /// Whether new connections are refused.
    pub fn is_refusing_new_connections(&self) -> bool {
        self.refusing
    }

    /// Replaces where new ids come from (tests use a scripted source).
    pub fn set_id_generator(&mut self, ids: IdGenerator) {
        self.ids = ids;
    }

    /// Whether peer `id` is connected.
    pub fn has_peer(&self, id: i32) -> bool {
        self.peers.contains(&id)
    }

    /// The connected peers, in ascending order.
    pub fn peer_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.peers.iter().copied()
    }

    /// A connection finished its handshake: gives it a fresh id, queues what
    /// the protocol sends a new peer and announces it, then queues
    /// `PeerConnected(id)`. Refused while `refuse_new_connections` is on.
    pub fn handle_open(&mut self) -> Result<i32, OpenError> {
        if self.refusing {
            return Err(OpenError::Refused);
        }
        let peers = &self.peers;
        let id = self.ids.next_unused(|id| peers.contains(&id));
        match self.protocol {
            Protocol::Godot4 => self.open_godot4(id),
            Protocol::Godot3 => self.open_godot3(id),
        }
        self.out.event(Event::PeerConnected(id));
        Ok(id)
    }

    /// A message arrived on peer `from`'s connection. Packets for the
    /// application go to [`poll_packet`](Self::poll_packet), relays to
    /// [`poll_transmit`](Self::poll_transmit); anything the protocol forbids is
    /// logged and dropped. Messages from unknown peers are ignored.
    pub fn handle_message(&mut self, from: i32, message: Bytes) {
        if !self.peers.contains(&from) {
            return;
        }
        let result = match self.protocol {
            Protocol::Godot4 => self.message_godot4(from, message),
            Protocol::Godot3 => self.message_godot3(from, message),
        };
        if let Err(violation) = result {
            if self.warned.insert(from) {
                violation::report(from, &violation);
            } else {
                violation::report_again(from, &violation);
            }
        }
    }

    /// Peer `id`'s connection closed (or is closing): tells the others it left
    /// and queues `PeerDisconnected(id)`. Unknown ids are ignored.
    pub fn handle_closed(&mut self, id: i32) {
        self.warned.remove(&id);
        if self.peers.remove(&id) {
            self.announce_gone(id);
            self.out.event(Event::PeerDisconnected(id));
        }
    }

    fn announce_gone(&mut self, id: i32) {
        if !self.relay {
            return;
        }
        for &peer in &self.peers {
            match self.protocol {
                Protocol::Godot4 => self.out.send(peer, gone_godot4(id)),
                Protocol::Godot3 => self.out.send(peer, gone_godot3(id)),
            }
        }
    }

    /// Sends `data` from the server to `target`: a peer id, 0 for every peer, or
    /// `-id` for every peer but `id`.
    pub fn put_packet(&mut self, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
        if target == SERVER_ID {
            return Err(PutPacketError::InvalidTarget(target));
        }
        if target > SERVER_ID && !self.peers.contains(&target) {
            return Err(PutPacketError::UnknownPeer(target));
        }
        let message = match self.protocol {
            Protocol::Godot4 => self.packet_godot4(data)?,
            Protocol::Godot3 => packet_godot3(target, data),
        };
        self.send_to_target(target, SERVER_ID, message);
        Ok(())
    }

    /// Sends `message` to `target` (a peer, or a broadcast that skips `sender`).
    fn send_to_target(&mut self, target: i32, sender: i32, message: Bytes) {
        if target > 0 {
            self.out.send(target, message);
            return;
        }
        for &peer in &self.peers {
            if super::outbox::broadcast_reaches(target, sender, peer) {
                self.out.send(peer, message.clone());
            }
        }
    }

    /// Disconnects peer `id`: its connection is closed with 1000. Without
    /// `force` the peer leaves as usual when the close is seen
    /// ([`handle_closed`](Self::handle_closed)). With `force` it is forgotten at
    /// once, without `PeerDisconnected` (as Godot); unlike Godot, the other
    /// peers are still told it left.
    pub fn disconnect_peer(&mut self, id: i32, force: bool) -> Result<(), DisconnectError> {
        if !self.peers.contains(&id) {
            return Err(DisconnectError::UnknownPeer(id));
        }
        self.out.close(id);
        if force {
            self.peers.remove(&id);
            self.warned.remove(&id);
            self.announce_gone(id);
        }
        Ok(())
    }

    /// Godot's `close()`: every connection is closed and forgotten, without
    /// events. The server can serve again afterwards.
    pub fn close(&mut self) {
        self.out.clear();
        self.warned.clear();
        for id in std::mem::take(&mut self.peers) {
            self.out.close(id);
        }
    }

    /// Hands a packet that reached the server to the application.
    fn deliver(&mut self, from: i32, packet: Bytes) {
        self.out.packet(from, packet);
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.poll_transmit()
    }

    /// The next connection to close (code 1000).
    #[must_use]
    pub fn poll_close(&mut self) -> Option<i32> {
        self.out.poll_close()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    /// The next packet for the application.
    #[must_use]
    pub fn poll_packet(&mut self) -> Option<Packet> {
        self.out.poll_packet()
    }
}

fn gone_godot4(id: i32) -> Bytes {
    Bytes::copy_from_slice(&super::godot4::encode_del_peer(id))
}

fn gone_godot3(id: i32) -> Bytes {
    Bytes::copy_from_slice(&super::godot3::encode_sys(
        super::godot3::MessageType::DelPeer,
        id,
    ))
}

fn packet_godot3(target: i32, data: &[u8]) -> Bytes {
    use super::godot3::{Header, MessageType, encode};
    encode(
        Header {
            kind: MessageType::Payload,
            from: SERVER_ID,
            to: target,
        },
        data,
    )
}

/// Used by the protocol files to report what they drop.
type Checked = Result<(), Violation>;
