//! What the two ends agreed, and what it means for each direction.

use crate::error::Side;

/// The permessage-deflate parameters a connection agreed on (RFC 7692 §7),
/// as they were written in the server's response, with the defaults filled in
/// (window bits are 15 when the response named none). Readable on the
/// connection as `info.compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateParams {
    /// The server starts every message it sends with an empty context.
    pub server_no_context_takeover: bool,
    /// The client starts every message it sends with an empty context.
    pub client_no_context_takeover: bool,
    /// Largest window the server compresses with, 8..=15.
    pub server_max_window_bits: u8,
    /// Largest window the client compresses with, 8..=15.
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// One direction of a connection: how the sender of it compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Direction {
    /// The sender keeps its context across messages.
    pub(crate) context_takeover: bool,
    /// The sender's largest window, 8..=15.
    pub(crate) window_bits: u8,
}

impl DeflateParams {
    /// How the endpoint on `side` compresses.
    fn sent_by(&self, side: Side) -> Direction {
        match side {
            Side::Server => Direction {
                context_takeover: !self.server_no_context_takeover,
                window_bits: self.server_max_window_bits,
            },
            Side::Client => Direction {
                context_takeover: !self.client_no_context_takeover,
                window_bits: self.client_max_window_bits,
            },
        }
    }

    /// How we compress, when we are on `side`.
    pub(crate) fn ours(&self, side: Side) -> Direction {
        self.sent_by(side)
    }

    /// How the peer compresses, when we are on `side`.
    pub(crate) fn theirs(&self, side: Side) -> Direction {
        self.sent_by(match side {
            Side::Server => Side::Client,
            Side::Client => Side::Server,
        })
    }
}
