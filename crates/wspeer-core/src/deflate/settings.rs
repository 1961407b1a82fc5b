//! What an endpoint is willing to negotiate and how it compresses.

/// The threshold under which messages go uncompressed, in bytes (see
/// [`DeflateConfig::threshold`]; chosen by measurement, `docs/benchmarks.md`).
pub const DEFAULT_THRESHOLD: usize = 128;

/// permessage-deflate (RFC 7692) settings, for [`Config::permessage_deflate`].
///
/// "Send" is what we compress, "receive" what the peer compresses; each maps
/// to the `server_*` or `client_*` parameter by role. The defaults keep an
/// idle connection as cheap as an uncompressed one: no context takeover in
/// either direction, so no compressor or decompressor is held per
/// connection (they are shared by the connections of a thread and reset for
/// every message).
///
/// ```
/// use wspeer_core::{Config, DeflateConfig};
///
/// let config = Config::default().permessage_deflate(DeflateConfig::default());
/// assert!(config.validate().is_ok());
/// // Better ratio on repetitive traffic, at a per-connection cost:
/// let takeover = DeflateConfig::default().send_context_takeover(true).send_window_bits(12);
/// assert!(Config::default().permessage_deflate(takeover).validate().is_ok());
/// ```
///
/// [`Config::permessage_deflate`]: crate::Config::permessage_deflate
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Keep the compression context between the messages we send: better
    /// ratio on similar messages, but a compressor (its window and hash
    /// tables) lives in each connection once it has sent a compressed
    /// message. The peer can still forbid it. Default: off.
    pub send_context_takeover: bool,
    /// Let the peer keep its context between the messages it sends us: then
    /// each connection holds a decompressor and its window (from the first
    /// compressed message on). Off, we ask for `*_no_context_takeover` from
    /// the peer (a server may always ask a client, RFC 7692 §7.1.1.2).
    /// Default: off.
    pub receive_context_takeover: bool,
    /// Largest LZ77 window we compress with, as a power of two, 9..=15
    /// (the peer may ask for less). Only matters for the memory of a
    /// connection with send context takeover. Default: 15.
    pub send_window_bits: u8,
    /// Largest window we let the peer compress with, 9..=15; asked for when
    /// below 15 (a server can only ask a client that offered
    /// `client_max_window_bits`). Default: 15.
    pub receive_window_bits: u8,
    /// zlib compression level, 1 (fastest) ..= 9 (smallest). Default: 1.
    pub level: u8,
    /// Messages shorter than this many bytes are sent uncompressed (RFC 7692
    /// lets every message choose). Default: [`DEFAULT_THRESHOLD`].
    pub threshold: usize,
    /// Send a message uncompressed when compressing did not make it smaller
    /// (random, encrypted or already compressed data grows a little under
    /// deflate). Off, every message from the threshold on goes compressed
    /// whatever its size: with send context takeover even incompressible
    /// messages then enter the window that later ones refer to, and peers
    /// that insist on every message compressed get it. Default: on.
    pub plain_when_larger: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            send_context_takeover: false,
            receive_context_takeover: false,
            send_window_bits: 15,
            receive_window_bits: 15,
            level: 1,
            threshold: DEFAULT_THRESHOLD,
            plain_when_larger: true,
        }
    }
}

impl DeflateConfig {
    /// Sets [`DeflateConfig::send_context_takeover`].
    #[must_use]
    pub fn send_context_takeover(mut self, on: bool) -> Self {
        self.send_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::receive_context_takeover`].
    #[must_use]
    pub fn receive_context_takeover(mut self, on: bool) -> Self {
        self.receive_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::send_window_bits`].
    #[must_use]
    pub fn send_window_bits(mut self, bits: u8) -> Self {
        self.send_window_bits = bits;
        self
    }

    /// Sets [`DeflateConfig::receive_window_bits`].
    #[must_use]
    pub fn receive_window_bits(mut self, bits: u8) -> Self {
        self.receive_window_bits = bits;
        self
    }

    /// Sets [`DeflateConfig::level`].
    #[must_use]
    pub fn level(mut self, level: u8) -> Self {
        self.level = level;
        self
    }

    /// Sets [`DeflateConfig::threshold`].
    #[must_use]
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Sets [`DeflateConfig::plain_when_larger`].
    #[must_use]
    pub fn plain_when_larger(mut self, on: bool) -> Self {
        self.plain_when_larger = on;
        self
    }

    /// What is wrong with these settings, if anything. Window bits of 8 are
    /// refused: zlib cannot compress raw deflate with a 256-byte window.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        if !(9..=15).contains(&self.send_window_bits) {
            return Some("send_window_bits must be 9..=15");
        }
        if !(9..=15).contains(&self.receive_window_bits) {
            return Some("receive_window_bits must be 9..=15");
        }
        if !(1..=9).contains(&self.level) {
            return Some("level must be 1..=9");
        }
        None
    }
}
