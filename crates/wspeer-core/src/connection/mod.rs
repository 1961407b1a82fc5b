//! One open WebSocket connection as a state machine, without I/O: bytes in,
//! messages out, frames to transmit, a next timeout, time passed in.
//!
//! It owns every protocol decision: decoding (through [`Decoder`]), answering
//! pings, the heartbeat, the closing handshake both ways, failing with
//! 1002/1007/1008/1009 after delivering what came before, the close timeout,
//! and stopping reads while the application's queue is full. It knows no
//! socket, no runtime and no waker, so every rule is tested on a virtual clock
//! (`tests.rs`). The Tokio driver (`driver.rs`) only moves bytes: from the
//! socket to [`Connection::receive`], from the queue and
//! [`Connection::stage`] to the socket, and sleeps until
//! [`Connection::poll_timeout`].

mod closing;
mod heartbeat;
mod transmit;

#[cfg(test)]
mod tests;

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use bytes::Bytes;

use crate::{
    codec::{
        Role,
        decoder::{Decoder, Event},
        writer::Backlog,
    },
    config::Config,
    deflate::{DeflateParams, MessageDeflater},
    message::Message,
    state::CloseStatus,
};
use closing::Closing;
use heartbeat::{Beat, Heartbeat};

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The closing handshake finished; the status comes from the peer's frame.
    Clean(CloseStatus),
    /// The socket ended or timed out without a complete closing handshake:
    /// the peer's code if its close frame came, else -1.
    Abrupt(CloseStatus),
    /// The application asked for `close(-1)`.
    Aborted,
    /// The peer broke the protocol or a limit: we send this code and drop it.
    Fail(u16, &'static str),
}

/// What one call to [`Connection::receive`] or [`Connection::resume`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    /// Frames decoded (the batch budget counts these).
    pub(crate) events: usize,
    /// The peer's close frame arrived: sends must be refused from now on.
    pub(crate) peer_closed: bool,
}

/// Most pongs waiting for the socket. A ping that arrives when this many are
/// waiting drops the oldest (RFC 6455 §5.5.3 allows answering only the
/// latest), so a ping flood from a peer that never reads costs a few pongs.
pub(crate) const MAX_PONGS: usize = 16;

#[derive(Debug)]
pub(crate) struct Connection {
    role: Role,
    decoder: Decoder,
    /// Bytes read but not decoded yet: the queue was full, or the batch ended.
    unread: Bytes,
    /// A received message waiting for room in the application's queue.
    held: Option<Message>,
    closing: Closing,
    close_timeout: Duration,
    heartbeat: Option<Heartbeat>,
    ping_due: bool,
    /// Answers to pings, sent with the next batch (at a frame boundary).
    pongs: VecDeque<Bytes>,
    backlog: Backlog,
    /// Compresses the messages we send, when permessage-deflate was agreed
    /// (boxed: a connection without it pays one pointer).
    deflater: Option<Box<MessageDeflater>>,
    /// Payload bytes and messages staged since the last flush.
    unflushed: Unflushed,
    need_flush: bool,
}

/// Queue budget that a flush frees: Godot's buffered amount counts bytes
/// until they are written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unflushed {
    pub(crate) bytes: usize,
    pub(crate) count: usize,
}

impl Connection {
    /// A connection whose handshake is done; `early` is what arrived right
    /// behind the handshake, `compression` what it agreed on permessage-deflate.
    pub(crate) fn new(
        role: Role,
        config: &Config,
        early: Bytes,
        compression: Option<&DeflateParams>,
        now: Instant,
    ) -> Self {
        let interval = config.heartbeat_interval;
        let settings = config.permessage_deflate.unwrap_or_default();
        Self {
            role,
            decoder: Decoder::with_compression(role, config.inbound_buffer_size, compression),
            unread: early,
            held: None,
            closing: Closing::default(),
            close_timeout: config.close_timeout,
            heartbeat: (!interval.is_zero()).then(|| Heartbeat::new(interval, now)),
            ping_due: false,
            pongs: VecDeque::new(),
            backlog: Backlog::default(),
            deflater: compression
                .map(|params| Box::new(MessageDeflater::new(role.side(), params, &settings))),
            unflushed: Unflushed::default(),
            need_flush: false,
        }
    }

    // ----- the application -----

    /// The application asked to close with `code`: a close frame after the
    /// queued messages. Ignored once closing has begun.
    pub(crate) fn request_close(&mut self, code: u16, reason: &str) {
        self.closing.request(code, reason);
    }

    /// `close(-1)`: nothing more is sent or delivered.
    pub(crate) fn abort(&mut self) -> End {
        self.held = None;
        self.unread = Bytes::new();
        self.pongs.clear();
        self.ping_due = false;
        End::Aborted
    }

    // ----- bytes in -----

    /// Whether the socket should be read: not while a message waits for room
    /// or bytes wait to be decoded, nor after a close frame or a violation.
    pub(crate) fn reading(&self) -> bool {
        self.held.is_none()
            && self.unread.is_empty()
            && self.closing.failing.is_none()
            && self.closing.received.is_none()
    }

    /// Decodes `input` (just read) and acts on it: messages go to `deliver`,
    /// which gives one back when the application has no room (then decoding
    /// stops and the rest of `input` is kept). At most `budget` frames.
    pub(crate) fn receive(
        &mut self,
        input: &[u8],
        budget: usize,
        deliver: &mut impl FnMut(Message) -> Result<(), Message>,
    ) -> Received {
        let mut got = Received::default();
        let mut rest = input;
        self.consume(&mut rest, budget, deliver, &mut got);
        if !rest.is_empty() && self.closing.received.is_none() && self.closing.failing.is_none() {
            self.unread = Bytes::copy_from_slice(rest);
        }
        got
    }

