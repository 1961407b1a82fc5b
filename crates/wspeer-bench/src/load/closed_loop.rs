//! One connection of the load, without I/O: D messages in flight, each echo
//! checked and replaced by a new message until the window ends. The event loop
//! hands it the bytes it read and writes the bytes it asks for.

use std::{collections::VecDeque, time::Instant};

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::frame::Codec;

/// The measured window, shared by every connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Echoes before this are warm-up: not counted.
    pub(crate) from: Instant,
    /// No message is sent from this instant on; echoes after it are not counted.
    pub(crate) to: Instant,
}

/// What all connections measured together.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Echoes received in the window.
    pub(crate) received: u64,
    /// Their round trips, in nanoseconds.
    pub(crate) latency: Histogram<u64>,
}

/// A connection's closed loop.
#[derive(Debug)]
pub(crate) struct ClosedLoop {
    id: u64,
    codec: Codec,
    inbox: Vec<u8>,
    filled: usize,
    outbox: Vec<u8>,
    written: usize,
    sent_at: VecDeque<Instant>,
    next_seq: u64,
    expect: u64,
}

impl ClosedLoop {
    /// Connection `id` with `in_flight` messages of `size` bytes queued to send;
    /// `leftover` is what was read past the handshake.
    pub(crate) fn new(
        id: u64,
        codec: Codec,
        size: usize,
        in_flight: usize,
        leftover: &[u8],
        now: Instant,
    ) -> Self {
        let frame_len = size + 14;
        let mut inbox = vec![0u8; (4 * frame_len).max(64 * 1024)];
        inbox[..leftover.len()].copy_from_slice(leftover);
        let mut this = Self {
            id,
            codec,
            inbox,
            filled: leftover.len(),
            outbox: Vec::with_capacity(frame_len * in_flight),
            written: 0,
            sent_at: VecDeque::with_capacity(in_flight),
            next_seq: 0,
            expect: 0,
        };
        for _ in 0..in_flight {
            this.send_next(now);
        }
        this
    }

    /// Where the next read goes.
    pub(crate) fn read_space(&mut self) -> &mut [u8] {
        &mut self.inbox[self.filled..]
    }

    /// Takes `n` bytes just read into [`read_space`](Self::read_space): checks
    /// every whole echo, counts those in the window, and queues a new message
    /// for each while the window lasts.
    pub(crate) fn on_read(
        &mut self,
        n: usize,
        now: Instant,
        window: Window,
        tally: &mut Tally,
    ) -> anyhow::Result<()> {
        self.filled += n;
        let mut at = 0;
        while let Some(len) = self
            .codec
            .check_echo(&self.inbox[at..self.filled], self.expect)?
        {
            at += len;
            self.expect += 1;
            let sent = self
                .sent_at
                .pop_front()
                .context("an echo of a message never sent")?;
            if now >= window.from && now < window.to {
                tally.received += 1;
                let ns = u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX);
                tally.latency.saturating_record(ns.max(1));
            }
            if now < window.to {
                self.send_next(now);
            }
        }
        self.inbox.copy_within(at..self.filled, 0);
        self.filled -= at;
        anyhow::ensure!(
            self.filled < self.inbox.len(),
            "connection {}: a frame larger than the read buffer",
            self.id
        );
        Ok(())
    }

    /// Bytes waiting to be written.
    pub(crate) fn unwritten(&self) -> &[u8] {
        &self.outbox[self.written..]
    }

    /// `n` bytes of [`unwritten`](Self::unwritten) went out.
    pub(crate) fn on_written(&mut self, n: usize) {
        self.written += n;
        if self.written == self.outbox.len() {
            self.outbox.clear();
            self.written = 0;
        }
    }

    /// Every message sent has come back.
    pub(crate) fn is_done(&self) -> bool {
        self.sent_at.is_empty()
    }

    /// When the oldest message still in flight was sent.
    pub(crate) fn oldest_in_flight(&self) -> Option<Instant> {
        self.sent_at.front().copied()
    }

    /// Messages in flight, and the sequence number of the oldest.
    pub(crate) fn in_flight(&self) -> (usize, u64) {
        (self.sent_at.len(), self.expect)
    }

    fn send_next(&mut self, now: Instant) {
        self.codec.encode(self.next_seq, &mut self.outbox);
        self.next_seq += 1;
        self.sent_at.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load::new_histogram;

    fn tally() -> Tally {
        Tally {
            received: 0,
            latency: new_histogram(),
        }
    }

    /// A raw TCP echo returns exactly what was sent.
    fn echo_of(conn: &ClosedLoop) -> Vec<u8> {
        conn.unwritten().to_vec()
    }

    #[test]
    fn each_echo_in_the_window_is_counted_and_replaced() {
        let start = Instant::now();
        let window = Window {
            from: start,
            to: start + Duration::from_secs(60),
        };
        let mut conn = ClosedLoop::new(7, Codec::new(7, 20, true), 20, 3, &[], start);
        let sent = echo_of(&conn);
        assert_eq!(sent.len(), 3 * (20 + 6));
        conn.on_written(sent.len());
        assert!(conn.unwritten().is_empty());

        // The echoes arrive split at an awkward point: one and a half, then the rest.
        let mut tally = tally();
        let split = 26 + 13;
        conn.read_space()[..split].copy_from_slice(&sent[..split]);
        conn.on_read(split, start, window, &mut tally)
            .expect("valid");
        assert_eq!(tally.received, 1);
        assert_eq!(conn.unwritten().len(), 26, "one new message per echo");
        let rest = sent.len() - split;
        conn.read_space()[..rest].copy_from_slice(&sent[split..]);
        conn.on_read(rest, start, window, &mut tally)
            .expect("valid");
        assert_eq!(tally.received, 3);
        assert_eq!(conn.in_flight(), (3, 3));
    }

    #[test]
    fn after_the_window_echoes_drain_and_nothing_new_is_sent() {
        let start = Instant::now();
        let window = Window {
            from: start,
            to: start,
        };
        let mut conn = ClosedLoop::new(1, Codec::new(1, 16, true), 16, 2, &[], start);
        let sent = echo_of(&conn);
        conn.on_written(sent.len());
        let mut tally = tally();
        conn.read_space()[..sent.len()].copy_from_slice(&sent);
        conn.on_read(sent.len(), start, window, &mut tally)
            .expect("valid");
        assert_eq!(tally.received, 0, "outside the window");
        assert!(conn.unwritten().is_empty());
        assert!(conn.is_done());
    }

    #[test]
    fn a_corrupted_or_reordered_echo_fails() {
        let start = Instant::now();
        let window = Window {
            from: start,
            to: start + Duration::from_secs(60),
        };
        let mut conn = ClosedLoop::new(2, Codec::new(2, 20, true), 20, 2, &[], start);
        let mut sent = echo_of(&conn);
        // Swap the two messages: #1 comes back first.
        sent.rotate_left(26);
        conn.read_space()[..sent.len()].copy_from_slice(&sent);
        let error = conn
            .on_read(sent.len(), start, window, &mut tally())
            .expect_err("out of order");
        assert!(error.to_string().contains("expected echo #0"), "{error}");
    }
}
