//! Godot's `TCPServer` and the `StreamPeerTCP` it hands out: a non-blocking
//! listening socket polled from the game loop, no runtime involved.

use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream},
};

use socket2::{Domain, Protocol, Socket, Type};
use wspeer_core::{Config, HandshakeLimiter, HandshakeSlot, TlsConfigError, TlsOptions};

use crate::error::ListenError;

/// Connections the kernel queues before `take_connection`. Godot uses 8, which
/// refuses bursts of clients; a server of hundreds of peers needs more, and a
/// burst past it makes every client caught in it wait a second for its SYN's
/// retransmission. The core's value (capped by `net.core.somaxconn`).
const BACKLOG: i32 = wspeer_core::LISTEN_BACKLOG as i32;

/// An accepted TCP connection, ready for [`WebSocketPeer::accept_stream`]
/// (Godot's `StreamPeerTCP` in `STATUS_CONNECTED`).
///
/// [`WebSocketPeer::accept_stream`]: crate::WebSocketPeer::accept_stream
#[derive(Debug)]
pub struct StreamPeerTcp {
    pub(crate) stream: TcpStream,
    peer_addr: SocketAddr,
    /// Its place among its server's unfinished handshakes, until the
    /// WebSocket handshake on it ends.
    pub(crate) slot: Option<HandshakeSlot>,
}

impl StreamPeerTcp {
    /// The remote IP address.
    pub fn connected_host(&self) -> IpAddr {
        self.peer_addr.ip()
    }

    /// The remote port.
    pub fn connected_port(&self) -> u16 {
        self.peer_addr.port()
    }

    /// Whether its server dropped it unfinished to make room for newer
    /// connections (see [`TcpServer::set_handshake_limits`]); a peer given it
    /// fails its handshake at once.
    pub fn is_evicted(&self) -> bool {
        self.slot.as_ref().is_some_and(HandshakeSlot::is_evicted)
    }

    /// The standard library stream, for uses outside wspeer.
    pub fn into_std(self) -> TcpStream {
        self.stream
    }
}

/// A TCP connection to be served over TLS: Godot's `StreamPeerTLS` after
/// `accept_stream(tcp, TLSOptions.server(key, cert))`. The TLS handshake itself
/// runs in the connection task once [`WebSocketPeer::accept_stream`] takes it,
/// under the handshake timeout.
///
/// [`WebSocketPeer::accept_stream`]: crate::WebSocketPeer::accept_stream
#[derive(Debug)]
pub struct StreamPeerTls {
    pub(crate) tcp: StreamPeerTcp,
    pub(crate) options: TlsOptions,
}

impl StreamPeerTls {
    /// Wraps an accepted connection for serving TLS with `options`, which must be
    /// server options ([`TlsOptions::server`]).
    pub fn accept_stream(tcp: StreamPeerTcp, options: TlsOptions) -> Result<Self, TlsConfigError> {
        if !options.is_server() {
            return Err(TlsConfigError::WrongSide(
                "StreamPeerTls::accept_stream needs server TLS options",
            ));
        }
        Ok(Self { tcp, options })
    }

    /// The remote IP address.
    pub fn connected_host(&self) -> IpAddr {
        self.tcp.connected_host()
    }

    /// The remote port.
    pub fn connected_port(&self) -> u16 {
        self.tcp.connected_port()
    }
}

/// What [`WebSocketPeer::accept_stream`] takes: a plain or a TLS connection.
///
/// [`WebSocketPeer::accept_stream`]: crate::WebSocketPeer::accept_stream
#[derive(Debug)]
pub enum AcceptedStream {
    /// Plain `ws://`.
    Tcp(StreamPeerTcp),
    /// `wss://`.
    Tls(StreamPeerTls),
}

impl AcceptedStream {
    /// `tcp` served with TLS when `tls` is given, plain otherwise: what a
    /// server that may run `wss://` hands to
    /// [`WebSocketPeer::accept_stream`](crate::WebSocketPeer::accept_stream)
    /// for each connection it takes. Fails as
    /// [`StreamPeerTls::accept_stream`] does.
    pub fn serving(tcp: StreamPeerTcp, tls: Option<&TlsOptions>) -> Result<Self, TlsConfigError> {
        match tls {
            Some(options) => StreamPeerTls::accept_stream(tcp, options.clone()).map(Self::Tls),
            None => Ok(Self::Tcp(tcp)),
        }
    }
}

impl From<StreamPeerTcp> for AcceptedStream {
    fn from(stream: StreamPeerTcp) -> Self {
        AcceptedStream::Tcp(stream)
    }
}

impl From<StreamPeerTls> for AcceptedStream {
    fn from(stream: StreamPeerTls) -> Self {
        AcceptedStream::Tls(stream)
    }
}

