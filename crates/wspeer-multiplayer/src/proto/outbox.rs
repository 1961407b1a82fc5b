//! The outputs a state machine has queued for its driver: messages to send,
//! connections to close, events and packets for the application.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::event::{Event, Packet};

/// One WebSocket message to send, binary, on the connection of peer `to` (a
/// client sends everything to 1, its server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The peer whose connection carries it.
    pub to: i32,
    /// The whole message, headers included.
    pub data: Bytes,
}

/// Everything a state machine produced and its driver has not taken yet.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    transmits: VecDeque<Transmit>,
    closes: VecDeque<i32>,
    events: VecDeque<Event>,
    packets: VecDeque<Packet>,
}

impl Outbox {
    pub(crate) fn send(&mut self, to: i32, data: impl Into<Bytes>) {
        self.transmits.push_back(Transmit {
            to,
            data: data.into(),
        });
    }

    pub(crate) fn close(&mut self, peer: i32) {
        self.closes.push_back(peer);
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.events.push_back(event);
    }

    pub(crate) fn packet(&mut self, from: i32, data: Bytes) {
        self.packets.push_back(Packet { from, data });
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub(crate) fn poll_close(&mut self) -> Option<i32> {
        self.closes.pop_front()
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(crate) fn poll_packet(&mut self) -> Option<Packet> {
        self.packets.pop_front()
    }

    /// Forgets what was queued and not taken (the peer closed).
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// Whether a broadcast to `target` (0, or `-id` for everyone but `id`) sent by
/// `sender` reaches `peer`: never the sender, never the excluded peer.
pub(crate) fn broadcast_reaches(target: i32, sender: i32, peer: i32) -> bool {
    // `wrapping_neg`: -i32::MIN does not exist; i32::MIN excludes no real peer.
    peer != sender && (target >= 0 || peer != target.wrapping_neg())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert!(broadcast_reaches(0, 1, 5));
        assert!(!broadcast_reaches(0, 5, 5));
        assert!(!broadcast_reaches(-5, 1, 5));
        assert!(broadcast_reaches(-5, 1, 6));
        assert!(!broadcast_reaches(-5, 6, 6));
        assert!(broadcast_reaches(i32::MIN, 1, 6));
    }
}
