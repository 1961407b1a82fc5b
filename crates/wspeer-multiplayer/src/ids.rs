//! Peer ids: Godot's reserved values, and where a server's new ids come from
//! ([`IdGenerator`], shared with `wspeer`'s Godot 3 `WebSocketServer`).

pub use wspeer::IdGenerator;

/// The server's id, on every protocol (Godot's `TARGET_PEER_SERVER`).
pub const SERVER_ID: i32 = 1;

/// The target that reaches every peer (Godot's `TARGET_PEER_BROADCAST`). A
/// negative target `-id` reaches every peer except `id`.
pub const TARGET_PEER_BROADCAST: i32 = 0;
