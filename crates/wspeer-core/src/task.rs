//! The connection task: handshake under its timeout, then the I/O loop.
//!
//! Functions here build the task without spawning it, so that a caller can run it
//! where it wants (the poll facade keeps its runtime alive while tasks run).

use std::{
    fmt,
    future::{Future, poll_fn},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::net::TcpStream;
use tracing::{Instrument, debug, debug_span};

use crate::{
    client,
    codec::Upgraded,
    config::Config,
    driver::Driver,
    error::{ConnectError, TlsConfigError},
    handle::WebSocket,
    handshake_limiter::HandshakeSlot,
    http_service::Admission,
    server_handshake,
    shared::Shared,
    state::ConnectionInfo,
    stream::MaybeTlsStream,
    tls::TlsOptions,
    tls_handshake,
    ws_url::WsUrl,
};

/// The future that runs one connection from handshake to close. Spawn it on a
/// Tokio runtime; the connection makes no progress until it runs.
#[must_use = "a connection does nothing until its task is spawned"]
pub struct ConnectionTask {
    pub(crate) inner: Pin<Box<dyn Future<Output = ()> + Send + 'static>>,
}

impl fmt::Debug for ConnectionTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionTask")
    }
}

impl Future for ConnectionTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

/// A client connection to `url`, still connecting, and the task that will run it.
/// Fails at once only for a bad URL or bad settings.
pub fn client(
    url: &str,
    config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, ConnectionTask), ConnectError> {
    let config = config.into();
    config.validate()?;
    let url = WsUrl::parse(url)?;
    if config.tls.as_ref().is_some_and(TlsOptions::is_server) {
        return Err(TlsConfigError::WrongSide("server TLS options were given to a client").into());
    }
    let shared = Shared::new(config, url.as_str().to_owned());
    let socket = WebSocket::new(shared.clone());
    // Debug, not info: a subscriber's registry keeps the memory of the most
    // spans ever open at once (measured: 23 MiB after 10,000 connections).
    let span = debug_span!("ws_client", url = %url);
    let config = shared.config.clone();
    let task = connection(
        shared,
        Box::pin(async move {
            let (ws, info) = client::handshake(&url, &config).await?;
            Ok((ws, info, Admission::default()))
        }),
    );
    Ok((
        socket,
        ConnectionTask {
            inner: Box::pin(task.instrument(span)),
        },
    ))
}

/// A server connection on an accepted TCP stream, still in its handshake, and the
/// task that will run it.
pub fn server(
    stream: TcpStream,
    config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, ConnectionTask), ConnectError> {
    server_counted(stream, config, None)
}

/// [`server`] for a connection counted by a [`HandshakeLimiter`]: the handshake
/// fails with [`ConnectError::Evicted`] if the limiter drops it to make room,
/// and frees its slot when it ends.
///
/// [`HandshakeLimiter`]: crate::HandshakeLimiter
pub fn server_in_slot(
    stream: TcpStream,
    config: impl Into<Arc<Config>>,
    slot: HandshakeSlot,
) -> Result<(WebSocket, ConnectionTask), ConnectError> {
    server_counted(stream, config, Some(slot))
}

fn server_counted(
    stream: TcpStream,
    config: impl Into<Arc<Config>>,
    slot: Option<HandshakeSlot>,
) -> Result<(WebSocket, ConnectionTask), ConnectError> {
    let config = config.into();
    config.validate()?;
    let tls = server_tls(&config)?;
    let shared = Shared::new(config, String::new());
    let socket = WebSocket::new(shared.clone());
    let span = debug_span!("ws_server", peer = ?stream.peer_addr().ok());
    let handshake = accept_handshake(stream, shared.config.clone(), tls);
    let handshake: Handshake = match slot {
        None => Box::pin(handshake),
        // The slot lives inside the handshake, so it is freed when that ends.
        Some(slot) => Box::pin(async move {
            let mut handshake = std::pin::pin!(handshake);
            let evicted = slot.evicted();
            let mut evicted = std::pin::pin!(evicted);
            poll_fn(|cx| {
                if evicted.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(ConnectError::Evicted));
                }
                let opened = handshake.as_mut().poll(cx);
                if opened.is_pending() {
                    // It has read what its client sent so far.
                    slot.mark_waited();
                }
                opened
            })
            .await
        }),
    };
    let task = connection(shared, handshake);
    Ok((
        socket,
        ConnectionTask {
            inner: Box::pin(task.instrument(span)),
        },
    ))
}

/// The server TLS configuration of `config`, if it has TLS options; client
/// options are refused.
pub(crate) fn server_tls(
    config: &Config,
) -> Result<Option<Arc<rustls::ServerConfig>>, ConnectError> {
    match &config.tls {
        None => Ok(None),
        Some(options) => Ok(Some(options.server_config().cloned().ok_or(
            TlsConfigError::WrongSide("client TLS options were given to a server"),
        )?)),
    }
}

