//! Settings of a multiplayer peer or server: Godot's `WebSocketMultiplayerPeer`
//! properties and `SceneMultiplayer.server_relay`.

use std::time::Duration;

use wspeer::Config;

use crate::{proto::DEFAULT_HANDSHAKE_TIMEOUT, protocol::Godot4Payload};

/// Settings for a [`MultiplayerPeer`](crate::MultiplayerPeer) or a
/// [`MultiplayerServer`](crate::MultiplayerServer). Every default is Godot's and
/// is documented on its field; they apply when the peer is created.
///
/// ```
/// use std::time::Duration;
/// use wspeer_multiplayer::MultiplayerConfig;
///
/// let config = MultiplayerConfig::default()
///     .supported_protocols(["ludus"])
///     .handshake_timeout(Duration::from_secs(5));
/// assert!(config.server_relay);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultiplayerConfig {
    /// The settings of every WebSocket connection: buffer sizes, subprotocols,
    /// handshake headers, TLS, heartbeat (Godot copies `supported_protocols`,
    /// `handshake_headers`, `inbound_buffer_size`, `outbound_buffer_size` and
    /// `max_queued_packets` into each peer it creates). Its own
    /// `handshake_timeout` is replaced by [`handshake_timeout`](Self::handshake_timeout).
    /// Default: `wspeer::Config::default()`.
    pub websocket: Config,
    /// Time a connection has for its TCP, TLS and WebSocket handshakes and, on a
    /// client, to receive its id. Default: 3 s (Godot's).
    pub handshake_timeout: Duration,
    /// `SceneMultiplayer.server_relay`: a server announces clients to each other
    /// and relays between them; a client accepts those. Default: on.
    pub server_relay: bool,
    /// What Godot 4 payloads are. Default: [`Godot4Payload::SendBytes`].
    pub godot4_payload: Godot4Payload,
}

impl Default for MultiplayerConfig {
    fn default() -> Self {
        Self {
            websocket: Config::default(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            server_relay: true,
            godot4_payload: Godot4Payload::default(),
        }
    }
}

impl MultiplayerConfig {
    /// Sets [`MultiplayerConfig::websocket`].
    #[must_use]
    pub fn websocket(mut self, config: Config) -> Self {
        self.websocket = config;
        self
    }

    /// Sets the subprotocols of [`MultiplayerConfig::websocket`] (Godot's
    /// `supported_protocols`; Godot's demos use `"ludus"`).
    #[must_use]
    pub fn supported_protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.websocket = self.websocket.supported_protocols(protocols);
        self
    }

    /// Sets [`MultiplayerConfig::handshake_timeout`].
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`MultiplayerConfig::server_relay`].
    #[must_use]
    pub fn server_relay(mut self, enabled: bool) -> Self {
        self.server_relay = enabled;
        self
    }

    /// Sets [`MultiplayerConfig::godot4_payload`].
    #[must_use]
    pub fn godot4_payload(mut self, payload: Godot4Payload) -> Self {
        self.godot4_payload = payload;
        self
    }

    /// The WebSocket settings one connection uses.
    pub(crate) fn connection(&self) -> Config {
        self.websocket
            .clone()
            .handshake_timeout(self.handshake_timeout)
    }

    /// The handshake headers as Godot's `"Name: value"` lines, for
    /// `WebSocketPeer::set_handshake_headers` (which replaces the config's).
    pub(crate) fn header_lines(&self) -> Vec<String> {
        self.websocket
            .handshake_headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .collect()
    }
}
