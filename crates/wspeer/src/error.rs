//! The facade's errors. Each variant names the Godot `Error` code it stands for.

use wspeer_core::ConnectError;

/// Why `connect_to_url` or `accept_stream` did not start a connection.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The peer is connecting or open (Godot: `ERR_ALREADY_IN_USE`). Close it and
    /// poll until closed first.
    #[error("the peer is already connecting or open")]
    AlreadyInUse,
    /// The URL, a setting or the stream is unusable (Godot:
    /// `ERR_INVALID_PARAMETER`), including server TLS options given to a client.
    #[error(transparent)]
    Invalid(#[from] ConnectError),
    /// A `handshake_headers` entry is not `Name: value`.
    #[error("handshake header {0:?} is not of the form \"Name: value\"")]
    InvalidHeader(String),
    /// The background runtime could not start (threads or sockets exhausted).
    #[error("the background runtime could not start: {0}")]
    Runtime(String),
    /// The accepted stream could not be handed to the runtime.
    #[error("the stream cannot be used: {0}")]
    Stream(#[source] std::sync::Arc<std::io::Error>),
}

/// Why a message was not queued (Godot's `send`, `send_text`, `put_packet`).
/// Nothing is lost: the caller still has the bytes it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The peer is not open (Godot: `FAILED`).
    #[error("the peer is not open")]
    NotOpen,
    /// `max_queued_packets` messages or `outbound_buffer_size` bytes are waiting
    /// (Godot: `ERR_OUT_OF_MEMORY`). Poll and try again later.
    #[error("the outbound queue is full")]
    Full,
    /// The message alone is larger than `outbound_buffer_size` (Godot:
    /// `ERR_OUT_OF_MEMORY`); it can never be sent with these settings.
    #[error("the message is larger than outbound_buffer_size")]
    TooLarge,
    /// Text mode was asked for bytes that are not UTF-8. Godot sends them and
    /// the peer closes with 1007; we refuse them.
    #[error("text messages must be valid UTF-8")]
    InvalidUtf8,
}

impl From<wspeer_core::SendError> for SendError {
    fn from(error: wspeer_core::SendError) -> Self {
        match error {
            wspeer_core::SendError::NotOpen(_) => SendError::NotOpen,
            wspeer_core::SendError::Full(_) => SendError::Full,
            wspeer_core::SendError::TooLarge(_) => SendError::TooLarge,
            // The core's enum is non-exhaustive; every variant it has today is
            // matched above, and a new one must be mapped here.
            _ => SendError::NotOpen,
        }
    }
}

/// Why `get_packet` returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GetPacketError {
    /// No packet is available since the last `poll()` (Godot: `ERR_UNAVAILABLE`).
    #[error("no packet is available; call poll() first")]
    Unavailable,
}

/// Why `TcpServer::listen` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// The server is already listening (Godot: `ERR_ALREADY_IN_USE`).
    #[error("the server is already listening")]
    AlreadyListening,
    /// `bind_address` is neither an IP address nor `"*"` (Godot:
    /// `ERR_INVALID_PARAMETER`).
    #[error("bind address {0:?} is neither an IP address nor \"*\"")]
    InvalidAddress(String),
    /// The socket could not be created, bound or put in listening mode. Unlike
    /// Godot, which answers `ERR_ALREADY_IN_USE` for every bind failure, this
    /// keeps the system's reason.
    #[error("cannot listen on {addr}: {source}")]
    Io {
        /// The address it tried.
        addr: std::net::SocketAddr,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}
