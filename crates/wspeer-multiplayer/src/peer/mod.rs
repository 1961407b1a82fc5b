//! [`MultiplayerPeer`]: Godot's `WebSocketMultiplayerPeer` for game loops,
//! polled every frame, over wspeer's `WebSocketPeer` and `TcpServer`.

mod client_side;
mod server_side;

use std::{collections::VecDeque, net::IpAddr, time::Duration};

use wspeer::{GetPacketError, TlsOptions, WebSocketPeer};

use self::{client_side::ClientSide, server_side::ServerSide};
use crate::{
    Bytes,
    config::MultiplayerConfig,
    error::{CreateError, DisconnectError, PutPacketError},
    event::{ConnectionStatus, Event, Packet},
    ids::{SERVER_ID, TARGET_PEER_BROADCAST},
    protocol::Protocol,
};

/// What the peer is doing.
#[derive(Debug)]
enum Side {
    Idle,
    // Boxed: both are large (a WebSocketPeer keeps its config inline) and an
    // idle peer need not pay for them.
    Server(Box<ServerSide>),
    Client(Box<ClientSide>),
}

/// Godot's `WebSocketMultiplayerPeer`, for the protocol chosen at creation.
///
/// Call [`poll`](Self::poll) every frame: it does the frame's network work and
/// returns Godot's signals as [`Event`]s, in order. Packets received become
/// available during `poll` and stay put between polls, as in Godot. Sending
/// never blocks.
///
/// ```
/// use std::{thread, time::Duration};
/// use wspeer_multiplayer::{Event, MultiplayerPeer, Protocol};
///
/// let mut server = MultiplayerPeer::new(Protocol::Godot4);
/// server.create_server(0, "127.0.0.1", None).expect("listen");
/// let url = format!("ws://127.0.0.1:{}", server.local_port());
///
/// let mut client = MultiplayerPeer::new(Protocol::Godot4);
/// client.create_client(&url, None).expect("connect");
/// for _ in 0..2000 {
///     server.poll().for_each(drop);
///     if client.poll().any(|e| e == Event::ConnectedToServer) {
///         break;
///     }
///     thread::sleep(Duration::from_millis(5));
/// }
/// assert!(client.unique_id() >= 2);
///
/// client.set_target_peer(1);
/// client.put_packet(b"hello server").expect("send");
/// for _ in 0..2000 {
///     server.poll().for_each(drop);
///     if server.available_packet_count() > 0 {
///         break;
///     }
///     thread::sleep(Duration::from_millis(5));
/// }
/// assert_eq!(server.packet_peer(), Some(client.unique_id()));
/// assert_eq!(&server.get_packet().unwrap()[..], b"hello server");
/// ```
#[derive(Debug)]
pub struct MultiplayerPeer {
    protocol: Protocol,
    config: MultiplayerConfig,
    side: Side,
    target_peer: i32,
    refuse_new_connections: bool,
    events: Vec<Event>,
    packets: VecDeque<Packet>,
}

impl MultiplayerPeer {
    /// A peer that will speak `protocol`, with Godot's default settings.
    pub fn new(protocol: Protocol) -> Self {
        Self::with_config(protocol, MultiplayerConfig::default())
    }

    /// A peer that will speak `protocol`, with `config`.
    pub fn with_config(protocol: Protocol, config: MultiplayerConfig) -> Self {
        Self {
            protocol,
            config,
            side: Side::Idle,
            target_peer: TARGET_PEER_BROADCAST,
            refuse_new_connections: false,
            events: Vec::new(),
            packets: VecDeque::new(),
        }
    }

    /// The protocol it speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Starts serving on `bind_address:port` (`"*"` for every interface; port 0
    /// picks one, see [`local_port`](Self::local_port)), over TLS when `tls` is
    /// given (server options). Connected at once, with id 1.
    pub fn create_server(
        &mut self,
        port: u16,
        bind_address: &str,
        tls: Option<TlsOptions>,
    ) -> Result<(), CreateError> {
        self.check_idle()?;
        let mut server = ServerSide::start(self.protocol, &self.config, port, bind_address, tls)?;
        server
            .machine
            .set_refuse_new_connections(self.refuse_new_connections);
        self.reset(Side::Server(Box::new(server)));
        Ok(())
    }

