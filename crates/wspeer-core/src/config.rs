//! Connection settings: Godot's limits plus what a server on the open internet needs.

use std::time::Duration;

use crate::{
    activity::ActivitySignal,
    deflate::DeflateConfig,
    error::ConfigError,
    http_service::{HttpService, HttpServiceRef},
    origin::OriginPolicy,
    tls::TlsOptions,
};

/// Godot's `WebSocketPeer.DEFAULT_BUFFER_SIZE`.
pub const DEFAULT_BUFFER_SIZE: usize = 65535;

/// Godot 4.0–4.3's default `max_queued_packets` (4.4 raised it to 4096; see
/// `docs/godot-mapping.md`).
pub const DEFAULT_MAX_QUEUED_PACKETS: usize = 2048;

/// Settings for one WebSocket connection, client or server.
///
/// Build it with [`Config::default`] and the chained setters; it is checked once,
/// by [`Config::validate`], when a connection starts. Every default is the one
/// documented on its field.
///
/// ```
/// use std::time::Duration;
/// use wspeer_core::Config;
///
/// let config = Config::default()
///     .max_queued_packets(256)
///     .supported_protocols(["demo-chat"])
///     .heartbeat_interval(Duration::from_secs(5));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Most complete messages waiting to be read, and most messages waiting to be
    /// written. Inbound, a full queue stops reading the socket (TCP backpressure);
    /// outbound, a send that would exceed it fails at once and gives the message
    /// back. Default: 2048 (Godot 4.0–4.3).
    pub max_queued_packets: usize,
    /// Largest incoming message in bytes, and the byte budget of the inbound
    /// queue. A bigger message closes the connection with 1009. Default: 65535.
    pub inbound_buffer_size: usize,
    /// Byte budget of the outbound queue: payload bytes accepted by `send` but not
    /// yet written to the socket. A send that would exceed it fails at once, so a
    /// single message larger than this can never be sent (as in Godot). `0` means
    /// no byte limit. Default: 65535.
    pub outbound_buffer_size: usize,
    /// Subprotocols. A client offers them in this order; a server accepts the first
    /// one in the client's list that appears here (Godot's rule). Default: none.
    pub supported_protocols: Vec<String>,
    /// Extra headers: sent in a client's upgrade request, or in a server's
    /// `101 Switching Protocols` response. Default: none.
    pub handshake_headers: Vec<(String, String)>,
    /// Send an empty ping every interval; a connection that sees no pong within one
    /// interval after a ping is dropped (close code -1). `Duration::ZERO` turns it
    /// off. Default: off (as in Godot 4.4).
    pub heartbeat_interval: Duration,
    /// `TCP_NODELAY` on the socket. Default: on (as in Godot).
    pub no_delay: bool,
    /// Time allowed from the start of a connection to the end of its WebSocket
    /// handshake (TCP connect, request and response). Default: 10 s. Godot has none
    /// for a plain peer, so a silent server could hold a client for ever.
    pub handshake_timeout: Duration,
    /// Time allowed for the closing handshake, counted from `close()` (or from
    /// the peer's close frame, or a protocol violation): the messages queued
    /// before `close()` must be written within it too. After it the TCP
    /// connection is dropped (close code -1, or the peer's code if its frame
    /// came). Default: 5 s. Godot has none: its peer can stay CLOSING for ever.
    pub close_timeout: Duration,
    /// Largest HTTP head read during the opening handshake, on either side: a
    /// server answers a longer request head with `431 Request Header Fields Too
    /// Large`; a client gives up on a longer response head with
    /// [`ConnectError::MalformedHead`](crate::ConnectError::MalformedHead).
    /// Default: 8192 bytes.
    pub max_handshake_head_size: usize,
    /// Server: most unfinished handshakes at once (TCP accepted, no `101`
    /// yet). A new connection past it drops the one that has waited longest,
    /// so the server never stops accepting and a client that finishes its
    /// handshake promptly is served however many slow ones there are. Each
    /// costs under 4 KiB and a descriptor. Default: 4096.
    pub max_pending_handshakes: usize,
    /// Server: most unfinished handshakes from one address (one IPv4 address,
    /// or one IPv6 /64, which one subscriber usually holds whole). A new
    /// connection past it drops that address's longest-waiting one, so one
    /// address cannot fill [`Config::max_pending_handshakes`] and push out
    /// the slow but honest clients of others. Default: 256 (a sixteenth of
    /// the total, and more than the clients a test, a benchmark or a busy NAT
    /// opens from one address in the instant before their handshakes run).
    pub max_pending_handshakes_per_ip: usize,
    /// Server: which web pages may open a WebSocket (the `Origin` check
    /// against cross-site WebSocket hijacking); refused requests get `403`.
    /// Default: [`OriginPolicy::Any`].
    pub origin_policy: OriginPolicy,
    /// TLS. A client uses these options for `wss://` URLs (default: verify against
    /// the system's trust store); a server given server options serves `wss://`
    /// only. Default: none.
    pub tls: Option<TlsOptions>,
    /// Server: answers plain HTTP requests on the WebSocket port and may refuse
    /// upgrades (see [`HttpService`]). Default: none (426 to anything but an
    /// upgrade).
    pub http_service: Option<HttpServiceRef>,
    /// Most bytes taken from the socket by one read. Reads go to a buffer shared
    /// by all the connections of a runtime thread (it grows to the largest size
    /// in use), so a connection holds no read buffer of its own and this costs
    /// nothing per connection. Default: 64 KiB, so that one read usually takes
    /// everything the socket has.
    pub read_buffer_size: usize,
    /// Notified whenever a connection with this config delivers messages or
    /// changes state, so that one waiter can watch many connections (see
    /// [`ActivitySignal`]). Default: none.
    pub activity: Option<ActivitySignal>,
    /// permessage-deflate (RFC 7692): a client offers it, a server accepts
    /// the first valid offer, on these settings. Limits hold on inflated
    /// data: [`Config::inbound_buffer_size`] bounds a message once
    /// decompressed. Default: none (as in Godot, whose peers never offer it).
    pub permessage_deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_queued_packets: DEFAULT_MAX_QUEUED_PACKETS,
            inbound_buffer_size: DEFAULT_BUFFER_SIZE,
            outbound_buffer_size: DEFAULT_BUFFER_SIZE,
            supported_protocols: Vec::new(),
            handshake_headers: Vec::new(),
            heartbeat_interval: Duration::ZERO,
            no_delay: true,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            max_handshake_head_size: 8192,
            max_pending_handshakes: 4096,
            max_pending_handshakes_per_ip: 256,
            origin_policy: OriginPolicy::Any,
            tls: None,
            http_service: None,
            read_buffer_size: 64 * 1024,
            activity: None,
            permessage_deflate: None,
        }
    }
}

