//! What an application can observe about a connection: its ready state, how it
//! closed, and where it goes.

use std::net::SocketAddr;

use crate::deflate::DeflateParams;

/// Godot's `WebSocketPeer.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// TCP, TLS or the WebSocket handshake is under way.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// A close frame was sent or received; the closing handshake is under way.
    Closing,
    /// The connection is over. Messages received before the close may still be
    /// waiting to be read.
    Closed,
}

/// The close code value Godot reports when a connection ended without a valid
/// closing handshake.
pub const UNCLEAN_CLOSE_CODE: i32 = -1;

/// How a connection ended, as Godot reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseStatus {
    /// The code of the close frame the peer sent, the code we sent when we failed
    /// the connection for a protocol or size violation, `1005` when the peer's
    /// close frame had no code, or `-1` when there was no clean close.
    pub code: i32,
    /// The reason that came with the code; empty when there was none.
    pub reason: String,
}

impl CloseStatus {
    /// A connection that ended without a closing handshake.
    pub fn unclean() -> Self {
        Self {
            code: UNCLEAN_CLOSE_CODE,
            reason: String::new(),
        }
    }

    /// Whether the closing handshake happened (Godot: `code != -1`).
    pub fn was_clean(&self) -> bool {
        self.code != UNCLEAN_CLOSE_CODE
    }
}

/// Facts about an open connection that do not change while it lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The remote address of the TCP connection.
    pub peer_addr: Option<SocketAddr>,
    /// The local address of the TCP connection.
    pub local_addr: Option<SocketAddr>,
    /// Client: the URL given to connect. Server: `ws://` + `Host` header + request
    /// target, as Godot builds it.
    pub requested_url: String,
    /// The negotiated subprotocol; empty when none.
    pub selected_protocol: String,
    /// Server: the note the application's `HttpService::admit` gave this
    /// connection ([`Admission::with_note`](crate::Admission::with_note)).
    pub admitted: Option<String>,
    /// The permessage-deflate parameters agreed in the handshake, when
    /// [`Config::permessage_deflate`](crate::Config::permessage_deflate) is
    /// set and both ends wanted it.
    pub compression: Option<DeflateParams>,
}