/// Godot's `TCPServer`: listen, then each frame take the connections waiting.
///
/// ```no_run
/// use wspeer::{TcpServer, WebSocketPeer};
///
/// let mut server = TcpServer::new();
/// server.listen(9080, "*").expect("listen");
/// let mut peers = Vec::new();
/// loop {
///     while server.is_connection_available() {
///         let mut peer = WebSocketPeer::new();
///         if let Some(stream) = server.take_connection() {
///             peer.accept_stream(stream).expect("accept");
///             peers.push(peer);
///         }
///     }
///     for peer in &mut peers {
///         peer.poll();
///     }
///     # break;
/// }
/// ```
///
/// Every connection it hands out counts as an unfinished handshake until the
/// [`WebSocketPeer`](crate::WebSocketPeer) given it opens or fails; past the
/// caps of [`set_handshake_limits`](Self::set_handshake_limits), the one that
/// has waited longest is dropped (it fails with
/// [`ConnectError::Evicted`](wspeer_core::ConnectError::Evicted)), so slow
/// clients cannot hold unbounded memory nor lock newer ones out.
#[derive(Debug)]
pub struct TcpServer {
    listener: Option<TcpListener>,
    waiting: Option<(TcpStream, SocketAddr)>,
    handshakes: HandshakeLimiter,
}

impl Default for TcpServer {
    fn default() -> Self {
        Self {
            listener: None,
            waiting: None,
            handshakes: HandshakeLimiter::from_config(&Config::default()),
        }
    }
}

impl TcpServer {
    /// A server that is not listening yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The caps on unfinished handshakes, in all and from one address:
    /// [`Config::max_pending_handshakes`] (default 4096) and
    /// [`Config::max_pending_handshakes_per_ip`] (default 256). Connections
    /// already handed out keep the caps they were counted under.
    pub fn set_handshake_limits(&mut self, max_pending: usize, max_pending_per_ip: usize) {
        self.handshakes = HandshakeLimiter::new(max_pending, max_pending_per_ip);
    }

    /// Handshakes on connections from this server that have not ended yet.
    pub fn pending_handshakes(&self) -> usize {
        self.handshakes.pending()
    }

    /// Starts listening on `port` (0 picks a free one; see [`local_port`]) at
    /// `bind_address`: an IP address, or `"*"` for every interface, IPv6 and IPv4
    /// (falling back to IPv4 only where the system has no IPv6).
    ///
    /// [`local_port`]: Self::local_port
    pub fn listen(&mut self, port: u16, bind_address: &str) -> Result<(), ListenError> {
        if self.listener.is_some() {
            return Err(ListenError::AlreadyListening);
        }
        let listener = if bind_address == "*" {
            bind(
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
                true,
            )
            .or_else(|_| {
                bind(
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                    false,
                )
            })?
        } else {
            let ip: IpAddr = bind_address
                .parse()
                .map_err(|_| ListenError::InvalidAddress(bind_address.to_owned()))?;
            bind(SocketAddr::new(ip, port), false)?
        };
        self.listener = Some(listener);
        Ok(())
    }

    /// Whether a connection is waiting to be taken. Never blocks.
    pub fn is_connection_available(&mut self) -> bool {
        if self.waiting.is_some() {
            return true;
        }
        let Some(listener) = &self.listener else {
            return false;
        };
        match listener.accept() {
            Ok(accepted) => {
                self.waiting = Some(accepted);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(error) => {
                // Such as EMFILE: the connection stays in the backlog for later.
                tracing::warn!(%error, "accept failed");
                false
            }
        }
    }

    /// Takes a waiting connection, or `None` if there is none. Never blocks.
    pub fn take_connection(&mut self) -> Option<StreamPeerTcp> {
        if !self.is_connection_available() {
            return None;
        }
        let (stream, peer_addr) = self.waiting.take()?;
        Some(StreamPeerTcp {
            stream,
            peer_addr,
            slot: Some(self.handshakes.admit(peer_addr)),
        })
    }

    /// Whether [`listen`](Self::listen) succeeded and [`stop`](Self::stop) was not
    /// called since.
    pub fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    /// The port listened on; 0 when not listening.
    pub fn local_port(&self) -> u16 {
        self.listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    /// Stops listening and drops any connection not yet taken.
    pub fn stop(&mut self) {
        self.listener = None;
        self.waiting = None;
    }
}

fn bind(addr: SocketAddr, dual_stack: bool) -> Result<TcpListener, ListenError> {
    let io_error = |source| ListenError::Io { addr, source };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(io_error)?;
    if dual_stack {
        socket.set_only_v6(false).map_err(io_error)?;
    }
    socket.set_reuse_address(true).map_err(io_error)?;
    socket.bind(&addr.into()).map_err(io_error)?;
    socket.listen(BACKLOG).map_err(io_error)?;
    socket.set_nonblocking(true).map_err(io_error)?;
    Ok(socket.into())
}
