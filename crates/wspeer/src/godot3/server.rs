//! Godot 3's `WebSocketServer`: listen, then `poll()` each frame for its events.

use std::{collections::BTreeMap, net::IpAddr, time::Duration};

use wspeer_core::{CloseError, Config, TlsOptions};

use super::{
    Buffers,
    watch::{self, Change},
};
use crate::{AcceptedStream, IdGenerator, ListenError, TcpServer, WebSocketPeer};

/// What a poll of the server saw, in order: Godot 3's signals.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `client_connected(id, protocol)`: a handshake finished.
    ClientConnected {
        /// The new client's id.
        id: i32,
        /// The subprotocol chosen; empty when none.
        protocol: String,
    },
    /// `data_received(id)`: one message arrived (once per message); take it with
    /// `peer(id)`'s `get_packet`.
    DataReceived {
        /// The client it came from.
        id: i32,
    },
    /// `client_close_request(id, code, reason)`: the client started the close.
    ClientCloseRequest {
        /// The client.
        id: i32,
        /// Its close code.
        code: i32,
        /// Its reason.
        reason: String,
    },
    /// `client_disconnected(id, was_clean_close)`: the connection is over. The
    /// peer stays readable until the next poll.
    ClientDisconnected {
        /// The client.
        id: i32,
        /// Whether a closing handshake took place, whoever started it (Godot 3
        /// reports false for a close the server started).
        was_clean: bool,
    },
}

/// Godot 3's `WebSocketServer`, with Godot 3's defaults: bind `"*"`, a 3 s
/// handshake timeout, 64 KiB and 1024 packets each way per client.
#[derive(Debug)]
pub struct WebSocketServer {
    tcp: TcpServer,
    bind_ip: String,
    protocols: Vec<String>,
    extra_headers: Vec<String>,
    handshake_timeout: Duration,
    buffers: Buffers,
    tls: Option<TlsOptions>,
    pending: Vec<WebSocketPeer>,
    peers: BTreeMap<i32, WebSocketPeer>,
    /// Peers whose disconnect was reported; dropped at the next poll.
    gone: Vec<i32>,
    events: Vec<ServerEvent>,
    ids: IdGenerator,
}

impl Default for WebSocketServer {
    fn default() -> Self {
        Self {
            tcp: TcpServer::new(),
            bind_ip: "*".to_owned(),
            protocols: Vec::new(),
            extra_headers: Vec::new(),
            handshake_timeout: Duration::from_secs(3),
            buffers: Buffers::default(),
            tls: None,
            pending: Vec::new(),
            peers: BTreeMap::new(),
            gone: Vec::new(),
            events: Vec::new(),
            ids: IdGenerator::random(),
        }
    }
}

impl WebSocketServer {
    /// A server that is not listening yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts listening on `port` (0 picks one; see [`local_port`](Self::local_port))
    /// at the bind address, accepting clients that offer one of `protocols`
    /// (none: clients that offer none).
    pub fn listen(&mut self, port: u16, protocols: &[&str]) -> Result<(), ListenError> {
        self.tcp.listen(port, &self.bind_ip)?;
        self.protocols = protocols.iter().map(|p| p.trim().to_owned()).collect();
        Ok(())
    }

    /// The caps on unfinished handshakes, in all and from one address (see
    /// [`TcpServer::set_handshake_limits`]; defaults 4096 and 256). Godot 3 has
    /// none.
    pub fn set_handshake_limits(&mut self, max_pending: usize, max_pending_per_ip: usize) {
        self.tcp
            .set_handshake_limits(max_pending, max_pending_per_ip);
    }

    /// Godot 3's `bind_ip` (default `"*"`); refused while listening.
    pub fn set_bind_ip(&mut self, ip: &str) -> Result<(), ListenError> {
        if self.tcp.is_listening() {
            return Err(ListenError::AlreadyListening);
        }
        self.bind_ip = ip.to_owned();
        Ok(())
    }

    /// Serves `wss://` with these server options (Godot 3: `private_key` and
    /// `ssl_certificate`); `None` for plain `ws://`.
    pub fn set_tls(&mut self, tls: Option<TlsOptions>) {
        self.tls = tls;
    }

    /// Extra headers for the 101 response, as `"Name: value"` lines.
    pub fn set_extra_headers(&mut self, headers: &[&str]) {
        self.extra_headers = headers.iter().map(|h| (*h).to_owned()).collect();
    }

    /// Time a client has for its handshake (default 3 s, Godot 3.5's).
    pub fn set_handshake_timeout(&mut self, timeout: Duration) {
        self.handshake_timeout = timeout;
    }

