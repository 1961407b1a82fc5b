//! A WebSocket server socket: accepts TCP connections, runs each handshake in its
//! own task, and hands out the connections that opened.

use std::{future::Future, io, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use futures_util::{StreamExt, stream::FuturesUnordered};
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tracing::{debug, warn};

use crate::{
    config::Config, error::ConfigError, handle::WebSocket, handshake_limiter::HandshakeLimiter,
    task,
};

type Opening = Pin<Box<dyn Future<Output = Option<WebSocket>> + Send>>;

/// Connections the kernel queues for `accept`. Tokio's `TcpListener::bind`
/// asks for 1024, which a burst of connections overflows: the kernel then
/// drops SYNs, and every client caught in it, attacker or not, waits a second
/// for its retransmission. Linux caps it at `net.core.somaxconn` (4096 by
/// default since 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds a TCP listener on the first address of `addr` that works, with
/// [`LISTEN_BACKLOG`]: what [`Listener::bind`] uses, for a caller that wants
/// the socket itself (for [`Listener::from_tcp`]).
pub async fn bind_tcp(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As std and Tokio do: a restarted server can bind at once.
        socket.set_reuseaddr(true)?;
        match socket
            .bind(addr)
            .and_then(|()| socket.listen(LISTEN_BACKLOG))
        {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")))
}

/// A bound WebSocket server.
///
/// It never stops accepting: unfinished handshakes are bounded by
/// [`Config::max_pending_handshakes`] and
/// [`Config::max_pending_handshakes_per_ip`], past which the longest-waiting
/// one is dropped (see [`HandshakeLimiter`]), and each ends within
/// [`Config::handshake_timeout`].
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let mut listener = wspeer_core::Listener::bind("127.0.0.1:0", wspeer_core::Config::default()).await?;
/// println!("listening on {}", listener.local_addr()?);
/// loop {
///     let mut ws = listener.accept().await;
///     tokio::spawn(async move {
///         while let Some(message) = ws.recv().await {
///             if ws.send(message).await.is_err() {
///                 break;
///             }
///         }
///     });
/// }
/// # }
/// ```
pub struct Listener {
    tcp: TcpListener,
    config: Arc<Config>,
    handshakes: HandshakeLimiter,
    opening: FuturesUnordered<Opening>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("handshakes", &self.handshakes)
            .finish()
    }
}

impl Listener {
    /// Binds to `addr` (`"127.0.0.1:0"` picks a free port).
    pub async fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Self> {
        config
            .validate()
            .map_err(|e: ConfigError| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tcp = bind_tcp(addr).await?;
        Ok(Self::from_tcp(tcp, Arc::new(config)))
    }

    /// Serves on a listener the caller bound; `config` must be valid.
    pub fn from_tcp(tcp: TcpListener, config: Arc<Config>) -> Self {
        Self {
            tcp,
            handshakes: HandshakeLimiter::from_config(&config),
            config,
            opening: FuturesUnordered::new(),
        }
    }

    /// The address the listener is bound to, with the port it got.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The count of unfinished handshakes.
    pub fn handshakes(&self) -> &HandshakeLimiter {
        &self.handshakes
    }

    /// The settings every accepted connection uses.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Waits for the next connection whose handshake succeeded. Failed handshakes
    /// are logged and skipped; errors from `accept()` (such as running out of file
    /// descriptors) are logged and retried after a short pause.
    pub async fn accept(&mut self) -> WebSocket {
        loop {
            tokio::select! {
                biased;
                Some(opened) = self.opening.next(), if !self.opening.is_empty() => {
                    if let Some(ws) = opened {
                        return ws;
                    }
                }
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, addr)) => {
                        self.start(stream, addr);
                        // Let the new handshake read what its client sent
                        // before another connection can make it the oldest.
                        tokio::task::yield_now().await;
                    }
                    Err(error) => {
                        warn!(%error, "accept failed; retrying");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    }

    fn start(&mut self, stream: tokio::net::TcpStream, addr: SocketAddr) {
        let slot = self.handshakes.admit(addr);
        let (ws, task) = match task::server_in_slot(stream, self.config.clone(), slot) {
            Ok(pair) => pair,
            Err(error) => {
                warn!(%error, %addr, "cannot serve connection");
                return;
            }
        };
        tokio::spawn(task);
        self.opening.push(Box::pin(async move {
            match ws.opened().await {
                Ok(()) => Some(ws),
                Err(error) => {
                    debug!(%error, %addr, "handshake failed");
                    None
                }
            }
        }));
    }
}