impl Config {
    /// Sets [`Config::max_queued_packets`].
    #[must_use]
    pub fn max_queued_packets(mut self, packets: usize) -> Self {
        self.max_queued_packets = packets;
        self
    }

    /// Sets [`Config::inbound_buffer_size`].
    #[must_use]
    pub fn inbound_buffer_size(mut self, bytes: usize) -> Self {
        self.inbound_buffer_size = bytes;
        self
    }

    /// Sets [`Config::outbound_buffer_size`].
    #[must_use]
    pub fn outbound_buffer_size(mut self, bytes: usize) -> Self {
        self.outbound_buffer_size = bytes;
        self
    }

    /// Sets [`Config::supported_protocols`]; surrounding whitespace is stripped from
    /// each entry, as Godot's setter does.
    #[must_use]
    pub fn supported_protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.supported_protocols = protocols
            .into_iter()
            .map(|p| p.into().trim().to_owned())
            .collect();
        self
    }

    /// Adds one header to [`Config::handshake_headers`].
    #[must_use]
    pub fn handshake_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.handshake_headers.push((name.into(), value.into()));
        self
    }

    /// Sets [`Config::heartbeat_interval`].
    #[must_use]
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Sets [`Config::no_delay`].
    #[must_use]
    pub fn no_delay(mut self, enabled: bool) -> Self {
        self.no_delay = enabled;
        self
    }

    /// Sets [`Config::handshake_timeout`].
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`Config::close_timeout`].
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Config::max_handshake_head_size`].
    #[must_use]
    pub fn max_handshake_head_size(mut self, bytes: usize) -> Self {
        self.max_handshake_head_size = bytes;
        self
    }

    /// Sets [`Config::max_pending_handshakes`].
    #[must_use]
    pub fn max_pending_handshakes(mut self, handshakes: usize) -> Self {
        self.max_pending_handshakes = handshakes;
        self
    }

    /// Sets [`Config::max_pending_handshakes_per_ip`].
    #[must_use]
    pub fn max_pending_handshakes_per_ip(mut self, handshakes: usize) -> Self {
        self.max_pending_handshakes_per_ip = handshakes;
        self
    }

    /// Sets [`Config::origin_policy`].
    #[must_use]
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin_policy = policy;
        self
    }

    /// Browsers may open a WebSocket only from the server's own pages or from
    /// `origins` (`scheme://host[:port]`): [`OriginPolicy::SameHostOr`].
    #[must_use]
    pub fn allowed_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origin_policy(OriginPolicy::SameHostOr(
            origins.into_iter().map(Into::into).collect(),
        ))
    }

    /// Sets [`Config::tls`].
    #[must_use]
    pub fn tls(mut self, options: TlsOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// Sets [`Config::activity`].
    #[must_use]
    pub fn activity(mut self, signal: ActivitySignal) -> Self {
        self.activity = Some(signal);
        self
    }

    /// Sets [`Config::http_service`].
    #[must_use]
    pub fn http_service(mut self, service: impl HttpService) -> Self {
        self.http_service = Some(HttpServiceRef::new(service));
        self
    }

    /// Sets [`Config::read_buffer_size`].
    #[must_use]
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets [`Config::permessage_deflate`].
    #[must_use]
    pub fn permessage_deflate(mut self, settings: DeflateConfig) -> Self {
        self.permessage_deflate = Some(settings);
        self
    }

    /// Checks every setting; connections call this once before they start.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_queued_packets == 0 {
            return Err(ConfigError::ZeroQueue);
        }
        if self.inbound_buffer_size == 0 {
            return Err(ConfigError::ZeroInboundBuffer);
        }
        if self.handshake_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("handshake_timeout"));
        }
        if self.close_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("close_timeout"));
        }
        if self.read_buffer_size < 512 {
            return Err(ConfigError::ReadBufferTooSmall(self.read_buffer_size));
        }
        if self.max_handshake_head_size < 256 {
            return Err(ConfigError::HeaderLimitTooSmall(
                self.max_handshake_head_size,
            ));
        }
        if self.max_pending_handshakes == 0 {
            return Err(ConfigError::ZeroHandshakeLimit("max_pending_handshakes"));
        }
        if self.max_pending_handshakes_per_ip == 0 {
            return Err(ConfigError::ZeroHandshakeLimit(
                "max_pending_handshakes_per_ip",
            ));
        }
        if let Some(problem) = self
            .permessage_deflate
            .as_ref()
            .and_then(DeflateConfig::problem)
        {
            return Err(ConfigError::InvalidDeflate(problem));
        }
        for protocol in &self.supported_protocols {
            if protocol.is_empty() || !protocol.bytes().all(is_token_byte) {
                return Err(ConfigError::InvalidProtocol(protocol.clone()));
            }
        }
        for (name, value) in &self.handshake_headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(ConfigError::InvalidHeaderName(name.clone()));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(ConfigError::InvalidHeaderValue(name.clone()));
            }
        }
        Ok(())
    }
}