    /// The handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Godot 3's `set_buffers`; refused while listening, as in Godot.
    pub fn set_buffers(&mut self, buffers: Buffers) -> Result<(), ListenError> {
        if self.tcp.is_listening() {
            return Err(ListenError::AlreadyListening);
        }
        self.buffers = buffers;
        Ok(())
    }

    /// Whether the server is listening.
    pub fn is_listening(&self) -> bool {
        self.tcp.is_listening()
    }

    /// The port listened on; 0 when not listening.
    pub fn local_port(&self) -> u16 {
        self.tcp.local_port()
    }

    /// Stops listening and drops every client without events, as Godot 3 does
    /// (each gets a best-effort close 1001 from its connection task).
    pub fn stop(&mut self) {
        self.tcp.stop();
        self.pending.clear();
        self.peers.clear();
        self.gone.clear();
        self.events.clear();
    }

    /// Does this frame's work and returns what happened, in Godot 3's order:
    /// connected clients first, then finished handshakes, then new connections.
    pub fn poll(&mut self) -> std::vec::Drain<'_, ServerEvent> {
        for id in self.gone.drain(..) {
            self.peers.remove(&id);
        }
        self.events.clear();
        let events = &mut self.events;
        for (&id, peer) in &mut self.peers {
            watch::poll(peer, |change| match change {
                Change::Data => events.push(ServerEvent::DataReceived { id }),
                Change::CloseRequest { code, reason } => {
                    events.push(ServerEvent::ClientCloseRequest { id, code, reason });
                }
                Change::Closed { was_clean, .. } => {
                    events.push(ServerEvent::ClientDisconnected { id, was_clean });
                    self.gone.push(id);
                }
                Change::Opened => {}
            });
        }
        self.poll_pending();
        self.accept_new();
        self.events.drain(..)
    }

    fn poll_pending(&mut self) {
        let mut opened = Vec::new();
        self.pending.retain_mut(|peer| {
            let mut keep = true;
            watch::poll(peer, |change| match change {
                Change::Opened => keep = false,
                // A failed handshake is dropped without an event, as in Godot.
                Change::Closed { .. } => keep = false,
                _ => {}
            });
            if !keep && peer.ready_state() != wspeer_core::ReadyState::Closed {
                opened.push(std::mem::take(peer));
            }
            keep
        });
        for peer in opened {
            let id = self.ids.next_unused(|id| self.peers.contains_key(&id));
            self.events.push(ServerEvent::ClientConnected {
                id,
                protocol: peer.selected_protocol().to_owned(),
            });
            // Data that came with the handshake is announced after the connect.
            for _ in 0..peer.available_packet_count() {
                self.events.push(ServerEvent::DataReceived { id });
            }
            self.peers.insert(id, peer);
        }
    }

    fn accept_new(&mut self) {
        while let Some(stream) = self.tcp.take_connection() {
            let mut peer = WebSocketPeer::new();
            let mut config = self
                .buffers
                .apply(Config::default())
                .handshake_timeout(self.handshake_timeout);
            config.supported_protocols = self.protocols.clone();
            peer.set_config(config);
            peer.set_handshake_headers(self.extra_headers.iter());
            let accepted = AcceptedStream::serving(stream, self.tls.as_ref())
                .map_err(|e| e.to_string())
                .and_then(|s| peer.accept_stream(s).map_err(|e| e.to_string()));
            match accepted {
                Ok(()) => self.pending.push(peer),
                Err(error) => tracing::warn!(%error, "cannot accept a client"),
            }
        }
    }

    /// The connection of client `id` (Godot 3's `get_peer(id)`).
    pub fn peer(&mut self, id: i32) -> Option<&mut WebSocketPeer> {
        self.peers.get_mut(&id)
    }

    /// Whether client `id` is connected (or disconnected during the last poll).
    pub fn has_peer(&self, id: i32) -> bool {
        self.peers.contains_key(&id)
    }

    /// The ids of the clients, in ascending order.
    pub fn peer_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.peers.keys().copied()
    }

    /// The remote IP address of client `id`.
    pub fn peer_address(&self, id: i32) -> Option<IpAddr> {
        self.peers.get(&id).and_then(WebSocketPeer::connected_host)
    }

    /// The remote port of client `id`; 0 if there is no such client.
    pub fn peer_port(&self, id: i32) -> u16 {
        self.peers.get(&id).map_or(0, WebSocketPeer::connected_port)
    }

    /// Starts closing client `id` (Godot 3's `disconnect_peer(id, code, reason)`);
    /// its `ClientDisconnected` comes in a later poll. Unknown ids are ignored.
    pub fn disconnect_peer(&mut self, id: i32, code: i32, reason: &str) -> Result<(), CloseError> {
        match self.peers.get_mut(&id) {
            Some(peer) => peer.close(code, reason),
            None => Ok(()),
        }
    }
}
