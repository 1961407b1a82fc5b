//! Godot 4's `WebSocketPeer` and `TCPServer` for Rust game loops.
//!
//! A game loop calls [`WebSocketPeer::poll`] every frame; the network I/O runs on
//! a background Tokio runtime (see [`runtime`]), so `poll`, `get_packet` and
//! `send` never block. A Godot user should recognise every line: the names are
//! Rust's (`ready_state()` for `get_ready_state()`), the meaning is Godot's, and
//! `docs/godot-mapping.md` maps every member.
//!
//! This crate is the synchronous facade; async programs use `wspeer-core`
//! directly. TLS (`wss://`) uses [`TlsOptions`], Godot's `TLSOptions`.
//! It runs on Tokio and says so: a program that already has a runtime hands
//! its Tokio `Handle` to [`runtime::use_handle`], a Tokio type in a public
//! signature on purpose. The streams a [`TcpServer`] hands out are this
//! crate's own ([`StreamPeerTcp`], Godot's `StreamPeerTCP`).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wspeer::{ReadyState, TcpServer, WebSocketPeer};
//!
//! // A server and a client, both polled from one loop.
//! let mut server = TcpServer::new();
//! server.listen(0, "127.0.0.1").expect("listen");
//! let url = format!("ws://127.0.0.1:{}", server.local_port());
//!
//! let mut client = WebSocketPeer::new();
//! client.connect_to_url(&url).expect("connect");
//! let mut served: Option<WebSocketPeer> = None;
//! let mut sent = false;
//!
//! let deadline = Instant::now() + Duration::from_secs(10);
//! while Instant::now() < deadline {
//!     if let Some(stream) = server.take_connection() {
//!         let mut peer = WebSocketPeer::new();
//!         peer.accept_stream(stream).expect("accept");
//!         served = Some(peer);
//!     }
//!     if let Some(peer) = &mut served {
//!         peer.poll();
//!         while let Ok(packet) = peer.get_packet() {
//!             peer.send(&packet, wspeer::WriteMode::Text).expect("echo");
//!         }
//!     }
//!     client.poll();
//!     if client.ready_state() == ReadyState::Open && !sent {
//!         client.send_text("Test packet").expect("send");
//!         sent = true;
//!     }
//!     if client.available_packet_count() > 0 {
//!         let packet = client.get_packet().expect("packet");
//!         assert!(client.was_string_packet());
//!         assert_eq!(&packet[..], b"Test packet");
//!         break;
//!     }
//!     std::thread::sleep(Duration::from_millis(5)); // one frame
//! }
//! assert!(sent);
//! ```

// Network input must never panic the process: no unwrap in library code.
#![warn(clippy::unwrap_used)]

mod error;
pub mod godot3;
mod peer;
mod peer_ids;
mod put_var;
pub mod runtime;
mod tcp_server;
mod this_thread;

pub use error::{GetPacketError, ListenError, PeerError, SendError};
pub use peer::{WebSocketPeer, WriteMode};
pub use peer_ids::IdGenerator;
pub use put_var::{GetVarError, PutVarError};
pub use tcp_server::{AcceptedStream, StreamPeerTcp, StreamPeerTls, TcpServer};
pub use wspeer_core::{
    Bytes, CloseError, CloseStatus, Config, ConnectError, Message, MessageKind, ReadyState,
    TlsConfigError, TlsError, TlsOptions,
};
/// Godot's Variant encoding, for `put_var` / `get_var`.
pub use wspeer_variant as variant;
