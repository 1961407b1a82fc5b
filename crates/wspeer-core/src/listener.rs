//! A WebSocket server socket: accepts TCP connections, runs each handshake in its
//! own task, and hands out the connections that opened.

use std::{future::Future, io, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use futures_util::{StreamExt, stream::FuturesUnordered};
use tokio::net::{TcpListener, ToSocketAddrs};
use tracing::{debug, warn};

use crate::{config::Config, error::ConfigError, handle::WebSocket, task};

/// Handshakes a listener runs at once; past this it stops accepting TCP
/// connections until some finish, so a flood of silent clients costs bounded
/// memory. Each one ends within `handshake_timeout`.
pub const MAX_PENDING_HANDSHAKES: usize = 1024;

type Opening = Pin<Box<dyn Future<Output = Option<WebSocket>> + Send>>;

/// A bound WebSocket server.
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
    opening: FuturesUnordered<Opening>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("opening", &self.opening.len())
            .finish()
    }
}

impl Listener {
    /// Binds to `addr` (`"127.0.0.1:0"` picks a free port).
    pub async fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Self> {
        config
            .validate()
            .map_err(|e: ConfigError| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tcp = TcpListener::bind(addr).await?;
        Ok(Self::from_tcp(tcp, Arc::new(config)))
    }

    /// Serves on a listener the caller bound; `config` must be valid.
    pub fn from_tcp(tcp: TcpListener, config: Arc<Config>) -> Self {
        Self {
            tcp,
            config,
            opening: FuturesUnordered::new(),
        }
    }

    /// The address the listener is bound to, with the port it got.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
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
            let room = self.opening.len() < MAX_PENDING_HANDSHAKES;
            tokio::select! {
                biased;
                Some(opened) = self.opening.next(), if !self.opening.is_empty() => {
                    if let Some(ws) = opened {
                        return ws;
                    }
                }
                accepted = self.tcp.accept(), if room => match accepted {
                    Ok((stream, addr)) => self.start(stream, addr),
                    Err(error) => {
                        warn!(%error, "accept failed; retrying");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    }

    fn start(&mut self, stream: tokio::net::TcpStream, addr: SocketAddr) {
        let (ws, task) = match task::server(stream, self.config.clone()) {
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
