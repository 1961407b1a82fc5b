//! What both servers do after every input to the state machine: carry what it
//! queued to the connections, and close what it asked to close.
//! [`MultiplayerPeer`](crate::MultiplayerPeer) flushes to `WebSocketPeer`s,
//! [`MultiplayerServer`](crate::MultiplayerServer) to `wspeer-core` senders.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::proto::Server;

/// A server's open connection, as far as flushing needs it.
pub(crate) trait Link {
    /// Queues one binary message, without waiting.
    fn send(&mut self, data: Bytes) -> Result<(), wspeer::SendError>;
    /// Starts a normal close (1000).
    fn close(&mut self);
}

/// Sends what `machine` queued over `links` and closes what it asked to close.
/// A link whose peer the machine already forgot (a forced disconnect) leaves
/// `links` at once; its close finishes in the background. Returns the outcome
/// of the last send.
pub(crate) fn flush<L: Link>(
    machine: &mut Server,
    links: &mut BTreeMap<i32, L>,
) -> Result<(), wspeer::SendError> {
    let mut result = Ok(());
    while let Some(transmit) = machine.poll_transmit() {
        let Some(link) = links.get_mut(&transmit.to) else {
            continue;
        };
        result = link.send(transmit.data);
        if let Err(error) = &result {
            // As in Godot, a message a peer cannot take is lost.
            tracing::warn!(peer = transmit.to, %error, "dropped a message to a slow peer");
        }
    }
    while let Some(id) = machine.poll_close() {
        if let Some(link) = links.get_mut(&id) {
            link.close();
        }
        if !machine.has_peer(id) {
            links.remove(&id);
        }
    }
    result
}
