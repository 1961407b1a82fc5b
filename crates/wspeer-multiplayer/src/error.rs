//! Errors, one per operation, split by who is at fault. Each variant names the
//! Godot `Error` it stands for. What a misbehaving remote peer sends is never an
//! error here: it is dropped and logged (see [`Violation`](crate::Violation)).

use wspeer::{ListenError, PeerError, SendError, TlsConfigError};

/// Why `create_server` or `create_client` did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The peer is serving or connected already (Godot: `ERR_ALREADY_IN_USE`);
    /// call `close()` first.
    #[error("the multiplayer peer is already active; close() it first")]
    AlreadyInUse,
    /// Client TLS options given to a server or server options to a client
    /// (Godot: `ERR_INVALID_PARAMETER`).
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
    /// The server could not listen.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The client could not start connecting: a bad URL or bad settings.
    #[error(transparent)]
    Connect(#[from] PeerError),
}

/// Why `put_packet` did not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PutPacketError {
    /// Not serving, or a client without its id yet (Godot: `ERR_UNCONFIGURED`).
    #[error("the multiplayer peer is not connected")]
    NotConnected,
    /// The target is this peer itself (a server sending to 1). Godot 3 ignores
    /// it silently; Godot 4 fails with `ERR_BUG`.
    #[error("target {0} is this peer itself")]
    InvalidTarget(i32),
    /// No connected peer has this id (Godot: `ERR_INVALID_PARAMETER`, "Peer not
    /// found").
    #[error("no connected peer has id {0}")]
    UnknownPeer(i32),
    /// Godot 4 cannot carry an empty packet (`send_bytes` refuses it with
    /// `ERR_INVALID_DATA`).
    #[error("Godot 4 cannot send an empty packet")]
    EmptyPacket,
    /// The connection refused the message: its queue is full, or the message
    /// is too large for `outbound_buffer_size`.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Why `disconnect_peer` did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectError {
    /// No peer has this id (Godot: an error, nothing done).
    #[error("no connected peer has id {0}")]
    UnknownPeer(i32),
}

/// Why `handle_open` did not admit a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// `refuse_new_connections` is on: drop the connection.
    #[error("the server refuses new connections")]
    Refused,
}