/// A server's TLS (if any) and WebSocket handshake on an accepted stream.
/// Its size is what every unfinished handshake holds while it waits.
#[allow(clippy::manual_async_fn)] // not an `async fn`: those store their arguments twice
fn accept_handshake(
    stream: TcpStream,
    config: Arc<Config>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> impl Future<Output = Result<Opened, ConnectError>> + Send {
    async move {
        let peer_addr = stream.peer_addr().ok();
        let local_addr = stream.local_addr().ok();
        stream.set_nodelay(config.no_delay)?;
        let (stream, scheme) = match &tls {
            // Boxed: rustls's handshake state is over 700 bytes, and a plain
            // connection waiting for its request should not carry room for it.
            Some(tls_config) => (
                Box::pin(tls_handshake::accept(stream, tls_config)).await?,
                "wss",
            ),
            None => {
                let mut stream = stream;
                tls_handshake::refuse_tls(&mut stream).await?;
                (MaybeTlsStream::Plain(stream), "ws")
            }
        };
        let (ws, mut accepted) = server_handshake::accept(stream, &config, scheme).await?;
        let info = ConnectionInfo {
            peer_addr,
            local_addr,
            requested_url: accepted.requested_url,
            selected_protocol: accepted.selected_protocol,
            admitted: accepted.admission.take_note(),
            compression: ws.compression,
        };
        Ok((ws, info, accepted.admission))
    }
}

/// What a finished handshake hands to the I/O loop, and what the connection
/// holds until it ends.
pub(crate) type Opened = (Upgraded<MaybeTlsStream>, ConnectionInfo, Admission);

/// A handshake, boxed so that its state (kilobytes, with TLS and the HTTP
/// buffers) is freed when it ends instead of staying inline in the connection's
/// future for its whole life (measured: 9.3 KB per idle connection before, see
/// docs/benchmarks.md).
pub(crate) type Handshake = Pin<Box<dyn Future<Output = Result<Opened, ConnectError>> + Send>>;

/// The whole life of a connection: its handshake, then the I/O loop.
///
/// Not an `async fn` (those store by-value arguments twice, rust-lang/rust#62958),
/// and the I/O loop is boxed so that this future holds the handshake's state or
/// the loop's, never room for both: rustc did not overlap them, and each
/// connection's future was 1,672 bytes; now 432 plus 600 or so boxed (with TCP).
#[allow(clippy::manual_async_fn)] // on purpose, see above
pub(crate) fn connection(shared: Arc<Shared>, handshake: Handshake) -> impl Future<Output = ()> {
    // Outside the async block, so that it also ends a task that never ran.
    let guard = EndGuard(shared);
    async move {
        let shared = &guard.0;
        if let Some((ws, info, admission)) = run_handshake(shared, handshake).await {
            shared.set_open(info);
            Box::pin(Driver::new(ws, shared.clone()).run()).await;
            drop(admission);
        }
    }
}

/// Closes the connection for its handles however its task ends: a `serve`
/// handler that panicked, a runtime dropped with the task still in it. Without
/// it, `closed()` would wait forever and the state would stay open.
struct EndGuard(Arc<Shared>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.set_closed_if_running();
    }
}

/// Runs a handshake under `handshake_timeout`, giving up early if the application
/// closes the connection or drops every handle. Records a failure in `shared`.
async fn run_handshake<T>(
    shared: &Shared,
    handshake: impl Future<Output = Result<T, ConnectError>>,
) -> Option<T> {
    let limit = shared.config.handshake_timeout;
    let abandoned = poll_fn(|cx| {
        shared.register_task(cx.waker());
        if shared.abandoned() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    let result = tokio::select! {
        result = tokio::time::timeout(limit, handshake) => result,
        () = abandoned => Ok(Err(ConnectError::Aborted)),
    };
    match result {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            debug!(%error, "handshake failed");
            shared.set_failed(error);
            None
        }
        Err(_) => {
            debug!(?limit, "handshake timed out");
            shared.set_failed(ConnectError::Timeout(limit));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codec::Role, error::ConnectError};

    /// Every idle connection pays for these futures; `docs/benchmarks.md` has
    /// the history (they were 1,672 bytes inline once).
    #[test]
    fn a_connection_future_stays_small() {
        let shared = Shared::new(Arc::new(Config::default()), String::new());
        let handshake: Handshake = Box::pin(async { Err(ConnectError::Aborted) });
        let inline = std::mem::size_of_val(&connection(shared.clone(), handshake));
        assert!(inline <= 512, "connection future: {inline} bytes");

        let (stream, _peer) = tokio::io::duplex(16);
        let driver = Driver::new(
            Upgraded {
                stream,
                early: bytes::Bytes::new(),
                role: Role::Server,
                compression: None,
            },
            shared,
        );
        let driver_size = std::mem::size_of_val(&driver);
        let running = std::mem::size_of_val(&driver.run());
        assert!(
            running < driver_size + 128,
            "the I/O loop's future ({running} bytes) must hold the driver ({driver_size}) once"
        );
    }

    /// Every unfinished handshake holds this future: with TLS state inline it
    /// was 1,544 bytes and an unfinished handshake cost 5.1 KiB of server
    /// memory (`docs/benchmarks.md`).
    #[tokio::test]
    async fn a_waiting_server_handshake_stays_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let handshake = accept_handshake(stream, Arc::new(Config::default()), None);
        let size = std::mem::size_of_val(&handshake);
        assert!(size <= 1024, "server handshake future: {size} bytes");
    }
}
