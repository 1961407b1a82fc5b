//! What a multiplayer peer reports: Godot's signals as events, the packets it
//! received, and its connection status.

use bytes::Bytes;

/// One of Godot's multiplayer signals, returned by `poll()` in the order Godot
/// emits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `peer_connected(id)`: on a server, a client joined; on a client, the
    /// server (id 1, once connected) or another client became reachable.
    PeerConnected(i32),
    /// `peer_disconnected(id)`: that peer is gone.
    PeerDisconnected(i32),
    /// `connected_to_server` (Godot 3: `connection_succeeded`): this client has
    /// its id and may send.
    ConnectedToServer,
    /// `connection_failed`: the client never got connected (refused, handshake
    /// failed, no id within the handshake timeout, an invalid id).
    ConnectionFailed,
    /// `server_disconnected`: a connected client lost its server. Every other
    /// peer is gone with it.
    ServerDisconnected,
}

/// A packet received for the application, and the peer that sent it (Godot's
/// `get_packet_peer()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The id of the peer that sent it: 1 for the server, or the client that a
    /// server relayed it for.
    pub from: i32,
    /// The payload, without any protocol header.
    pub data: Bytes,
}

/// Godot's `MultiplayerPeer.ConnectionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionStatus {
    /// Neither serving nor connected.
    #[default]
    Disconnected,
    /// A client waiting for its connection and its id.
    Connecting,
    /// A server that is listening, or a client that has its id.
    Connected,
}
