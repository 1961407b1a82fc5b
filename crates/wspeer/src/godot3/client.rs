//! Godot 3's `WebSocketClient`: connect, then `poll()` each frame for its events.

use std::net::IpAddr;

use wspeer_core::{CloseError, Config, TlsOptions};

use super::{
    Buffers,
    watch::{self, Change},
};
use crate::{PeerError, WebSocketPeer};

/// What a poll of the client saw, in order: Godot 3's signals.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// `connection_established(protocol)`.
    ConnectionEstablished {
        /// The subprotocol the server chose; empty when none.
        protocol: String,
    },
    /// `data_received`: one message arrived (once per message); take it with
    /// `peer().get_packet()`.
    DataReceived,
    /// `server_close_request(code, reason)`: the server started the close.
    ServerCloseRequest {
        /// Its close code.
        code: i32,
        /// Its reason.
        reason: String,
    },
    /// `connection_closed(was_clean_close)`.
    ConnectionClosed {
        /// Whether a closing handshake took place, whoever started it (Godot 3
        /// reports false for a close the client started).
        was_clean: bool,
    },
    /// `connection_error`: the connection could not be made; `peer().connect_error()`
    /// says why.
    ConnectionError,
}

/// Godot 3's `WebSocketClient`, with its defaults: TLS verified, 64 KiB and 1024
/// packets each way.
#[derive(Debug)]
pub struct WebSocketClient {
    peer: WebSocketPeer,
    verify_tls: bool,
    trusted_certificate: Option<Vec<u8>>,
    buffers: Buffers,
    events: Vec<ClientEvent>,
}

impl Default for WebSocketClient {
    fn default() -> Self {
        Self {
            peer: WebSocketPeer::new(),
            verify_tls: true,
            trusted_certificate: None,
            buffers: Buffers::default(),
            events: Vec::new(),
        }
    }
}

impl WebSocketClient {
    /// A client that is not connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts connecting to `url` offering `protocols` (Godot 3's
    /// `connect_to_url(url, protocols)`).
    pub fn connect_to_url(&mut self, url: &str, protocols: &[&str]) -> Result<(), PeerError> {
        self.connect_to_url_with_headers(url, protocols, &[])
    }

    /// [`connect_to_url`](Self::connect_to_url) with extra request headers, as
    /// `"Name: value"` lines (Godot 3's `custom_headers`).
    pub fn connect_to_url_with_headers(
        &mut self,
        url: &str,
        protocols: &[&str],
        headers: &[&str],
    ) -> Result<(), PeerError> {
        let mut config = self.buffers.apply(Config::default());
        config.supported_protocols = protocols.iter().map(|p| p.trim().to_owned()).collect();
        config.no_delay = self.peer.config().no_delay;
        self.peer.set_config(config);
        self.peer.set_handshake_headers(headers.iter().copied());
        self.events.clear();
        match self.tls_options()? {
            Some(tls) => self.peer.connect_to_url_with_tls(url, tls),
            None => self.peer.connect_to_url(url),
        }
    }

    /// The TLS options Godot 3's `verify_ssl` and `trusted_ssl_certificate` stand for.
    fn tls_options(&self) -> Result<Option<TlsOptions>, PeerError> {
        let cert = self.trusted_certificate.as_deref();
        let options = match (self.verify_tls, cert) {
            (true, None) => return Ok(None),
            (true, Some(cert)) => TlsOptions::client(Some(cert), None),
            (false, cert) => TlsOptions::client_unsafe(cert),
        };
        options
            .map(Some)
            .map_err(|e| PeerError::Invalid(wspeer_core::ConnectError::TlsConfig(e)))
    }

    /// Godot 3's `verify_ssl` (default true). False accepts any certificate: for
    /// development only.
    pub fn set_verify_tls(&mut self, verify: bool) {
        self.verify_tls = verify;
    }

    /// Godot 3's `trusted_ssl_certificate`: the only CA (PEM) trusted when set.
    pub fn set_trusted_certificate(&mut self, pem: Option<Vec<u8>>) {
        self.trusted_certificate = pem;
    }

    /// Godot 3's `set_buffers`, for the next connection.
    pub fn set_buffers(&mut self, buffers: Buffers) {
        self.buffers = buffers;
    }

    /// Does this frame's work and returns what happened, in order.
    pub fn poll(&mut self) -> std::vec::Drain<'_, ClientEvent> {
        self.events.clear();
        let events = &mut self.events;
        let protocol = |peer: &WebSocketPeer| peer.selected_protocol().to_owned();
        let mut opened = false;
        watch::poll(&mut self.peer, |change| match change {
            Change::Opened => opened = true,
            Change::Data => events.push(ClientEvent::DataReceived),
            Change::CloseRequest { code, reason } => {
                events.push(ClientEvent::ServerCloseRequest { code, reason });
            }
            Change::Closed { opened: false, .. } => events.push(ClientEvent::ConnectionError),
            Change::Closed { was_clean, .. } => {
                events.push(ClientEvent::ConnectionClosed { was_clean });
            }
        });
        if opened {
            // The connect comes before anything that arrived with it.
            events.insert(
                0,
                ClientEvent::ConnectionEstablished {
                    protocol: protocol(&self.peer),
                },
            );
        }
        self.events.drain(..)
    }

    /// The connection (Godot 3's `get_peer(1)`).
    pub fn peer(&mut self) -> &mut WebSocketPeer {
        &mut self.peer
    }

    /// Starts closing (Godot 3's `disconnect_from_host(code, reason)`); the
    /// `ConnectionClosed` event follows in a later poll.
    pub fn disconnect_from_host(&mut self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.peer.close(code, reason)
    }

    /// The server's IP address, once connected.
    pub fn connected_host(&self) -> Option<IpAddr> {
        self.peer.connected_host()
    }

    /// The server's port, once connected.
    pub fn connected_port(&self) -> u16 {
        self.peer.connected_port()
    }
}
