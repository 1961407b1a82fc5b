//! Bytes out: what the connection hands to the socket, and what it is told
//! the socket took. The machine never sees the socket: it stages frames in
//! the thread's buffer, the driver writes them, and whatever the socket did
//! not take waits in the backlog.

use super::{Connection, Unflushed};
use crate::{
    codec::{
        header::OpCode,
        writer::{Backlog, Batch, Staging},
    },
    deflate::totals,
    message::Message,
    shared::Taken,
};

impl Connection {
    /// Bytes the socket did not take last time: they go before anything new.
    pub(crate) fn backlog(&self) -> &Backlog {
        &self.backlog
    }

    /// The socket took `written` bytes of the backlog.
    pub(crate) fn backlog_written(&mut self, written: usize) {
        self.backlog.advance(written);
    }

    /// Whether a batch is worth building: messages wait in the queue
    /// (`outbound_waiting`), or a pong, a ping or a close frame is due.
    pub(crate) fn wants_to_stage(&self, outbound_waiting: bool) -> bool {
        !self.closing.sent
            && (outbound_waiting
                || self.ping_due
                || !self.pongs.is_empty()
                || self.closing.pending.is_some())
    }

    /// Puts the next frames in `staging`: pongs, a due ping, `messages` (taken
    /// from the queue as `taken` says) and, once the queue is empty, a close
    /// frame. Call only with an empty backlog. Returns how many frames.
    pub(crate) fn stage(
        &mut self,
        staging: &mut Staging,
        vectored: bool,
        messages: &mut Vec<Message>,
        taken: Taken,
    ) -> usize {
        debug_assert!(self.backlog.is_empty());
        if self.closing.sent {
            messages.clear();
            return 0;
        }
        let mut batch = Batch::new(self.role, vectored, staging);
        let mut frames = 0;
        if !self.pongs.is_empty() {
            for pong in self.pongs.drain(..) {
                batch.push_slice(OpCode::Pong, &pong);
                frames += 1;
            }
        }
        if std::mem::take(&mut self.ping_due) {
            batch.push_slice(OpCode::Ping, &[]);
            frames += 1;
        }
        for message in messages.drain(..) {
            let opcode = if message.is_text() {
                OpCode::Text
            } else {
                OpCode::Binary
            };
            let payload = message.payload();
            let compressed = match &mut self.deflater {
                Some(deflater) if deflater.should_compress(payload.len()) => deflater
                    .try_compress(payload, |compressed| {
                        batch.push_compressed(opcode, compressed);
                        totals::sent(payload.len(), compressed.len());
                    })
                    .is_some(),
                _ => false,
            };
            if !compressed {
                batch.push(opcode, payload);
            }
            frames += 1;
        }
        self.unflushed.bytes += taken.bytes;
        self.unflushed.count += taken.count;
        if taken.queue_empty
            && let Some(payload) = self.closing.take_frame()
        {
            tracing::trace!("sending close frame");
            // No data message follows: a kept compressor is not needed again.
            if let Some(deflater) = &mut self.deflater {
                deflater.release();
            }
            batch.push_slice(OpCode::Close, &payload);
            frames += 1;
        }
        if frames > 0 {
            self.need_flush = true;
        }
        frames
    }

    /// The socket took the first `written` bytes of `staging`; the rest waits
    /// in the backlog.
    pub(crate) fn staged_written(&mut self, staging: &Staging, written: usize) {
        if written < staging.len() {
            self.backlog.keep_unwritten(staging, written);
        }
    }

    /// Whether everything written must still be flushed (TLS).
    pub(crate) fn needs_flush(&self) -> bool {
        self.need_flush
    }

    /// The socket flushed everything handed to it: the queue budget those
    /// messages held is free again.
    pub(crate) fn flushed(&mut self) -> Unflushed {
        self.need_flush = false;
        std::mem::take(&mut self.unflushed)
    }

    /// Whether everything staged is written and flushed.
    pub(crate) fn all_out(&self) -> bool {
        self.backlog.is_empty() && !self.need_flush
    }
}
