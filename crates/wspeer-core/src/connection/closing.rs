//! The closing handshake (RFC 6455 §7), both ways, and failing after a
//! violation: which close frame to send, when, and how the connection ends.

use std::time::Instant;

use crate::state::CloseStatus;

/// Where the closing handshake stands.
#[derive(Debug, Default)]
pub(super) struct Closing {
    /// The payload of a close frame to send once the outbound queue is empty:
    /// one the application asked for, or the echo of the peer's.
    pub(super) pending: Option<Vec<u8>>,
    pub(super) sent: bool,
    /// The peer's close frame, as a status.
    pub(super) received: Option<CloseStatus>,
    /// The peer broke the protocol: the close we send once the application
    /// has taken (and answered) what arrived before the violation.
    pub(super) failing: Option<(u16, &'static str)>,
    /// A closing handshake started: `close_timeout` runs from the next look
    /// at the clock (the machine reads the time only when it needs to).
    pub(super) timer_started: bool,
    /// The end of `close_timeout`, once the clock was read.
    pub(super) deadline: Option<Instant>,
}

impl Closing {
    /// Whether a closing handshake (or a failure) has begun.
    pub(super) fn started(&self) -> bool {
        self.sent || self.received.is_some() || self.pending.is_some() || self.failing.is_some()
    }

    /// The application asked to close: a frame after the queued messages.
    /// Ignored once closing has begun.
    pub(super) fn request(&mut self, code: u16, reason: &str) {
        if self.started() {
            return;
        }
        self.pending = Some(close_payload(code, reason));
        self.timer_started = true;
    }

    /// The peer's close frame arrived: echo its code, as RFC 6455 §5.5.1
    /// suggests, after the messages accepted before it. Replaces a close the
    /// application asked for and we have not sent yet.
    pub(super) fn peer_closed(&mut self, frame: Option<(u16, String)>) {
        if !self.sent {
            self.pending = Some(match &frame {
                Some((code, reason)) => close_payload(*code, reason),
                None => Vec::new(),
            });
        }
        self.received = Some(match frame {
            Some((code, reason)) => CloseStatus {
                code: i32::from(code),
                reason,
            },
            // RFC 6455 §7.1.5: no status code in the frame is 1005.
            None => CloseStatus {
                code: 1005,
                reason: String::new(),
            },
        });
        self.timer_started = true;
    }

    /// The peer broke the protocol: its code is the one to send, not a close
    /// the application asked for and we have not sent yet.
    pub(super) fn fail(&mut self, code: u16, reason: &'static str) {
        self.failing = Some((code, reason));
        self.pending = None;
        self.timer_started = true;
    }

    /// The failure's close frame goes out now (once, if none was sent).
    pub(super) fn send_failure(&mut self) {
        if let Some((code, reason)) = self.failing
            && !self.sent
        {
            self.pending = Some(close_payload(code, reason));
        }
    }

    /// The close frame to put in a batch whose messages emptied the queue.
    pub(super) fn take_frame(&mut self) -> Option<Vec<u8>> {
        let payload = self.pending.take()?;
        self.sent = true;
        Some(payload)
    }

    /// How the connection ends when it cannot finish its closing handshake:
    /// RFC 6455 §7.1.5 makes the close code the one in the first close frame
    /// received, if any.
    pub(super) fn abrupt_status(&self) -> CloseStatus {
        self.received.clone().unwrap_or_else(CloseStatus::unclean)
    }
}

/// The payload of a close frame: the code, then the reason.
pub(super) fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    payload
}
