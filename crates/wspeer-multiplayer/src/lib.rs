//! Godot's `WebSocketMultiplayerPeer` for Rust: multiplayer servers and clients
//! that speak Godot's own wire protocols, so that Godot games can use a Rust
//! server and Rust programs can join Godot servers.
//!
//! - [`MultiplayerPeer`]: the poll facade for game loops (`create_server`,
//!   `create_client`, `poll()` every frame, `put_packet`/`get_packet`), over
//!   `wspeer`'s `WebSocketPeer` and `TcpServer`.
//! - [`MultiplayerServer`]: the same server as an async API on `wspeer-core`'s
//!   `Listener`, for dedicated servers.
//! - [`proto`]: the codecs and state machines without I/O, for other drivers.
//!
//! The protocol is chosen explicitly, because Godot 3 and Godot 4 cannot talk
//! to each other: [`Protocol::Godot4`] (`WebSocketMultiplayerPeer` with
//! `SceneMultiplayer`'s peer announcements and relay) or [`Protocol::Godot3`]
//! (the 9-byte header). Ids are random in `[2, 2^31 − 1]` as Godot draws them,
//! but never collide. A misbehaving peer's packets are dropped and logged
//! ([`Violation`]); nothing it sends can panic.
//!
//! What it does not do: Godot's RPCs, spawning and synchronisation
//! (`SceneMultiplayer`'s own encoding); on Godot 4 it exchanges raw bytes with
//! `multiplayer.send_bytes`/`peer_packet` ([`Godot4Payload`]), and a server
//! relays everything else between Godot clients untouched. Nor
//! `SceneMultiplayer`'s authentication. `docs/multiplayer.md` has the GDScript
//! side and every difference from Godot.
//!
//! ```
//! use std::{thread, time::Duration};
//! use wspeer_multiplayer::{MultiplayerPeer, Protocol};
//!
//! /// One frame for every peer, until `done` (at most 10 s).
//! fn frames(peers: &mut [MultiplayerPeer], done: impl Fn(&[MultiplayerPeer]) -> bool) {
//!     for _ in 0..2000 {
//!         for peer in peers.iter_mut() {
//!             for event in peer.poll() {
//!                 println!("{event:?}");
//!             }
//!         }
//!         if done(peers) {
//!             return;
//!         }
//!         thread::sleep(Duration::from_millis(5));
//!     }
//!     panic!("timed out");
//! }
//!
//! // A Godot 3 game: a server and two clients, polled from one loop.
//! let mut server = MultiplayerPeer::new(Protocol::Godot3);
//! server.create_server(0, "127.0.0.1", None)?;
//! let url = format!("ws://127.0.0.1:{}", server.local_port());
//! let mut peers = [server, MultiplayerPeer::new(Protocol::Godot3), MultiplayerPeer::new(Protocol::Godot3)];
//! peers[1].create_client(&url, None)?;
//! peers[2].create_client(&url, None)?;
//! // Each client knows the server and the other client.
//! frames(&mut peers, |p| p[1].peer_ids().len() == 2 && p[2].peer_ids().len() == 2);
//!
//! // Client 1 sends to everyone but the server (-1); the server relays it.
//! peers[1].set_target_peer(-1);
//! peers[1].put_packet(b"hello")?;
//! frames(&mut peers, |p| p[2].available_packet_count() == 1);
//! assert_eq!(peers[2].packet_peer(), Some(peers[1].unique_id()));
//! assert_eq!(&peers[2].get_packet()?[..], b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Network input must never panic the process: no unwrap in library code.
#![warn(clippy::unwrap_used)]

mod config;
mod error;
mod event;
mod flush;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
mod peer;
pub mod proto;
mod protocol;
mod put_var;
mod server;
#[cfg(feature = "sim")]
pub mod sim;
mod violation;

pub use bytes::Bytes;
pub use config::MultiplayerConfig;
pub use error::{CreateError, DisconnectError, OpenError, PutPacketError};
pub use event::{ConnectionStatus, Event, Packet};
pub use ids::{IdGenerator, SERVER_ID, TARGET_PEER_BROADCAST};
pub use peer::MultiplayerPeer;
pub use protocol::{Godot4Payload, Protocol};
pub use put_var::{GetVarError, PutVarError};
pub use server::{MAX_QUEUED_EVENTS, MultiplayerServer, ServerEvent, ServerHandle};
pub use violation::Violation;
pub use wspeer::{GetPacketError, TlsOptions, WebSocketPeer};
