//! Error types, one per operation. A normal close is an event, never an error.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use crate::message::Message;

/// A [`Config`](crate::Config) setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_queued_packets` is 0: nothing could ever be sent or received.
    #[error("max_queued_packets must be at least 1")]
    ZeroQueue,
    /// `inbound_buffer_size` is 0: every message would be too big.
    #[error("inbound_buffer_size must be at least 1 byte")]
    ZeroInboundBuffer,
    /// A timeout of zero would fail every connection at once.
    #[error("{0} must be longer than zero")]
    ZeroTimeout(&'static str),
    /// `read_buffer_size` below 512 bytes.
    #[error("read_buffer_size {0} is too small (at least 512 bytes)")]
    ReadBufferTooSmall(usize),
    /// `max_handshake_head_size` below 256 bytes.
    #[error("max_handshake_head_size {0} is too small (at least 256 bytes)")]
    HeaderLimitTooSmall(usize),
    /// A handshake limit of zero would refuse every client.
    #[error("{0} must be at least 1")]
    ZeroHandshakeLimit(&'static str),
    /// A subprotocol name that is empty or not an HTTP token.
    #[error("subprotocol {0:?} is not a valid HTTP token")]
    InvalidProtocol(String),
    /// A handshake header name that is empty or not an HTTP token.
    #[error("handshake header name {0:?} is not a valid HTTP token")]
    InvalidHeaderName(String),
    /// A [`DeflateConfig`](crate::DeflateConfig) setting out of its range.
    #[error("permessage_deflate: {0}")]
    InvalidDeflate(&'static str),
    /// A handshake header value with CR, LF or NUL in it.
    #[error("handshake header {0:?} has a value with CR, LF or NUL in it")]
    InvalidHeaderValue(String),
}

/// Why a connection never opened. Clients and servers share it; each variant says
/// which side raises it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL could not be parsed (client).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The scheme is not `ws` or `wss` (client).
    #[error("unsupported scheme {0:?}: use ws:// or wss://")]
    UnsupportedScheme(String),
    /// The TLS options cannot be used (client or server).
    #[error("TLS options: {0}")]
    TlsConfig(#[from] TlsConfigError),
    /// The TLS handshake failed (both sides).
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The settings are invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The host name did not resolve to any address (client).
    #[error("could not resolve {host:?}: {source}")]
    Resolve {
        /// The host that was looked up.
        host: String,
        /// The resolver's error.
        #[source]
        source: Arc<io::Error>,
    },
    /// Every address of the host refused or failed the TCP connection (client).
    #[error("could not connect to {addr}: {source}")]
    Refused {
        /// The last address tried.
        addr: SocketAddr,
        /// The socket error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The peer closed the connection before the handshake was over (both
    /// sides).
    #[error("WebSocket handshake failed: the {0} closed the connection during the handshake")]
    ClosedDuringHandshake(Side),
    /// The server's answer is not a usable HTTP head: not HTTP, incomplete,
    /// or over the size limit (client; a server refuses such a request with
    /// [`ConnectError::RequestRefused`]).
    #[error("WebSocket handshake failed: {0}")]
    MalformedHead(String),
    /// The server answered the upgrade with another HTTP status (client).
    #[error("WebSocket handshake failed: the server answered HTTP {status} {reason} instead of 101{}", body_suffix(.body))]
    Rejected {
        /// The status code, such as 403 or 503.
        status: u16,
        /// The reason phrase of the status line.
        reason: String,
        /// The start of the response body (at most 300 bytes), trimmed: the
        /// server's explanation, if it gave one.
        body: String,
    },
    /// The server's `101` is not a valid WebSocket upgrade: a header missing,
    /// a wrong `Sec-WebSocket-Accept`, an extension we did not offer (client).
    #[error("WebSocket handshake failed: {0}")]
    InvalidUpgrade(String),
    /// We refused the client's upgrade request and answered with `status`
    /// (server): not an upgrade, a bad key or version, no shared subprotocol,
    /// an origin not allowed, a missing `Host`.
    #[error("WebSocket handshake failed: refused with {status}: {reason}")]
    RequestRefused {
        /// The status code sent, such as 400, 403 or 426.
        status: u16,
        /// Why, as sent in the response body.
        reason: String,
    },
    /// The application's [`HttpService`](crate::HttpService) answered the
    /// request instead of upgrading it (server): a web page, a 503 from
    /// `admit`.
    #[error("WebSocket handshake failed: answered over HTTP with status {0}")]
    AnsweredOverHttp(u16),
    /// The server's `Sec-WebSocket-Extensions` is not a valid answer to our
    /// permessage-deflate offer (client).
    #[error("WebSocket handshake failed: the server's Sec-WebSocket-Extensions: {0}")]
    Extension(#[from] ExtensionError),
    /// The server chose no subprotocol, or one we did not offer (client).
    #[error("subprotocol mismatch: {0}")]
    ProtocolMismatch(String),
    /// The handshake did not finish within `handshake_timeout` (both sides).
    #[error("WebSocket handshake did not finish within {0:?}")]
    Timeout(Duration),
    /// The socket failed during the handshake (both sides).
    #[error("I/O error during the handshake: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The application closed the connection before it opened (both sides).
    #[error("closed by the application before the connection opened")]
    Aborted,
    /// Dropped unfinished to make room: newer connections went past
    /// `max_pending_handshakes` or `max_pending_handshakes_per_ip` while this
    /// one had waited longest (server).
    #[error("dropped to make room for newer handshakes (max_pending_handshakes)")]
    Evicted,
}

/// What is wrong with a server's answer to our permessage-deflate offer
/// (RFC 7692 §7.1: a client must fail the connection on each of these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The header does not follow the grammar of RFC 6455 §9.1, or is empty.
    #[error("malformed")]
    Malformed,
    /// The server enabled an extension other than the one we offered.
    #[error("enables {0:?}, which we did not offer")]
    NotOffered(String),
    /// The server named more than one extension (we offer one).
    #[error("accepts more than the one extension we offered")]
    MoreThanOne,
    /// A parameter RFC 7692 does not define.
    #[error("unknown parameter {0:?}")]
    UnknownParameter(String),
    /// The same parameter twice.
    #[error("parameter {0:?} given twice")]
    DuplicateParameter(String),
    /// A value a response may not have: window bits outside 8..=15 or
    /// missing, a value on a `*_no_context_takeover`.
    #[error("invalid value {value:?} for {name:?}")]
    InvalidValue {
        /// The parameter.
        name: String,
        /// Its value, if it had one.
        value: Option<String>,
    },
    /// A parameter we asked for that the answer must contain.
    #[error("does not contain {0}, which we asked for")]
    Missing(&'static str),
    /// A window larger than the one we asked for or allowed.
    #[error("{name}={value} is more than we allowed")]
    NotAllowed {
        /// The parameter.
        name: String,
        /// Its value.
        value: String,
    },
}

/// Which end of a connection did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Side {
    /// The client.
    Client,
    /// The server.
    Server,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl From<io::Error> for ConnectError {
    fn from(err: io::Error) -> Self {
        ConnectError::Io(Arc::new(err))
    }
}

/// Why a message was not queued. Every variant gives the message back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is not open (connecting, closing or closed). Godot: `FAILED`.
    #[error("the connection is not open")]
    NotOpen(Message),
    /// The outbound queue holds `max_queued_packets` messages or this message would
    /// take it past `outbound_buffer_size` bytes. Godot: `ERR_OUT_OF_MEMORY`.
    #[error("the outbound queue is full")]
    Full(Message),
    /// The message alone is larger than `outbound_buffer_size`, so it can never be
    /// queued. Godot: `ERR_OUT_OF_MEMORY`.
    #[error("a {} byte message is larger than outbound_buffer_size", .0.len())]
    TooLarge(Message),
}

impl SendError {
    /// The message that was not sent.
    pub fn into_message(self) -> Message {
        match self {
            SendError::NotOpen(m) | SendError::Full(m) | SendError::TooLarge(m) => m,
        }
    }
}

/// Why a close request was refused. The connection is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseError {
    /// RFC 6455 §7.4 forbids sending this code (valid: 1000–1003, 1007–1014,
    /// 3000–4999). Godot sends any code; we refuse it rather than make the peer fail.
    #[error("close code {0} may not be sent (use 1000-1003, 1007-1014 or 3000-4999)")]
    InvalidCode(i32),
    /// The reason is over 123 bytes of UTF-8, the most a close frame can carry.
    #[error("close reason is {0} bytes; at most 123 fit in a close frame")]
    ReasonTooLong(usize),
}

/// Why `try_recv` returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryRecvError {
    /// No message is waiting now.
    #[error("no message is waiting")]
    Empty,
    /// The connection is closed and every message has been read.
    #[error("the connection is closed")]
    Closed,
}

/// TLS options that cannot be built: bad PEM, a key that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The PEM data could not be parsed.
    #[error("unreadable PEM: {0}")]
    InvalidPem(String),
    /// The PEM data holds no certificate.
    #[error("the PEM data holds no certificate")]
    NoCertificate,
    /// The PEM data holds no private key.
    #[error("the PEM data holds no private key")]
    NoPrivateKey,
    /// The private key is not the key of the first certificate of the chain.
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    /// A key or certificate file could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The system trust store has no usable certificate.
    #[error("no usable certificate in the system trust store ({0})")]
    NoSystemRoots(String),
    /// Server options given to a client, or client options to a server.
    #[error("{0}")]
    WrongSide(&'static str),
    /// rustls refused the configuration.
    #[error("{0}")]
    Rustls(String),
}

/// Why a TLS handshake failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate does not chain to a trusted authority.
    #[error("the certificate is not signed by a trusted authority (unknown issuer)")]
    UnknownIssuer,
    /// The certificate is not valid for the name that was checked.
    #[error("the certificate is not valid for the name {0:?}")]
    NameMismatch(String),
    /// The certificate has expired.
    #[error("the certificate has expired")]
    Expired,
    /// The certificate is not valid yet.
    #[error("the certificate is not valid yet")]
    NotValidYet,
    /// The other side does not speak TLS.
    #[error("the other side does not speak TLS: {0}")]
    NotTls(String),
    /// Any other TLS failure, as rustls words it.
    #[error("handshake failed: {0}")]
    Other(String),
}