    /// Goes on where the last call stopped: the held message first, then the
    /// bytes kept.
    pub(crate) fn resume(
        &mut self,
        budget: usize,
        deliver: &mut impl FnMut(Message) -> Result<(), Message>,
    ) -> Received {
        let mut got = Received::default();
        if let Some(message) = self.held.take()
            && let Err(message) = deliver(message)
        {
            self.held = Some(message);
            return got;
        }
        if !self.unread.is_empty() {
            let unread = std::mem::take(&mut self.unread);
            let mut rest = &unread[..];
            self.consume(&mut rest, budget, deliver, &mut got);
            // An empty slice would still hold the whole buffer alive.
            if !rest.is_empty() && self.closing.received.is_none() && self.closing.failing.is_none()
            {
                self.unread = unread.slice(unread.len() - rest.len()..);
            }
        }
        got
    }

    fn consume(
        &mut self,
        input: &mut &[u8],
        budget: usize,
        deliver: &mut impl FnMut(Message) -> Result<(), Message>,
        got: &mut Received,
    ) {
        while !input.is_empty() && got.events < budget {
            let event = match self.decoder.decode(input) {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(violation) => {
                    // RFC 6455 strictness (Autobahn 3.2, 4.1.3, 5.15 ...):
                    // what came before is delivered and may be answered first.
                    tracing::debug!(%violation, "the peer broke the protocol");
                    let (code, reason) = violation.close();
                    self.closing.fail(code, reason);
                    return;
                }
            };
            got.events += 1;
            match event {
                Event::Message(message) => {
                    if let Err(message) = deliver(message) {
                        self.held = Some(message);
                        return;
                    }
                }
                Event::Ping(payload) => {
                    if !self.closing.sent {
                        if self.pongs.len() == MAX_PONGS {
                            self.pongs.pop_front();
                        }
                        self.pongs.push_back(payload);
                    }
                }
                Event::Pong => {
                    if let Some(heartbeat) = &mut self.heartbeat {
                        heartbeat.pong();
                    }
                }
                Event::Close(frame) => {
                    tracing::debug!(?frame, "close frame received");
                    self.closing.peer_closed(frame);
                    got.peer_closed = true;
                    // Nothing after a close frame means anything.
                    return;
                }
            }
        }
    }

    // ----- time -----

    /// Whether [`Self::handle_timeout`] needs the time: a heartbeat runs or a
    /// closing handshake started. Otherwise the clock is not read at all.
    pub(crate) fn wants_clock(&self) -> bool {
        self.heartbeat.is_some() || self.closing.timer_started
    }

    /// When [`Self::handle_timeout`] must be called next (call that first
    /// after anything that may have started a timer).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let heartbeat = self
            .heartbeat
            .as_ref()
            .filter(|_| !self.closing.started())
            .map(Heartbeat::deadline);
        match (heartbeat, self.closing.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the timers: the close timeout ends the connection; the heartbeat
    /// asks for a ping or ends a connection whose peer stopped answering.
    /// Call it after the wake-up's reads, so that a pong among them counts.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<End> {
        if self.closing.timer_started && self.closing.deadline.is_none() {
            self.closing.deadline = Some(now + self.close_timeout);
        }
        if self
            .closing
            .deadline
            .is_some_and(|deadline| now >= deadline)
        {
            tracing::debug!("closing handshake timed out");
            return Some(match self.closing.failing {
                Some((code, reason)) => End::Fail(code, reason),
                None => End::Abrupt(self.closing.abrupt_status()),
            });
        }
        // As in Godot, the heartbeat only runs while the connection is open.
        if self.closing.started() {
            return None;
        }
        let paused = self.held.is_some() || !self.unread.is_empty();
        match self.heartbeat.as_mut()?.tick(now, paused) {
            Beat::Wait => None,
            Beat::Ping => {
                self.ping_due = true;
                None
            }
            Beat::Dead => {
                tracing::debug!("no pong within the heartbeat interval");
                Some(End::Abrupt(CloseStatus::unclean()))
            }
        }
    }

    // ----- the end -----

    /// Whether the connection is over: the closing handshake completed and
    /// everything is written, or a failure may now be sent because the
    /// application has taken what came before it (`app_drained`, asked only
    /// then) and its replies are out.
    pub(crate) fn poll_end(&self, app_drained: impl FnOnce() -> bool) -> Option<End> {
        if !self.all_out() {
            return None;
        }
        if self.closing.sent
            && let Some(status) = &self.closing.received
        {
            return Some(End::Clean(status.clone()));
        }
        match self.closing.failing {
            Some((code, reason)) if self.held.is_none() && app_drained() => {
                Some(End::Fail(code, reason))
            }
            _ => None,
        }
    }

    /// The stream ended or failed: cleanly once the peer's close frame came.
    pub(crate) fn end_of_stream(&self) -> End {
        match &self.closing.received {
            Some(status) => End::Clean(status.clone()),
            None => End::Abrupt(CloseStatus::unclean()),
        }
    }

    /// Bytes kept undecoded and pongs waiting: what a hostile peer could try
    /// to grow.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn kept(&self) -> (usize, usize) {
        (self.unread.len(), self.pongs.len())
    }

    /// After [`End::Fail`]: the failure's close frame is staged next, unless
    /// one was sent already.
    pub(crate) fn send_failure(&mut self) {
        self.closing.send_failure();
    }
}