/// An HTTP `token` character (RFC 9110 §5.6.2): what header names and
/// subprotocol names are made of.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_godot_like() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.inbound_buffer_size, 65535);
        assert_eq!(config.outbound_buffer_size, 65535);
        assert_eq!(config.max_queued_packets, 2048);
        assert!(config.no_delay);
    }

    #[test]
    fn protocols_are_trimmed_and_checked() {
        let config = Config::default().supported_protocols([" chat ", "v2"]);
        assert_eq!(config.supported_protocols, ["chat", "v2"]);
        let bad = Config::default().supported_protocols(["a b"]);
        assert_eq!(
            bad.validate(),
            Err(ConfigError::InvalidProtocol("a b".into()))
        );
    }

    #[test]
    fn header_injection_is_refused() {
        let bad = Config::default().handshake_header("X-A", "1\r\nX-B: 2");
        assert_eq!(
            bad.validate(),
            Err(ConfigError::InvalidHeaderValue("X-A".into()))
        );
        let bad = Config::default().handshake_header("X A", "1");
        assert!(bad.validate().is_err());
    }

    #[test]
    fn zero_limits_are_refused() {
        assert_eq!(
            Config::default().max_queued_packets(0).validate(),
            Err(ConfigError::ZeroQueue)
        );
        assert_eq!(
            Config::default().inbound_buffer_size(0).validate(),
            Err(ConfigError::ZeroInboundBuffer)
        );
    }
}
