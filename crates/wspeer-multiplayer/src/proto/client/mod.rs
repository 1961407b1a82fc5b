//! The client's state machine, for both protocols: waiting for the id, the
//! peers the server announces, what goes out for `put_packet`, and the
//! handshake timeout, on a clock the driver passes in.

mod godot3;
mod godot4;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::outbox::{Outbox, Transmit};
use crate::{
    error::{DisconnectError, PutPacketError},
    event::{ConnectionStatus, Event, Packet},
    ids::SERVER_ID,
    protocol::{Godot4Payload, Protocol},
    violation::{self, Violation},
};

/// Godot's default `handshake_timeout`: 3 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// A multiplayer client as a state machine: Godot 4's `WebSocketMultiplayerPeer`
/// client with `SceneMultiplayer`'s relay, or Godot 3's `WebSocketClient` in
/// multiplayer mode.
///
/// It starts [`ConnectionStatus::Connecting`] when the driver starts the
/// WebSocket connection, and must be connected (have its id) within the
/// handshake timeout, which covers the TCP, TLS and WebSocket handshakes and
/// the wait for the id.
///
/// Call order, for a driver that owns the connection:
/// 1. [`handle_message`] for every message received, in order;
/// 2. [`handle_closed`] once the connection is no longer open (or failed);
/// 3. [`handle_timeout`] when [`poll_timeout`] is due (calling it earlier is
///    harmless);
/// 4. the application: [`put_packet`], [`disconnect`], [`close`];
/// 5. then drain [`poll_transmit`] (send each to the server, binary),
///    [`poll_close`] (close the connection with 1000), [`poll_event`] and
///    [`poll_packet`].
///
/// [`handle_message`]: Self::handle_message
/// [`handle_closed`]: Self::handle_closed
/// [`handle_timeout`]: Self::handle_timeout
/// [`poll_timeout`]: Self::poll_timeout
/// [`put_packet`]: Self::put_packet
/// [`disconnect`]: Self::disconnect
/// [`close`]: Self::close
/// [`poll_transmit`]: Self::poll_transmit
/// [`poll_close`]: Self::poll_close
/// [`poll_event`]: Self::poll_event
/// [`poll_packet`]: Self::poll_packet
#[derive(Debug)]
pub struct Client {
    protocol: Protocol,
    payload: Godot4Payload,
    relay: bool,
    status: ConnectionStatus,
    unique_id: i32,
    deadline: Instant,
    /// Other peers the server announced (never 1 nor ourselves).
    peers: BTreeSet<i32>,
    out: Outbox,
}

impl Client {
    /// A client whose connection started at `now`, with Godot's defaults: 3 s
    /// handshake timeout, relay on.
    pub fn new(protocol: Protocol, now: Instant) -> Self {
        Self {
            protocol,
            payload: Godot4Payload::default(),
            relay: true,
            status: ConnectionStatus::Connecting,
            unique_id: 0,
            deadline: now + DEFAULT_HANDSHAKE_TIMEOUT,
            peers: BTreeSet::new(),
            out: Outbox::default(),
        }
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Sets the handshake timeout, counted from `started` (when the connection
    /// started).
    pub fn set_handshake_timeout(&mut self, started: Instant, timeout: Duration) {
        self.deadline = started + timeout;
    }

    /// Godot 4's `server_relay` on the client (default on): whether the server's
    /// peer announcements and relays are accepted and packets to other clients
    /// are relayed. Godot 3 clients always accept them.
    pub fn set_server_relay(&mut self, enabled: bool) {
        self.relay = enabled;
    }

    /// What Godot 4 payloads are (default [`Godot4Payload::SendBytes`]).
    pub fn set_godot4_payload(&mut self, payload: Godot4Payload) {
        self.payload = payload;
    }

    /// Connecting, connected, or disconnected.
    pub fn status(&self) -> ConnectionStatus {
        self.status
    }

    /// The id the server gave; 0 until then.
    pub fn unique_id(&self) -> i32 {
        self.unique_id
    }

    /// The peers reachable now: the server (1) once connected, and every client
    /// it announced, in ascending order.
    pub fn peer_ids(&self) -> impl Iterator<Item = i32> + '_ {
        let server = (self.status == ConnectionStatus::Connected).then_some(SERVER_ID);
        server.into_iter().chain(self.peers.iter().copied())
    }

    /// A message arrived from the server.
    pub fn handle_message(&mut self, message: Bytes, now: Instant) {
        // Nothing here depends on the time yet; `now` keeps every input alike.
        let _ = now;
        if self.status == ConnectionStatus::Disconnected {
            return;
        }
        let result = match self.protocol {
            Protocol::Godot4 => self.message_godot4(message),
            Protocol::Godot3 => self.message_godot3(message),
        };
        if let Err(violation) = result {
            violation::report(SERVER_ID, &violation);
        }
    }

    /// The connection is no longer open. While connecting this is
    /// `ConnectionFailed`; once connected, `PeerDisconnected(1)` then
    /// `ServerDisconnected`.
    pub fn handle_closed(&mut self, now: Instant) {
        // As in `handle_message`.
        let _ = now;
        match self.status {
            ConnectionStatus::Connecting => self.fail(),
            ConnectionStatus::Connected => {
                self.status = ConnectionStatus::Disconnected;
                self.peers.clear();
                self.out.event(Event::PeerDisconnected(SERVER_ID));
                self.out.event(Event::ServerDisconnected);
            }
            ConnectionStatus::Disconnected => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due: the end of the
    /// handshake timeout while connecting, otherwise never.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.status == ConnectionStatus::Connecting).then_some(self.deadline)
    }

    /// Fails the connection if it is still connecting at its deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.status == ConnectionStatus::Connecting && now >= self.deadline {
            tracing::debug!("no id from the server within the handshake timeout");
            self.fail();
        }
    }

