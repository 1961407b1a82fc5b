//! wspeer's own WebSocket frame codec (RFC 6455 §5), used on the data path of
//! every open connection in place of tungstenite's.
//!
//! Why our own: tungstenite zero-fills an 8 KiB read buffer per connection
//! (resident for the connection's whole life), copies every outgoing payload
//! into its write buffer, and needs a second scanner in front of it for
//! fail-fast UTF-8. Here a connection owns no buffer while idle: reads land in a
//! buffer shared by all connections of a thread ([`scratch`]), a frame that is
//! only partly there keeps just its own bytes, and large payloads are written
//! with `writev` straight from the application's `Bytes`.
//!
//! - [`header`]: parsing and encoding frame headers;
//! - [`mask`]: the XOR mask;
//! - [`utf8`]: UTF-8 checking of text that arrives in pieces;
//! - [`decoder`]: bytes in, messages and control frames out, every rule checked;
//! - [`writer`]: frames out, batched, with what the socket did not take kept in
//!   order for the next write.

pub(crate) mod decoder;
pub(crate) mod header;
pub(crate) mod mask;
pub(crate) mod scratch;
pub(crate) mod utf8;
pub(crate) mod writer;

use bytes::Bytes;

use crate::{deflate::DeflateParams, error::Side};

/// Which end of the connection we are: it decides which way frames are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// We accepted the connection: frames in are masked, frames out are not.
    Server,
    /// We opened the connection: frames out are masked, frames in are not.
    Client,
}

impl Role {
    /// The same end, as the public API names it.
    pub(crate) fn side(self) -> Side {
        match self {
            Role::Server => Side::Server,
            Role::Client => Side::Client,
        }
    }
}

/// A stream whose opening handshake is done, with the frame bytes that arrived
/// together with the end of the handshake.
#[derive(Debug)]
pub(crate) struct Upgraded<S> {
    pub(crate) stream: S,
    pub(crate) early: Bytes,
    pub(crate) role: Role,
    /// permessage-deflate, when the handshake agreed on it.
    pub(crate) compression: Option<DeflateParams>,
}

/// How the peer broke the protocol, and the close code that tells it so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Violation {
    /// Bad framing: reserved bits or opcodes, wrong masking, a bad control frame
    /// or close payload, a continuation out of place (1002).
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// A text message or close reason is not UTF-8 (1007).
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// A message has more fragments than allowed (1008).
    #[error("a message has more than the allowed number of fragments")]
    TooManyFragments,
    /// A compressed message is not a valid deflate stream (1007: its data is
    /// not consistent with a compressed message).
    #[error("invalid compressed data")]
    BadCompressedData,
    /// A message is larger than `inbound_buffer_size` (1009).
    #[error("a message is larger than the inbound buffer")]
    TooBig,
}

impl Violation {
    /// The close code and reason we send for this violation.
    pub(crate) fn close(self) -> (u16, &'static str) {
        match self {
            Violation::Protocol(_) => (1002, "Protocol error"),
            Violation::InvalidUtf8 => (1007, "Invalid frame payload data"),
            Violation::BadCompressedData => (1007, "Invalid compressed data"),
            Violation::TooManyFragments => (1008, "Too many fragments"),
            Violation::TooBig => (1009, "Message too big"),
        }
    }
}

/// RFC 6455 §7.4: the close codes an endpoint may put in a close frame. The
/// same set is accepted from the peer; anything else is a protocol error.
pub(crate) fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