    /// Starts connecting to a `ws://` or `wss://` URL, with client TLS options
    /// for `wss://` (default: the system's trust store). The peer is
    /// [`ConnectionStatus::Connecting`] until the server gives its id.
    pub fn create_client(&mut self, url: &str, tls: Option<TlsOptions>) -> Result<(), CreateError> {
        self.check_idle()?;
        if tls.as_ref().is_some_and(TlsOptions::is_server) {
            return Err(wspeer::TlsConfigError::WrongSide(
                "a multiplayer client needs client TLS options",
            )
            .into());
        }
        let client = ClientSide::start(self.protocol, &self.config, url, tls)?;
        self.reset(Side::Client(Box::new(client)));
        Ok(())
    }

    fn check_idle(&self) -> Result<(), CreateError> {
        match self.connection_status() {
            ConnectionStatus::Disconnected => Ok(()),
            _ => Err(CreateError::AlreadyInUse),
        }
    }

    fn reset(&mut self, side: Side) {
        self.side = side;
        self.events.clear();
        self.packets.clear();
    }

    /// Does this frame's network work and returns what happened, in order:
    /// Godot's `peer_connected`, `peer_disconnected`, `connected_to_server`,
    /// `connection_failed` and `server_disconnected`. Never blocks.
    pub fn poll(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.clear();
        match &mut self.side {
            Side::Idle => {}
            Side::Server(server) => {
                server.poll(&self.config);
                server.drain(&mut self.events, &mut self.packets);
            }
            Side::Client(client) => {
                client.poll();
                client.drain(&mut self.events, &mut self.packets);
            }
        }
        self.events.drain(..)
    }

    /// Godot's `get_connection_status()`.
    pub fn connection_status(&self) -> ConnectionStatus {
        match &self.side {
            Side::Idle => ConnectionStatus::Disconnected,
            Side::Server(_) => ConnectionStatus::Connected,
            Side::Client(client) => client.machine.status(),
        }
    }

    /// This peer's id: 1 for a server, the id the server gave for a client, 0
    /// before that (Godot's `get_unique_id()`).
    pub fn unique_id(&self) -> i32 {
        match &self.side {
            Side::Idle => 0,
            Side::Server(_) => SERVER_ID,
            Side::Client(client) => client.machine.unique_id(),
        }
    }

    /// Whether this peer is a server (Godot's `is_server()`).
    pub fn is_server(&self) -> bool {
        matches!(self.side, Side::Server(_))
    }

    /// Where `put_packet` sends: a peer id, 0 for every peer, `-id` for every
    /// peer but `id` (Godot's `set_target_peer`). Default 0.
    pub fn set_target_peer(&mut self, id: i32) {
        self.target_peer = id;
    }

    /// The target `put_packet` uses.
    pub fn target_peer(&self) -> i32 {
        self.target_peer
    }

    /// Sends `data` to the target peer (Godot's `put_packet`). A client's
    /// packets to other clients go through the server. Fails at once, never
    /// waits; a broadcast reports only errors of the call itself, not of each
    /// peer (as Godot).
    pub fn put_packet(&mut self, data: &[u8]) -> Result<(), PutPacketError> {
        let target = self.target_peer;
        match &mut self.side {
            Side::Idle => Err(PutPacketError::NotConnected),
            Side::Server(server) => {
                server.machine.put_packet(target, data)?;
                let sent = server.flush();
                if target > 0 { Ok(sent?) } else { Ok(()) }
            }
            Side::Client(client) => {
                client.machine.put_packet(target, data)?;
                Ok(client.flush()?)
            }
        }
    }

    /// Packets waiting (Godot's `get_available_packet_count()`).
    pub fn available_packet_count(&self) -> usize {
        self.packets.len()
    }

    /// The sender of the next packet `get_packet` returns (Godot's
    /// `get_packet_peer()`, called before `get_packet`); `None` when there is
    /// none.
    pub fn packet_peer(&self) -> Option<i32> {
        self.packets.front().map(|p| p.from)
    }

    /// Takes the next packet (Godot's `get_packet()`); see
    /// [`packet_peer`](Self::packet_peer) for its sender.
    pub fn get_packet(&mut self) -> Result<Bytes, GetPacketError> {
        self.get_packet_with_peer().map(|p| p.data)
    }

    /// Takes the next packet with its sender in one call.
    pub fn get_packet_with_peer(&mut self) -> Result<Packet, GetPacketError> {
        self.packets.pop_front().ok_or(GetPacketError::Unavailable)
    }

