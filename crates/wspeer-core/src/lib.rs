//! The async core of wspeer: WebSocket connections on Tokio with Godot's bounded
//! queues.
//!
//! Each connection is one task that owns its socket and feeds two bounded queues
//! with Godot's limits and meanings (`max_queued_packets`, `inbound_buffer_size`,
//! `outbound_buffer_size`): a full inbound queue stops reading the socket (TCP
//! backpressure, nothing dropped), an oversized message closes with 1009, and a
//! send that does not fit fails at once and gives the message back.
//!
//! This crate is async only; the poll facade for game loops is the `wspeer` crate.
//! It is a Tokio library, not a runtime-agnostic one, and says so in its API:
//! Tokio's types appear in public signatures (`TcpStream` in
//! [`accept_stream`], `ToSocketAddrs` in [`Listener::bind`]) on purpose. Any
//! other byte stream runs through [`accept_on`], [`connect_on`] and
//! [`from_upgraded`]; axum is the `wspeer-axum` crate's.
//! TLS (`wss://`) comes through rustls with its `ring` provider; see [`TlsOptions`].
//! permessage-deflate (RFC 7692) is there, off unless
//! [`Config::permessage_deflate`] is set; see [`DeflateConfig`].
//!
//! ```
//! use wspeer_core::{Config, Listener, Message};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut listener = Listener::bind("127.0.0.1:0", Config::default()).await?;
//! let url = format!("ws://{}/echo", listener.local_addr()?);
//! tokio::spawn(async move {
//!     let mut ws = listener.accept().await;
//!     while let Some(message) = ws.recv().await {
//!         let _ = ws.send(message).await;
//!     }
//! });
//!
//! let mut client = wspeer_core::connect(&url).await?;
//! client.send(Message::text("hello")).await?;
//! let echo = client.recv().await.expect("an echo");
//! assert_eq!(echo.as_text(), Some("hello"));
//! client.close(1000, "done")?;
//! assert_eq!(client.closed().await.code, 1000);
//! # Ok(())
//! # }
//! ```

// Network input must never panic the process: no unwrap in library code.
#![warn(clippy::unwrap_used)]

mod activity;
mod client;
mod client_handshake;
mod codec;
mod config;
mod connection;
pub mod deflate;
mod driver;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handle;
mod handler;
mod handshake_limiter;
mod http_head;
mod http_service;
mod listener;
mod memory_trim;
mod message;
mod origin;
mod over_stream;
mod server_handshake;
mod shared;
mod state;
mod stream;
mod stream_sink;
mod task;
mod tls;
mod tls_handshake;
mod transport;
mod ws_url;

use std::sync::Arc;

pub use activity::ActivitySignal;
pub use bytes::Bytes;
pub use config::{Config, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_QUEUED_PACKETS};
pub use deflate::{CompressionTotals, DeflateConfig, DeflateParams, compression_totals};
pub use error::{
    CloseError, ConfigError, ConnectError, ExtensionError, SendError, Side, TlsConfigError,
    TlsError, TryRecvError,
};
pub use handle::{Receiver, Sender, SnapshotView, TaskWake, WebSocket};
pub use handler::Outbox;
pub use handshake_limiter::{HandshakeLimiter, HandshakeSlot};
pub use http_service::{Admission, HttpRequest, HttpResponse, HttpService, HttpServiceRef};
pub use listener::{LISTEN_BACKLOG, Listener, bind_tcp};
pub use memory_trim::trim_memory_periodically;
pub use message::{Message, MessageKind};
pub use origin::OriginPolicy;
pub use over_stream::{
    Negotiated, client_on as start_client_on, server_on as start_server_on,
    upgraded as start_upgraded,
};
pub use server_handshake::{UpgradeAccepted, UpgradeRefused, check_upgrade};
pub use state::{CloseStatus, ConnectionInfo, ReadyState, UNCLEAN_CLOSE_CODE};
pub use task::{
    ConnectionTask, client as start_client, server as start_server,
    server_in_slot as start_server_in_slot,
};
pub use tls::TlsOptions;
pub use ws_url::{Scheme, WsUrl};

/// Connects to a `ws://` or `wss://` URL with the default [`Config`] (for `wss://`,
/// certificates checked against the system's trust store) and waits until the
/// connection is open.
pub async fn connect(url: &str) -> Result<WebSocket, ConnectError> {
    connect_with(url, Config::default()).await
}

/// Connects to a `ws://` or `wss://` URL with `config` (its `tls` options for
/// `wss://`) and waits until the connection is open.
/// Must be called inside a Tokio runtime; the connection runs in its own task.
pub async fn connect_with(
    url: &str,
    config: impl Into<Arc<Config>>,
) -> Result<WebSocket, ConnectError> {
    let (ws, task) = start_client(url, config)?;
    tokio::spawn(task);
    ws.opened().await?;
    Ok(ws)
}

/// Upgrades a TCP connection that was already accepted, as Godot's
/// `accept_stream`. Returns at once with the connection still in its handshake;
/// await [`WebSocket::opened`] to know how it went. Must be called inside a Tokio
/// runtime.
pub fn accept_stream(
    stream: tokio::net::TcpStream,
    config: impl Into<Arc<Config>>,
) -> Result<WebSocket, ConnectError> {
    let (ws, task) = start_server(stream, config)?;
    tokio::spawn(task);
    Ok(ws)
}

/// Connects to `url` over `stream`, a connection the caller opened (through
/// an HTTP `CONNECT` or SOCKS proxy, say), and waits until it is open. For
/// `wss://`, TLS runs over `stream` first. Must be called inside a Tokio
/// runtime.
pub async fn connect_on<S>(
    stream: S,
    url: &str,
    config: impl Into<Arc<Config>>,
) -> Result<WebSocket, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (ws, task) = start_client_on(stream, url, config)?;
    tokio::spawn(task);
    ws.opened().await?;
    Ok(ws)
}

/// Serves one WebSocket over `stream` (wspeer reads the upgrade request and
/// answers it). Returns at once, still in its handshake. Must be called inside
/// a Tokio runtime.
pub fn accept_on<S>(stream: S, config: impl Into<Arc<Config>>) -> Result<WebSocket, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (ws, task) = start_server_on(stream, config)?;
    tokio::spawn(task);
    Ok(ws)
}

/// A WebSocket over a `stream` already upgraded by someone else (an HTTP
/// server), as `side`, with what its handshake agreed (a `&str`: that
/// subprotocol, empty for none, and no compression). Must be
/// called inside a Tokio runtime.
pub fn from_upgraded<S>(
    stream: S,
    side: Side,
    negotiated: impl Into<Negotiated>,
    config: impl Into<Arc<Config>>,
) -> Result<WebSocket, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (ws, task) = start_upgraded(stream, side, negotiated, config)?;
    tokio::spawn(task);
    Ok(ws)
}

/// A connected pair in memory, `(server, client)`, over `tokio::io::duplex`:
/// the real handshake, codec, queues and limits, no socket. For tests and
/// simulations. Must be called inside a Tokio runtime.
pub async fn pair(
    server_config: impl Into<Arc<Config>>,
    client_config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, WebSocket), ConnectError> {
    // Room for a default-sized message and its header in either direction.
    let (server_end, client_end) = tokio::io::duplex(64 * 1024 + 16);
    let server = accept_on(server_end, server_config)?;
    let client = connect_on(client_end, "ws://localhost/", client_config).await?;
    server.opened().await?;
    Ok((server, client))
}
