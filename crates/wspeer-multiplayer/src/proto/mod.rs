//! The protocols without I/O: codecs for both wire formats and the server and
//! client state machines, in the style of `quinn-proto`. Nothing here touches
//! a socket, a runtime or the clock: inputs come through `handle_*` (with
//! `now` where time matters), outputs leave through `poll_*`.
//!
//! [`MultiplayerPeer`](crate::MultiplayerPeer) and
//! [`MultiplayerServer`](crate::MultiplayerServer) drive these over wspeer's
//! connections; another transport can drive them the same way.
//!
//! ```
//! use std::time::Instant;
//! use wspeer_multiplayer::{proto::{Client, Server}, Event, Protocol};
//!
//! let now = Instant::now();
//! let mut server = Server::new(Protocol::Godot4);
//! let mut client = Client::new(Protocol::Godot4, now);
//!
//! // A connection opened: the server picks an id and sends it first.
//! let id = server.handle_open().unwrap();
//! while let Some(t) = server.poll_transmit() {
//!     assert_eq!(t.to, id);
//!     client.handle_message(t.data, now);
//! }
//! assert_eq!(client.unique_id(), id);
//! assert_eq!(client.poll_event(), Some(Event::ConnectedToServer));
//!
//! // The client sends to the server (1).
//! client.put_packet(1, b"hello").unwrap();
//! let t = client.poll_transmit().unwrap();
//! server.handle_message(id, t.data);
//! let packet = server.poll_packet().unwrap();
//! assert_eq!((packet.from, &packet.data[..]), (id, &b"hello"[..]));
//! ```

mod client;
pub mod godot3;
pub mod godot4;
mod outbox;
mod server;

pub use client::{Client, DEFAULT_HANDSHAKE_TIMEOUT};
pub use outbox::Transmit;
pub use server::Server;
