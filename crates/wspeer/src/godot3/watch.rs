//! Turns what one poll of a `WebSocketPeer` changed into Godot 3's signals.

use wspeer_core::ReadyState;

use crate::WebSocketPeer;

/// One thing a poll revealed about a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The handshake finished.
    Opened,
    /// One message arrived (once per message, as Godot's `data_received`).
    Data,
    /// The remote started the close with this code and reason.
    CloseRequest { code: i32, reason: String },
    /// The connection is over; `opened` tells a failed attempt from a close.
    Closed { was_clean: bool, opened: bool },
}

/// Polls `peer` and reports, in order, what changed since the last poll.
pub(crate) fn poll(peer: &mut WebSocketPeer, mut report: impl FnMut(Change)) {
    let before_state = peer.ready_state();
    let before_available = peer.available_packet_count();
    peer.poll();
    let state = peer.ready_state();
    if before_state == ReadyState::Connecting && state != ReadyState::Connecting {
        if state == ReadyState::Closed {
            report(Change::Closed {
                was_clean: false,
                opened: false,
            });
            return;
        }
        report(Change::Opened);
    }
    for _ in before_available..peer.available_packet_count() {
        report(Change::Data);
    }
    if state == ReadyState::Closed && before_state != ReadyState::Closed {
        let was_clean = peer.close_code() != -1;
        if was_clean && !peer.closed_locally() {
            // Godot 3 sends its reasons with a trailing NUL (its UTF-8 buffer's
            // terminator); the Godot 3 API shows the reason without it.
            let reason = peer.close_reason();
            report(Change::CloseRequest {
                code: peer.close_code(),
                reason: reason.strip_suffix('\0').unwrap_or(reason).to_owned(),
            });
        }
        report(Change::Closed {
            was_clean,
            opened: true,
        });
    }
}
