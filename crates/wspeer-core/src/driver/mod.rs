//! The Tokio pump of an open connection: it moves bytes between the socket
//! and the [`Connection`] state machine, messages between the machine and the
//! two bounded queues, and sleeps until the machine's next timeout. Every
//! protocol decision is the machine's.
//!
//! Each wake-up: the application's requests, reads (through the thread's
//! shared buffer, so an idle connection holds no buffer of its own) while the
//! machine wants them, timers, then writes of what is queued, as batches.
//! Writing bytes out is in `socket.rs`, the polite end in `finish.rs`.

mod finish;
mod socket;

use std::{
    future::poll_fn,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use tokio::{
    io::ReadBuf,
    time::{Instant, Sleep, sleep_until},
};
use tracing::debug;

use crate::{
    codec::{
        Upgraded, scratch,
        writer::{self, BATCH_BYTES},
    },
    connection::{Connection, End},
    handler::{BoxedHandler, Outbox, hand_queued},
    message::Message,
    shared::Shared,
    transport::Transport,
};

/// Most frames read or written in one wake-up before the task yields, so one
/// busy connection cannot starve the others on its runtime thread.
const BATCH: usize = 64;

pub(crate) struct Driver<S> {
    stream: S,
    conn: Connection,
    shared: Arc<Shared>,
    /// Most bytes taken from the socket per read.
    read_size: usize,
    /// The application's handler (`WebSocket::serve`): messages go to it, not
    /// to the inbound queue.
    handler: Option<BoxedHandler>,
    /// Every handle is gone: received data has no reader and is dropped, so that
    /// a full inbound queue cannot hide the peer's close frame from us.
    discard_inbound: bool,
    /// The machine's next timeout, allocated once one is needed.
    timer: Option<Pin<Box<Sleep>>>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl<S: Transport> Driver<S> {
    pub(crate) fn new(upgraded: Upgraded<S>, shared: Arc<Shared>) -> Self {
        let conn = Connection::new(
            upgraded.role,
            &shared.config,
            upgraded.early,
            upgraded.compression.as_ref(),
            now(),
        );
        Self {
            stream: upgraded.stream,
            conn,
            read_size: shared.config.read_buffer_size,
            shared,
            handler: None,
            discard_inbound: false,
            timer: None,
        }
    }

    /// Runs the connection until it is closed, then records how it closed.
    ///
    /// Not an `async fn`: those store a by-value `self` twice (rust-lang/rust#62958),
    /// which doubled every connection's future.
    #[allow(clippy::manual_async_fn)] // on purpose, see above
    pub(crate) fn run(mut self) -> impl Future<Output = ()> {
        async move {
            let end = poll_fn(|cx| self.poll_io(cx)).await;
            debug!(?end, "connection ended");
            // On the heap, and only now: the closing steps' timers and buffers
            // inline would enlarge every connection's future for its whole life.
            Box::pin(self.finish(end)).await;
        }
    }

    fn poll_io(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        self.shared.register_task(cx.waker());
        let control = self.shared.control();
        if control.abort {
            return Poll::Ready(self.conn.abort());
        }
        if let Some(enabled) = control.no_delay
            && let Err(error) = self.stream.set_nodelay(enabled)
        {
            debug!(%error, "set_nodelay failed");
        }
        if let Some(request) = control.close {
            self.conn.request_close(request.code, &request.reason);
        }
        if control.handles_gone {
            self.conn.request_close(1001, "");
            self.discard_inbound = true;
        }
        if let Some(mut handler) = control.handler.0 {
            // The messages already queued first, in order.
            hand_queued(&self.shared, &mut handler);
            self.handler = Some(handler);
        }

        let read = match self.read(cx) {
            Ok(frames) => frames,
            Err(end) => return Poll::Ready(end),
        };
        if self.shared.control_changed() {
            // A handler asked for something (`close(-1)`): that comes before
            // writing its replies.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let timed_out = if self.conn.wants_clock() {
            self.conn.handle_timeout(now())
        } else {
            None
        };
        let wrote = match self.write(cx, BATCH) {
            Ok(frames) => frames,
            Err(end) => return Poll::Ready(end),
        };
        let ignore_inbound = self.discard_inbound || self.handler.is_some();
        if let Some(end) = self
            .conn
            .poll_end(|| self.shared.drained(ignore_inbound))
            .or(timed_out)
        {
            return Poll::Ready(end);
        }
        if self.timer_fired(cx) || wrote >= BATCH || read >= BATCH {
            // Come back after the other tasks had a turn.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Reads and hands the bytes to the machine while it wants them; returns
    /// how many frames it decoded.
    fn read(&mut self, cx: &mut Context<'_>) -> Result<usize, End> {
        let Self {
            stream,
            conn,
            shared,
            read_size,
            handler,
            discard_inbound,
            ..
        } = self;
        let mut delivered = false;
        let mut deliver = |message: Message| match handler {
            _ if *discard_inbound => Ok(()),
            Some(handler) => {
                handler(message, &Outbox::new(shared));
                Ok(())
            }
            None => shared.push_inbound(message).map(|()| delivered = true),
        };
        let mut frames = 0;
        let mut peer_closed = false;
        let result = loop {
            let got = conn.resume(BATCH - frames, &mut deliver);
            frames += got.events;
            peer_closed |= got.peer_closed;
            if !conn.reading() || frames >= BATCH {
                break Ok(frames);
            }
            let read = scratch::with_read_buffer(*read_size, |buffer| {
                let mut buf = ReadBuf::new(buffer);
                ready!(Pin::new(&mut *stream).poll_read(cx, &mut buf))?;
                Poll::Ready(Ok((!buf.filled().is_empty())
                    .then(|| conn.receive(buf.filled(), BATCH - frames, &mut deliver))))
            });
            match read {
                Poll::Pending => break Ok(frames),
                Poll::Ready(Ok(Some(got))) => {
                    frames += got.events;
                    peer_closed |= got.peer_closed;
                }
                Poll::Ready(Ok(None)) => break Err(conn.end_of_stream()),
                Poll::Ready(Err(error)) => break Err(io_end(conn, &error)),
            }
        };
        if peer_closed {
            shared.begin_closing();
        }
        if delivered {
            shared.notify_readable();
        }
        result
    }

    /// Writes the backlog, then batches of what the machine stages, until
    /// nothing is due, the socket is full, or `limit` frames are out; then
    /// flushes. Returns how many frames it staged.
    fn write(&mut self, cx: &mut Context<'_>, limit: usize) -> Result<usize, End> {
        let mut frames = 0;
        loop {
            if !self.conn.backlog().is_empty() {
                match socket::write_backlog(&mut self.stream, &mut self.conn, cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(error)) => return Err(io_end(&self.conn, &error)),
                    Poll::Pending => return Ok(frames),
                }
            }
            if frames >= limit || !self.conn.wants_to_stage(self.shared.outbound_waiting()) {
                break;
            }
            let (staged, queue_empty) = self.write_batch(cx)?;
            frames += staged;
            if queue_empty {
                break;
            }
        }
        // Only what the socket took may leave the queue's budget.
        if self.conn.backlog().is_empty() && self.conn.needs_flush() {
            match Pin::new(&mut self.stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    let freed = self.conn.flushed();
                    if freed.count > 0 {
                        self.shared.flushed(freed.bytes, freed.count);
                    }
                }
                Poll::Ready(Err(error)) => return Err(io_end(&self.conn, &error)),
                Poll::Pending => {}
            }
        }
        Ok(frames)
    }

    /// One batch: messages taken from the queue under one lock, staged by the
    /// machine, written; the socket's leftovers go to the backlog. Returns the
    /// frames staged and whether the queue is now empty.
    fn write_batch(&mut self, cx: &mut Context<'_>) -> Result<(usize, bool), End> {
        let Self {
            stream,
            conn,
            shared,
            ..
        } = self;
        let vectored = stream.is_write_vectored();
        writer::with_staging(|staging| {
            let mut messages = staging.take_messages();
            let taken = shared.take_outbound(BATCH, BATCH_BYTES, &mut messages);
            let frames = conn.stage(staging, vectored, &mut messages, taken);
            staging.return_messages(messages);
            match socket::write_staged(stream, cx, staging) {
                Ok(written) => conn.staged_written(staging, written),
                Err(error) => return Err(io_end(conn, &error)),
            }
            Ok((frames, taken.queue_empty))
        })
    }

    /// Sets the timer to the machine's next timeout; whether it has passed.
    fn timer_fired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.conn.poll_timeout() else {
            return false;
        };
        let at = Instant::from_std(at);
        let timer = self.timer.get_or_insert_with(|| Box::pin(sleep_until(at)));
        if timer.deadline() != at {
            timer.as_mut().reset(at);
        }
        timer.as_mut().poll(cx).is_ready()
    }
}

/// A socket error ends the connection; it is clean only after the exchange.
fn io_end(conn: &Connection, error: &io::Error) -> End {
    debug!(%error, "connection error");
    conn.end_of_stream()
}
