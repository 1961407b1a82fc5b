//! The server half of [`MultiplayerPeer`](crate::MultiplayerPeer): a
//! `TcpServer`, the connections in their handshakes, the open ones by id, and
//! the state machine deciding what goes where.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use wspeer::{AcceptedStream, Message, ReadyState, TcpServer, TlsOptions, WebSocketPeer};

use crate::{
    config::MultiplayerConfig,
    error::CreateError,
    event::{Event, Packet},
    flush::{self, Link},
    proto::Server,
    protocol::Protocol,
};

/// A listening multiplayer server, polled from the game loop.
#[derive(Debug)]
pub(super) struct ServerSide {
    tcp: TcpServer,
    tls: Option<TlsOptions>,
    pub(super) machine: Server,
    /// Connections still in their TCP/TLS/WebSocket handshakes.
    pending: Vec<WebSocketPeer>,
    /// Open connections, by peer id.
    peers: BTreeMap<i32, WebSocketPeer>,
    /// Connections that left during the last poll, kept readable until the next.
    gone: BTreeMap<i32, WebSocketPeer>,
}

impl ServerSide {
    /// Listens on `bind_address:port`.
    pub(super) fn start(
        protocol: Protocol,
        config: &MultiplayerConfig,
        port: u16,
        bind_address: &str,
        tls: Option<TlsOptions>,
    ) -> Result<Self, CreateError> {
        if tls.as_ref().is_some_and(|tls| !tls.is_server()) {
            return Err(wspeer::TlsConfigError::WrongSide(
                "a multiplayer server needs server TLS options",
            )
            .into());
        }
        config
            .connection()
            .validate()
            .map_err(|e| CreateError::Connect(wspeer_core::ConnectError::from(e).into()))?;
        let mut tcp = TcpServer::new();
        let connection = config.connection();
        tcp.set_handshake_limits(
            connection.max_pending_handshakes,
            connection.max_pending_handshakes_per_ip,
        );
        tcp.listen(port, bind_address)?;
        let mut machine = Server::new(protocol);
        machine.set_server_relay(config.server_relay);
        machine.set_godot4_payload(config.godot4_payload);
        Ok(Self {
            tcp,
            tls,
            machine,
            pending: Vec::new(),
            peers: BTreeMap::new(),
            gone: BTreeMap::new(),
        })
    }

    /// The port listened on.
    pub(super) fn local_port(&self) -> u16 {
        self.tcp.local_port()
    }

    /// One frame of work: new connections, finished handshakes, messages and
    /// closes, then everything the state machine decided.
    pub(super) fn poll(&mut self, config: &MultiplayerConfig) {
        self.gone.clear();
        self.accept(config);
        self.poll_pending();
        let mut closed = Vec::new();
        for (&id, ws) in &mut self.peers {
            ws.poll();
            // Messages that arrived before a close are still handled (Godot
            // drops them).
            while let Ok(message) = ws.get_packet() {
                self.machine.handle_message(id, message);
            }
            if ws.ready_state() != ReadyState::Open {
                closed.push(id);
            }
        }
        for id in closed {
            self.machine.handle_closed(id);
            if let Some(ws) = self.peers.remove(&id) {
                self.gone.insert(id, ws);
            }
        }
        let _ = self.flush();
    }

    /// Takes the TCP connections waiting, unless refusing (then they wait in
    /// the backlog, as in Godot 4). Godot 4 takes one per poll; this takes all:
    /// the `TcpServer`'s handshake limits drop the longest-waiting ones past
    /// its caps.
    fn accept(&mut self, config: &MultiplayerConfig) {
        while !self.machine.is_refusing_new_connections() {
            let Some(stream) = self.tcp.take_connection() else {
                break;
            };
            let mut ws = WebSocketPeer::new();
            ws.set_config(config.connection());
            ws.set_handshake_headers(config.header_lines());
            let accepted = AcceptedStream::serving(stream, self.tls.as_ref())
                .map_err(|e| e.to_string())
                .and_then(|s| ws.accept_stream(s).map_err(|e| e.to_string()));
            match accepted {
                Ok(()) => self.pending.push(ws),
                Err(error) => tracing::warn!(%error, "cannot accept a multiplayer client"),
            }
        }
    }

    /// Connections whose handshake finished get their id; failed ones are
    /// dropped without an event, as in Godot.
    fn poll_pending(&mut self) {
        let mut opened = Vec::new();
        self.pending.retain_mut(|ws| {
            ws.poll();
            match ws.ready_state() {
                ReadyState::Connecting => true,
                ReadyState::Open => {
                    opened.push(std::mem::take(ws));
                    false
                }
                ReadyState::Closing | ReadyState::Closed => false,
            }
        });
        for mut ws in opened {
            match self.machine.handle_open() {
                Ok(id) => {
                    self.peers.insert(id, ws);
                }
                // Refusing now: dropped, as Godot drops it.
                Err(_) => ws.close_normal(),
            }
        }
    }

    /// Sends what the state machine queued and closes what it asked to close.
    /// Returns the outcome of the last send.
    pub(super) fn flush(&mut self) -> Result<(), wspeer::SendError> {
        flush::flush(&mut self.machine, &mut self.peers)
    }

    /// Moves the state machine's events and packets to the application.
    pub(super) fn drain(&mut self, events: &mut Vec<Event>, packets: &mut VecDeque<Packet>) {
        events.extend(std::iter::from_fn(|| self.machine.poll_event()));
        packets.extend(std::iter::from_fn(|| self.machine.poll_packet()));
    }

    /// The connection of peer `id` (also during the poll after it left).
    pub(super) fn peer(&mut self, id: i32) -> Option<&mut WebSocketPeer> {
        match self.peers.get_mut(&id) {
            Some(ws) => Some(ws),
            None => self.gone.get_mut(&id),
        }
    }

    /// Closes every connection and stops listening.
    pub(super) fn close(&mut self) {
        self.machine.close();
        let _ = self.flush();
        self.peers.clear();
        self.pending.clear();
        self.gone.clear();
        self.tcp.stop();
    }
}

impl Link for WebSocketPeer {
    fn send(&mut self, data: Bytes) -> Result<(), wspeer::SendError> {
        self.send_message(Message::binary(data))
    }

    fn close(&mut self) {
        self.close_normal();
    }
}
