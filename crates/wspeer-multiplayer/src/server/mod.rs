//! [`MultiplayerServer`]: the same protocols as an async server on
//! `wspeer-core`'s [`Listener`], for dedicated servers that are not game loops.
//!
//! One task accepts connections and one task per connection reads it; they
//! feed the state machine under one lock, and the application takes what
//! happened with [`MultiplayerServer::recv`]. Sending never waits: messages go
//! into each connection's bounded queue at once.

mod shared;

use std::{io, net::SocketAddr, sync::Arc};

use tokio::net::ToSocketAddrs;
use wspeer_core::Listener;

pub use self::shared::MAX_QUEUED_EVENTS;
use self::shared::Shared;
use crate::{
    config::MultiplayerConfig,
    error::{DisconnectError, PutPacketError},
    event::{Event, Packet},
    proto::Server,
    protocol::Protocol,
};

/// What happened on an async server, in order per peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client joined with this id.
    PeerConnected(i32),
    /// That client left.
    PeerDisconnected(i32),
    /// A packet for the server.
    Packet(Packet),
}

impl ServerEvent {
    /// The event a server's state machine reports, as a server event (it
    /// reports nothing but joins and leaves).
    fn from_event(event: Event) -> Option<Self> {
        match event {
            Event::PeerConnected(id) => Some(ServerEvent::PeerConnected(id)),
            Event::PeerDisconnected(id) => Some(ServerEvent::PeerDisconnected(id)),
            _ => None,
        }
    }
}

/// A Godot multiplayer server on Tokio (the mini-redis shape: bind, then take
/// events; tests bind port 0).
///
/// ```
/// use wspeer_multiplayer::{MultiplayerConfig, MultiplayerServer, Protocol, ServerEvent};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut server =
///     MultiplayerServer::bind("127.0.0.1:0", Protocol::Godot3, MultiplayerConfig::default())
///         .await?;
/// println!("serving ws://{}", server.local_addr());
/// # let handle = server.handle();
/// # tokio::spawn(async move { tokio::time::sleep(std::time::Duration::from_millis(50)).await; handle.close() });
/// while let Some(event) = server.recv().await {
///     match event {
///         ServerEvent::PeerConnected(id) => println!("{id} joined"),
///         ServerEvent::PeerDisconnected(id) => println!("{id} left"),
///         // Echo to everyone but the sender.
///         ServerEvent::Packet(p) => { let _ = server.put_packet(-p.from, &p.data); }
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
///
/// Dropping it closes every connection.
#[derive(Debug)]
pub struct MultiplayerServer {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

/// A cloneable handle on a [`MultiplayerServer`], for sending from other tasks.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl MultiplayerServer {
    /// Binds to `addr` (`"127.0.0.1:0"` picks a free port) and starts serving
    /// `protocol`. The WebSocket settings come from `config.websocket`, with
    /// `config.handshake_timeout` for the handshakes.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        protocol: Protocol,
        config: MultiplayerConfig,
    ) -> io::Result<Self> {
        let listener = Listener::bind(addr, config.connection()).await?;
        Self::start(listener, protocol, &config)
    }

    /// Serves `protocol` on a listener the caller made (its config is used for
    /// the connections; `config` gives `server_relay` and the Godot 4 payload).
    /// Must be called inside a Tokio runtime.
    pub fn start(
        listener: Listener,
        protocol: Protocol,
        config: &MultiplayerConfig,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let mut machine = Server::new(protocol);
        machine.set_server_relay(config.server_relay);
        machine.set_godot4_payload(config.godot4_payload);
        let shared = Shared::new(machine);
        shared.start_accepting(listener);
        Ok(Self { shared, local_addr })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next event: a peer joined or left, or a packet for the server.
    /// `None` once the server is closed.
    pub async fn recv(&mut self) -> Option<ServerEvent> {
        self.shared.next_event().await
    }

    /// A handle for sending from other tasks.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: self.shared.clone(),
        }
    }

    /// See [`ServerHandle::put_packet`].
    pub fn put_packet(&self, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
        put_packet(&self.shared, target, data)
    }

    /// See [`ServerHandle::disconnect_peer`].
    pub fn disconnect_peer(&self, id: i32, force: bool) -> Result<(), DisconnectError> {
        disconnect_peer(&self.shared, id, force)
    }

    /// The connected peers, in ascending order.
    pub fn peer_ids(&self) -> Vec<i32> {
        self.shared.lock().machine.peer_ids().collect()
    }

    /// Closes every connection and stops listening; `recv` then returns `None`.
    pub fn close(&self) {
        self.shared.shutdown();
    }
}

impl Drop for MultiplayerServer {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl ServerHandle {
    /// Sends `data` from the server to `target`: a peer, 0 for everyone, `-id`
    /// for everyone but `id`. Never waits; a message a peer's full queue cannot
    /// take is lost (logged), as in Godot, and reported only for a single
    /// target.
    pub fn put_packet(&self, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
        put_packet(&self.shared, target, data)
    }

    /// Disconnects peer `id` (see `MultiplayerPeer::disconnect_peer`).
    pub fn disconnect_peer(&self, id: i32, force: bool) -> Result<(), DisconnectError> {
        disconnect_peer(&self.shared, id, force)
    }

    /// Godot's `refuse_new_connections`: connections that open meanwhile are
    /// closed at once.
    pub fn set_refuse_new_connections(&self, refuse: bool) {
        self.shared
            .lock()
            .machine
            .set_refuse_new_connections(refuse);
    }

    /// The connected peers, in ascending order.
    pub fn peer_ids(&self) -> Vec<i32> {
        self.shared.lock().machine.peer_ids().collect()
    }

    /// The remote address of peer `id`.
    pub fn peer_addr(&self, id: i32) -> Option<SocketAddr> {
        self.shared.peer_addr(id)
    }

    /// Closes the server (as dropping the [`MultiplayerServer`] does).
    pub fn close(&self) {
        self.shared.shutdown();
    }
}

fn put_packet(shared: &Shared, target: i32, data: &[u8]) -> Result<(), PutPacketError> {
    let mut state = shared.lock();
    state.machine.put_packet(target, data)?;
    let sent = shared.flush(&mut state);
    if target > 0 { Ok(sent?) } else { Ok(()) }
}

fn disconnect_peer(shared: &Shared, id: i32, force: bool) -> Result<(), DisconnectError> {
    let mut state = shared.lock();
    state.machine.disconnect_peer(id, force)?;
    let _ = shared.flush(&mut state);
    Ok(())
}