    /// Disconnects peer `id` (Godot's `disconnect_peer(id, force)`). Its
    /// connection is closed with 1000. Without `force` the peer leaves at a later
    /// poll, with `PeerDisconnected`; with `force` it is gone now, without an
    /// event (its close finishes in the background). A client may only
    /// disconnect 1, its server.
    pub fn disconnect_peer(&mut self, id: i32, force: bool) -> Result<(), DisconnectError> {
        match &mut self.side {
            Side::Idle => Err(DisconnectError::UnknownPeer(id)),
            Side::Server(server) => {
                server.machine.disconnect_peer(id, force)?;
                let _ = server.flush();
                Ok(())
            }
            Side::Client(_) if id != SERVER_ID => Err(DisconnectError::UnknownPeer(id)),
            Side::Client(client) => {
                client.machine.disconnect(force)?;
                let _ = client.flush();
                Ok(())
            }
        }
    }

    /// Godot's `refuse_new_connections`: while on, a server takes no new
    /// connection (they wait in the OS backlog) and drops those finishing their
    /// handshake.
    pub fn set_refuse_new_connections(&mut self, refuse: bool) {
        self.refuse_new_connections = refuse;
        if let Side::Server(server) = &mut self.side {
            server.machine.set_refuse_new_connections(refuse);
        }
    }

    /// Whether new connections are refused.
    pub fn is_refusing_new_connections(&self) -> bool {
        self.refuse_new_connections
    }

    /// The handshake timeout (default 3 s).
    pub fn handshake_timeout(&self) -> Duration {
        self.config.handshake_timeout
    }

    /// Sets the handshake timeout for the next `create_server`/`create_client`.
    pub fn set_handshake_timeout(&mut self, timeout: Duration) {
        self.config.handshake_timeout = timeout;
    }

    /// Whether `server_relay` is on (default on).
    pub fn server_relay(&self) -> bool {
        self.config.server_relay
    }

    /// Sets `server_relay` for the next `create_server`/`create_client` (Godot
    /// refuses to change it while active).
    pub fn set_server_relay(&mut self, enabled: bool) {
        self.config.server_relay = enabled;
    }

    /// Sets the subprotocols (Godot's `supported_protocols`) for the next
    /// `create_server`/`create_client`.
    pub fn set_supported_protocols<I, S>(&mut self, protocols: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.websocket =
            std::mem::take(&mut self.config.websocket).supported_protocols(protocols);
    }

    /// Every setting.
    pub fn config(&self) -> &MultiplayerConfig {
        &self.config
    }

    /// Replaces every setting, for the next `create_server`/`create_client`.
    pub fn set_config(&mut self, config: MultiplayerConfig) {
        self.config = config;
    }

    /// The connection of peer `id` (Godot's `get_peer(id)`): on a server, any
    /// connected client (and, during the poll after it left, a client that
    /// left); on a client, 1.
    pub fn peer(&mut self, id: i32) -> Option<&mut WebSocketPeer> {
        match &mut self.side {
            Side::Idle => None,
            Side::Server(server) => server.peer(id),
            Side::Client(client) => (id == SERVER_ID).then_some(&mut client.ws),
        }
    }

    /// The peers reachable now, in ascending order: on a server its clients; on
    /// a client the server and the clients it announced.
    pub fn peer_ids(&self) -> Vec<i32> {
        match &self.side {
            Side::Idle => Vec::new(),
            Side::Server(server) => server.machine.peer_ids().collect(),
            Side::Client(client) => client.machine.peer_ids().collect(),
        }
    }

    /// The IP address of peer `id` (Godot's `get_peer_address`).
    pub fn peer_address(&mut self, id: i32) -> Option<IpAddr> {
        self.peer(id).and_then(|ws| ws.connected_host())
    }

    /// The port of peer `id`; 0 if unknown (Godot's `get_peer_port`).
    pub fn peer_port(&mut self, id: i32) -> u16 {
        self.peer(id).map_or(0, |ws| ws.connected_port())
    }

    /// The port a server listens on; 0 otherwise.
    pub fn local_port(&self) -> u16 {
        match &self.side {
            Side::Server(server) => server.local_port(),
            _ => 0,
        }
    }

    /// Godot's `close()`: every connection is closed and the server stops
    /// listening, at once and without events. The peer can be created again.
    pub fn close(&mut self) {
        match &mut self.side {
            Side::Idle => {}
            Side::Server(server) => server.close(),
            Side::Client(client) => {
                client.machine.close();
                let _ = client.flush();
            }
        }
        self.reset(Side::Idle);
    }
}