    /// Gives up connecting: the connection is closed, `ConnectionFailed`.
    fn fail(&mut self) {
        self.status = ConnectionStatus::Disconnected;
        self.unique_id = 0;
        self.peers.clear();
        self.out.close(SERVER_ID);
        self.out.event(Event::ConnectionFailed);
    }

    /// The server broke the protocol while we were connecting: log, then fail.
    fn fail_with(&mut self, violation: &Violation) {
        violation::report(SERVER_ID, violation);
        self.fail();
    }

    /// Sends `data` to `target` (1 the server, another client's id, 0 everyone,
    /// `-id` everyone but `id`), through the server.
    pub fn put_packet(&mut self, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
        if self.status != ConnectionStatus::Connected {
            return Err(PutPacketError::NotConnected);
        }
        match self.protocol {
            Protocol::Godot4 => self.put_godot4(target, data),
            Protocol::Godot3 => {
                self.put_godot3(target, data);
                Ok(())
            }
        }
    }

    /// Godot's `disconnect_peer(1, force)` on a client. Without `force` the
    /// connection closes and the usual `PeerDisconnected(1)` and
    /// `ServerDisconnected` follow once it has; with `force` the client is
    /// disconnected at once, without events.
    pub fn disconnect(&mut self, force: bool) -> Result<(), DisconnectError> {
        if self.status == ConnectionStatus::Disconnected {
            return Err(DisconnectError::UnknownPeer(SERVER_ID));
        }
        self.out.close(SERVER_ID);
        if force {
            self.close_silently();
        }
        Ok(())
    }

    /// Godot's `close()`: disconnected at once, without events.
    pub fn close(&mut self) {
        if self.status != ConnectionStatus::Disconnected {
            self.out.clear();
            self.out.close(SERVER_ID);
        }
        self.close_silently();
    }

    fn close_silently(&mut self) {
        self.status = ConnectionStatus::Disconnected;
        self.peers.clear();
    }

    /// Announces peer `id` (relayed through the server).
    fn add_peer(&mut self, id: i32) -> Result<(), Violation> {
        if id < 2 || id == self.unique_id {
            return Err(Violation::InvalidId { id });
        }
        if self.peers.insert(id) {
            self.out.event(Event::PeerConnected(id));
        }
        Ok(())
    }

    /// Peer `id` left.
    fn del_peer(&mut self, id: i32) {
        if self.peers.remove(&id) {
            self.out.event(Event::PeerDisconnected(id));
        }
    }

    /// Now connected, with `id`.
    fn connected(&mut self) {
        self.status = ConnectionStatus::Connected;
    }

    /// The next message to send to the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.poll_transmit()
    }

    /// Whether the connection must be closed now (always peer 1).
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
