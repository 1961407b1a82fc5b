//! The two wire protocols, chosen explicitly, and how Godot 4 payloads map to
//! `put_packet`/`get_packet`.

/// Which Godot's multiplayer wire protocol to speak. Godot 3 and Godot 4 cannot
/// talk to each other, so the choice is explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Godot 4's `WebSocketMultiplayerPeer` with `SceneMultiplayer` on top: the
    /// server's first message is the client's id (4 bytes); peers are announced
    /// and relayed with `SYS` packets (`[7][cmd][i32 id]…`).
    Godot4,
    /// Godot 3's `WebSocketServer`/`WebSocketClient` with the multiplayer API on:
    /// every message starts with a 9-byte header (type, from, to).
    Godot3,
}

/// What `put_packet` and `get_packet` carry on the Godot 4 protocol.
///
/// Godot 4 itself puts `SceneMultiplayer` packets on the wire: RPCs, spawns,
/// synchronisation, and raw bytes (`multiplayer.send_bytes`). wspeer does not
/// speak Godot's RPC encoding; it exchanges raw bytes with Godot's
/// `send_bytes`/`peer_packet`, or hands the `SceneMultiplayer` packets over as
/// they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Godot4Payload {
    /// `put_packet(data)` is Godot's `multiplayer.send_bytes(data)` (a
    /// `NETWORK_COMMAND_RAW` packet), and `get_packet` returns what Godot sent
    /// with `send_bytes`, as its `peer_packet` signal would. Other
    /// `SceneMultiplayer` packets (RPCs, replication) addressed to this peer are
    /// dropped with a debug log; the server still relays them between clients.
    #[default]
    SendBytes,
    /// `put_packet` and `get_packet` carry whole `SceneMultiplayer` packets
    /// (byte 0 is the command); only the `SYS` layer is handled here.
    Raw,
}
