//! The chat server's settings, with defaults that keep Godot's demo clients'
//! view exactly as in the demo.

use std::time::Duration;

use wspeer_core::{DeflateConfig, TlsOptions};

use crate::{api::ApiToken, auth::Auth, backend::Backend};

/// The subprotocol of Godot's `websocket_chat` demo; clients must offer it.
pub const PROTOCOL: &str = "demo-chat";

/// The room every client starts in.
pub const DEFAULT_ROOM: &str = "lobby";

/// Close code for a client whose send queue filled up: it reads too slowly.
pub const CLOSE_TOO_SLOW: i32 = 4000;

/// Close code for a client over its message rate (policy violation).
pub const CLOSE_RATE_LIMITED: i32 = 1008;

/// Close code for a client that sends binary messages: the chat is text only.
pub const CLOSE_TEXT_ONLY: i32 = 1003;

/// Close code for a client a moderator kicked; the reason names the moderator.
pub const CLOSE_KICKED: i32 = 4001;

/// Longest mute a moderator may give, in minutes (a day).
pub const MAX_MUTE_MINUTES: u64 = 24 * 60;

/// Settings of one chat server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChatConfig {
    /// Most clients at once; one more gets HTTP 503 before upgrading. Default 10,000.
    pub max_connections: usize,
    /// Largest message a client may send, in bytes; a bigger one closes its
    /// connection with 1009. Default 4096.
    pub max_message_size: usize,
    /// Messages of a room replayed to whoever joins it. Default 0, as in the demo.
    pub history: usize,
    /// Messages per second a client may send, on average. Default 10.
    pub rate_per_second: f64,
    /// Messages a client may send in a burst. Default 20.
    pub rate_burst: f64,
    /// Messages waiting for one client before it counts as too slow and is
    /// closed with [`CLOSE_TOO_SLOW`]. Default 256.
    pub send_queue: usize,
    /// Serve `wss://` with these options. Default none.
    pub tls: Option<TlsOptions>,
    /// Time clients get to close when the server shuts down. Default 5 s.
    pub shutdown_grace: Duration,
    /// Alone in memory, or in a cluster through Redis. Default [`Backend::Local`].
    pub backend: Backend,
    /// Web origins (`scheme://host[:port]`) besides the server's own whose pages
    /// may open a WebSocket here; a browser upgrade from any other origin gets
    /// 403. Requests without `Origin` (Godot, programs) always pass. Default
    /// none: only the chat's own page.
    pub allowed_origins: Vec<String>,
    /// Most unfinished handshakes at once; past it the one that has waited
    /// longest is dropped. Default: the core's (`Config::max_pending_handshakes`).
    pub max_pending_handshakes: usize,
    /// Most unfinished handshakes from one address; past it that address's
    /// longest-waiting one is dropped. Default: the core's
    /// (`Config::max_pending_handshakes_per_ip`).
    pub max_pending_handshakes_per_ip: usize,
    /// Verified identities: clients may give a token signed with this key
    /// (`?token=…`); a bad one gets HTTP 401. Names then come from tokens only:
    /// `/nick` is refused and clients without a token are shown by their id.
    /// Default none: open, as the demo.
    pub auth: Option<Auth>,
    /// The bearer token of the HTTP API ([`crate::api`]). Default none: the
    /// API is off.
    pub api_token: Option<ApiToken>,
    /// permessage-deflate with clients that offer it (every browser does;
    /// Godot does not, and sees no change). Default on, without context
    /// takeover, so an idle connection holds no compressor; `None`: off.
    pub compression: Option<DeflateConfig>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_message_size: 4096,
            history: 0,
            rate_per_second: 10.0,
            rate_burst: 20.0,
            send_queue: 256,
            tls: None,
            shutdown_grace: Duration::from_secs(5),
            backend: Backend::Local,
            allowed_origins: Vec::new(),
            max_pending_handshakes: wspeer_core::Config::default().max_pending_handshakes,
            max_pending_handshakes_per_ip: wspeer_core::Config::default()
                .max_pending_handshakes_per_ip,
            auth: None,
            api_token: None,
            compression: Some(DeflateConfig::default()),
        }
    }
}
