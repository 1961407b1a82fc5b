//! The I/O loop of an open connection: moves messages between the socket and the
//! two bounded queues, answers pings, runs the heartbeat and the closing handshake.
//!
//! It is one hand-written poll function over the stream and our codec (no split,
//! no lock on the socket): each wake-up it writes what is queued as one batch,
//! then reads while the inbound queue has room. Reads go through the thread's
//! shared buffer, so an idle connection holds no buffer of its own.

use std::{
    future::poll_fn,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use tokio::{
    io::{AsyncWriteExt, ReadBuf},
    time::{Instant, Sleep, sleep, timeout},
};
use tracing::{debug, trace};

use crate::{
    codec::{
        Upgraded, Violation,
        decoder::{Decoder, Event},
        header::OpCode,
        scratch,
        writer::{BATCH_BYTES, Writer},
    },
    handler::{BoxedHandler, Outbox, hand_queued},
    message::Message,
    shared::{CloseRequest, Shared},
    state::CloseStatus,
    transport::Transport,
};

/// Most messages read or written in one wake-up before the task yields, so one
/// busy connection cannot starve the others on its runtime thread.
const BATCH: usize = 64;

/// How the I/O loop ended.
#[derive(Debug)]
enum Exit {
    /// The closing handshake finished; the status comes from the peer's frame.
    Clean(CloseStatus),
    /// The socket ended or failed without a complete closing handshake.
    Abrupt,
    /// The application asked for `close(-1)`.
    Aborted,
    /// The peer broke the protocol or a limit: we send this code and drop it.
    Fail(u16, &'static str),
}

pub(crate) struct Driver<S> {
    stream: S,
    decoder: Decoder,
    writer: Writer,
    /// Bytes read but not decoded yet, because the inbound queue was full.
    unread: Bytes,
    /// Most bytes taken from the socket per read.
    read_size: usize,
    shared: Arc<Shared>,
    /// A received message waiting for room in the inbound queue.
    pending_in: Option<Message>,
    /// Bytes and messages handed to the socket since the last flush.
    unflushed_bytes: usize,
    unflushed_count: usize,
    need_flush: bool,
    /// The payload of a close frame to send once the outbound queue is empty:
    /// one the application asked for, or the echo of the peer's.
    pending_close: Option<Vec<u8>>,
    close_sent: bool,
    close_received: Option<CloseStatus>,
    /// Set once a closing handshake starts: the end of `close_timeout`.
    close_deadline: Option<Pin<Box<Sleep>>>,
    heartbeat: Option<Heartbeat>,
    /// Every handle is gone: received data has no reader and is dropped, so that
    /// a full inbound queue cannot hide the peer's close frame from us.
    discard_inbound: bool,
    /// The peer broke the protocol: the close we will send once the application
    /// has taken (and answered) what arrived before the violation.
    failing: Option<(u16, &'static str)>,
    /// The application's handler (`WebSocket::serve`): messages go to it, not
    /// to the inbound queue.
    handler: Option<BoxedHandler>,
}

struct Heartbeat {
    interval: Duration,
    timer: Pin<Box<Sleep>>,
    /// A ping is out and no pong has come back since.
    waiting: bool,
    /// The timer fired but the socket could not take the ping yet.
    ping_due: bool,
    /// The timer fired while a ping was unanswered: decided after this
    /// wake-up's reads, in case the pong is among them.
    overdue: bool,
}

impl<S> Driver<S>
where
    S: Transport,
{
    pub(crate) fn new(upgraded: Upgraded<S>, shared: Arc<Shared>) -> Self {
        let config = &shared.config;
        let interval = config.heartbeat_interval;
        let heartbeat = (!interval.is_zero()).then(|| Heartbeat {
            interval,
            timer: Box::pin(sleep(interval)),
            waiting: false,
            ping_due: false,
            overdue: false,
        });
        Self {
            stream: upgraded.stream,
            decoder: Decoder::new(upgraded.role, config.inbound_buffer_size),
            writer: Writer::new(upgraded.role),
            unread: upgraded.early,
            read_size: config.read_buffer_size,
            pending_in: None,
            unflushed_bytes: 0,
            unflushed_count: 0,
            need_flush: false,
            pending_close: None,
            close_sent: false,
            close_received: None,
            close_deadline: None,
            heartbeat,
            discard_inbound: false,
            failing: None,
            handler: None,
            shared,
        }
    }

    /// Runs the connection until it is closed, then records how it closed.
    ///
    /// Not an `async fn`: those store a by-value `self` twice (rust-lang/rust#62958),
    /// which doubled every connection's future.
    #[allow(clippy::manual_async_fn)] // on purpose, see above
    pub(crate) fn run(mut self) -> impl Future<Output = ()> {
        async move {
            let exit = poll_fn(|cx| self.poll_io(cx)).await;
            debug!(?exit, "connection ended");
            // On the heap, and only now: the closing steps' timers and buffers
            // inline would enlarge every connection's future for its whole life.
            Box::pin(self.finish(exit)).await;
        }
    }

    /// Records how the connection ended and closes the socket politely.
    async fn finish(&mut self, exit: Exit) {
        let close_timeout = self.shared.config.close_timeout;
        // `set_closed` empties the queue and its budget: nothing left to free.
        self.unflushed_bytes = 0;
        self.unflushed_count = 0;
        match exit {
            Exit::Clean(status) => {
                self.shared.set_closed(Some(status));
                self.shutdown(close_timeout).await;
            }
            Exit::Abrupt => {
                let status = self
                    .close_received
                    .take()
                    .unwrap_or_else(CloseStatus::unclean);
                self.shared.set_closed(Some(status));
            }
            Exit::Aborted => self.shared.set_closed(None),
            Exit::Fail(code, reason) => {
                // As Godot 4.4 does: the state is CLOSED with the code we sent, at
                // once; the close frame then goes out on a best-effort basis.
                self.shared.set_closed(Some(CloseStatus {
                    code: i32::from(code),
                    reason: reason.to_owned(),
                }));
                if !self.close_sent {
                    self.writer.queue_close(&close_payload(code, reason));
                    self.need_flush = true;
                }
                let send = poll_fn(|cx| self.poll_out(cx).map(|_| ()));
                let _ = timeout(close_timeout, send).await;
                self.shutdown(close_timeout).await;
            }
        }
    }

    /// Sends FIN and drains what the peer still sends until it closes too, so the
    /// kernel does not answer unread data with a reset that could destroy our
    /// last frames before the peer reads them.
    async fn shutdown(&mut self, limit: Duration) {
        let drain = async {
            let stream = &mut self.stream;
            let _ = stream.shutdown().await;
            let mut sink = vec![0u8; 1024];
            loop {
                match tokio::io::AsyncReadExt::read(stream, &mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        let _ = timeout(limit, drain).await;
    }

    fn poll_io(&mut self, cx: &mut Context<'_>) -> Poll<Exit> {
        self.shared.register_task(cx.waker());
        let control = self.shared.control();
        if control.abort {
            return Poll::Ready(Exit::Aborted);
        }
        if let Some(enabled) = control.no_delay
            && let Err(error) = self.stream.set_nodelay(enabled)
        {
            debug!(%error, "set_nodelay failed");
        }
        let close = match control.close {
            Some(request) => Some(request),
            None if control.handles_gone && !self.closing() => Some(CloseRequest {
                code: 1001,
                reason: String::new(),
            }),
            None => None,
        };
        if let Some(request) = close {
            self.queue_close(request);
        }
        if control.handles_gone {
            self.discard_inbound = true;
            self.pending_in = None;
        }
        if let Some(handler) = control.handler.0 {
            self.start_handler(handler);
        }

        self.poll_heartbeat(cx);
        let wrote = match self.poll_write(cx, BATCH) {
            Ok(n) => n,
            Err(exit) => return Poll::Ready(exit),
        };
        let read = match self.poll_read(cx) {
            Ok(n) => n,
            Err(Exit::Fail(code, reason)) => {
                // RFC 6455 strictness (Autobahn 3.2, 4.1.3, 5.15 ...): what came
                // before the violation is delivered and may be answered first.
                debug!(
                    code,
                    reason, "protocol violation; failing after the queue drains"
                );
                self.failing = Some((code, reason));
                // The violation's code is the one to send, not a close the
                // application asked for and we have not sent yet.
                self.pending_close = None;
                self.start_close_timer();
                0
            }
            Err(exit) => return Poll::Ready(exit),
        };
        // A handler's replies go out in this same wake-up, and so does what
        // is queued ahead of the echo of a close that just arrived. Not when
        // the application changed something meanwhile (a handler's
        // `close(-1)`): the wake-up it asked for comes first.
        let write_again = (self.handler.is_some() || self.pending_close.is_some())
            && self.shared.outbound_waiting()
            && !self.shared.control_changed();
        let wrote = if write_again {
            match self.poll_write(cx, BATCH.saturating_sub(wrote)) {
                Ok(n) => wrote + n,
                Err(exit) => return Poll::Ready(exit),
            }
        } else {
            wrote
        };
        if let Err(exit) = self.check_heartbeat(cx) {
            return Poll::Ready(exit);
        }
        // Reading may have queued a pong or the reply to a close.
        let all_out = match self.poll_out(cx) {
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(error)) => return Poll::Ready(self.io_exit(&error)),
            Poll::Pending => false,
        };
        if all_out
            && self.close_sent
            && let Some(status) = &self.close_received
        {
            return Poll::Ready(Exit::Clean(status.clone()));
        }
        if let Some((code, reason)) = self.failing
            && self.pending_in.is_none()
            && all_out
            && self
                .shared
                .drained(self.discard_inbound || self.handler.is_some())
        {
            return Poll::Ready(Exit::Fail(code, reason));
        }
        if let Some(deadline) = &mut self.close_deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            debug!("closing handshake timed out");
            return Poll::Ready(match self.failing {
                Some((code, reason)) => Exit::Fail(code, reason),
                None => Exit::Abrupt,
            });
        }
        if wrote >= BATCH || read >= BATCH {
            // More may be waiting: come back after the other tasks had a turn.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// From now on every message goes to `handler`; first those that were
    /// already queued, in order.
    fn start_handler(&mut self, mut handler: BoxedHandler) {
        hand_queued(&self.shared, &mut handler);
        if let Some(message) = self.pending_in.take() {
            handler(message, &Outbox::new(&self.shared));
        }
        self.handler = Some(handler);
    }

    fn closing(&self) -> bool {
        self.close_sent
            || self.close_received.is_some()
            || self.pending_close.is_some()
            || self.failing.is_some()
    }

    /// Remembers a close to send once the outbound queue is drained.
    fn queue_close(&mut self, request: CloseRequest) {
        if self.closing() {
            return;
        }
        self.pending_close = Some(close_payload(request.code, &request.reason));
        self.start_close_timer();
    }

    fn start_close_timer(&mut self) {
        if self.close_deadline.is_none() {
            let at = Instant::now() + self.shared.config.close_timeout;
            self.close_deadline = Some(Box::pin(tokio::time::sleep_until(at)));
        }
    }

    /// Runs the heartbeat timer: a ping is due every interval; an interval that
    /// ends with the last ping unanswered is marked for [`Self::check_heartbeat`].
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) {
        let closing = self.closing();
        let Some(hb) = &mut self.heartbeat else {
            return;
        };
        // As in Godot, the heartbeat only runs while the connection is open.
        if closing {
            return;
        }
        while hb.timer.as_mut().poll(cx).is_ready() {
            hb.timer.as_mut().reset(Instant::now() + hb.interval);
            if hb.waiting {
                hb.overdue = true;
            } else {
                hb.waiting = true;
                hb.ping_due = true;
            }
        }
    }

    /// After this wake-up's reads: drops a peer that left a ping unanswered for
    /// a whole interval. Not while we stopped reading ourselves (a full inbound
    /// queue): the pong may be among the bytes we have not read.
    fn check_heartbeat(&mut self, cx: &mut Context<'_>) -> Result<(), Exit> {
        let paused = self.pending_in.is_some() || !self.unread.is_empty();
        let Some(hb) = &mut self.heartbeat else {
            return Ok(());
        };
        if !std::mem::take(&mut hb.overdue) {
            return Ok(());
        }
        if !hb.waiting {
            // The pong came in this very wake-up: on to the next ping.
            hb.waiting = true;
            hb.ping_due = true;
            cx.waker().wake_by_ref();
        } else if !paused {
            debug!("no pong within the heartbeat interval");
            return Err(Exit::Abrupt);
        }
        Ok(())
    }

    /// Writes what the socket did not take last time, then batches of queued
    /// messages (with a due ping, and a requested close once the queue is
    /// empty) until the queue is empty, the socket is full, or `limit`
    /// messages are out. Returns how many frames it wrote; `limit` or more
    /// means that more are waiting.
    fn poll_write(&mut self, cx: &mut Context<'_>, limit: usize) -> Result<usize, Exit> {
        let mut written = 0;
        loop {
            match self.poll_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Err(self.io_exit(&error)),
                // The socket is full: nothing new until it takes the backlog.
                Poll::Pending => return Ok(written),
            }
            // After our close frame no data may be sent. (After the peer's,
            // the queue holds only what was accepted before it; the close
            // timer bounds how long that may take.)
            if self.close_sent {
                return Ok(written);
            }
            if written >= limit {
                return Ok(written);
            }
            let ping_due = self.heartbeat.as_ref().is_some_and(|hb| hb.ping_due);
            if !ping_due && self.pending_close.is_none() && !self.shared.outbound_waiting() {
                // Woken for something else: nothing to write.
                return Ok(written);
            }
            let (frames, queue_empty) = self.write_batch(cx)?;
            written += frames;
            if queue_empty {
                return Ok(written);
            }
        }
    }

    /// Hands one batch to the socket. Returns how many frames it held and
    /// whether the outbound queue is now empty.
    fn write_batch(&mut self, cx: &mut Context<'_>) -> Result<(usize, bool), Exit> {
        let shared = &self.shared;
        let heartbeat = &mut self.heartbeat;
        let pending_close = &mut self.pending_close;
        let ((frames, taken, close_sent), poll) =
            self.writer.write_batch(&mut self.stream, cx, |batch| {
                let mut frames = 0;
                if let Some(hb) = heartbeat.as_mut().filter(|hb| hb.ping_due) {
                    hb.ping_due = false;
                    batch.push_slice(OpCode::Ping, &[]);
                    frames += 1;
                }
                // Taken out under the lock, encoded after it: an application
                // thread calling `try_send` never waits for our copying.
                let mut messages = batch.take_message_buffer();
                let taken = shared.take_outbound(BATCH, BATCH_BYTES, &mut messages);
                for message in messages.drain(..) {
                    let opcode = if message.is_text() {
                        OpCode::Text
                    } else {
                        OpCode::Binary
                    };
                    batch.push(opcode, message.payload());
                }
                batch.return_message_buffer(messages);
                frames += taken.count;
                let mut close_sent = false;
                if taken.queue_empty
                    && let Some(payload) = pending_close.take()
                {
                    trace!("sending close frame");
                    batch.push_slice(OpCode::Close, &payload);
                    close_sent = true;
                    frames += 1;
                }
                (frames, taken, close_sent)
            });
        self.close_sent |= close_sent;
        self.unflushed_bytes += taken.bytes;
        self.unflushed_count += taken.count;
        if frames > 0 {
            self.need_flush = true;
        }
        match poll {
            Poll::Ready(Err(error)) => Err(self.io_exit(&error)),
            Poll::Ready(Ok(())) | Poll::Pending => Ok((frames, taken.queue_empty)),
        }
    }

    /// Writes the backlog and flushes. `Ready(Ok)` once everything handed to
    /// the socket is out; then the queue budget it held is free again.
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.writer.has_backlog() {
            std::task::ready!(self.writer.poll_backlog(&mut self.stream, cx))?;
        }
        if self.need_flush {
            std::task::ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
            self.flush_done();
        }
        Poll::Ready(Ok(()))
    }

    /// Reads and decodes while the inbound queue has room. Returns how many
    /// frames it decoded.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<usize, Exit> {
        let mut events = 0;
        let mut delivered = false;
        let result = loop {
            if let Some(message) = self.pending_in.take()
                && !self.discard_inbound
            {
                match self.shared.push_inbound(message) {
                    Ok(()) => delivered = true,
                    Err(message) => {
                        // Full: stop reading; the application's next read wakes us.
                        self.pending_in = Some(message);
                        break Ok(events);
                    }
                }
            }
            if events >= BATCH || self.failing.is_some() || self.close_received.is_some() {
                break Ok(events);
            }
            if !self.unread.is_empty() {
                let unread = std::mem::take(&mut self.unread);
                let mut input = &unread[..];
                let stop = self.consume(cx, &mut input, &mut events, &mut delivered);
                // An empty slice would still hold the whole buffer alive.
                if !input.is_empty() {
                    self.unread = unread.slice(unread.len() - input.len()..);
                }
                if let Err(exit) = stop {
                    break Err(exit);
                }
                continue;
            }
            match self.read_and_consume(cx, &mut events, &mut delivered) {
                Poll::Pending => break Ok(events),
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(exit)) => break Err(exit),
            }
        };
        if delivered {
            self.shared.notify_readable();
        }
        result
    }

    /// One read from the socket into the thread's buffer, decoded at once; what
    /// cannot be handed on now is copied to `unread`.
    fn read_and_consume(
        &mut self,
        cx: &mut Context<'_>,
        events: &mut usize,
        delivered: &mut bool,
    ) -> Poll<Result<(), Exit>> {
        scratch::with_read_buffer(self.read_size, |buffer| {
            let mut buf = ReadBuf::new(buffer);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(error)) => Poll::Ready(Err(self.io_exit(&error))),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    Poll::Ready(Err(self.end_of_stream()))
                }
                Poll::Ready(Ok(())) => {
                    let mut input = buf.filled();
                    let stop = self.consume(cx, &mut input, events, delivered);
                    if !input.is_empty() {
                        self.unread = Bytes::copy_from_slice(input);
                    }
                    Poll::Ready(stop)
                }
            }
        })
    }

    /// Decodes events from `input` and acts on them until the input runs out or
    /// something must wait (a full queue, the batch limit). After a close frame
    /// the rest of the input is dropped.
    fn consume(
        &mut self,
        cx: &mut Context<'_>,
        input: &mut &[u8],
        events: &mut usize,
        delivered: &mut bool,
    ) -> Result<(), Exit> {
        while !input.is_empty() {
            let event = match self.decoder.decode(input) {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(violation) => return Err(self.violation_exit(violation)),
            };
            *events += 1;
            match event {
                Event::Message(message) => match &mut self.handler {
                    _ if self.discard_inbound => {}
                    Some(handler) => handler(message, &Outbox::new(&self.shared)),
                    None => match self.shared.push_inbound(message) {
                        Ok(()) => *delivered = true,
                        Err(message) => {
                            self.pending_in = Some(message);
                            return Ok(());
                        }
                    },
                },
                Event::Ping(payload) => {
                    if !self.close_sent {
                        self.writer.queue_pong(&payload);
                        self.need_flush = true;
                        // Out at once if the socket takes it, so every ping is
                        // answered while the socket keeps up (Autobahn 2.10).
                        // Reading goes on either way: a pong the socket cannot
                        // take yet is replaced by the next ping's.
                        if let Poll::Ready(Err(error)) = self.poll_out(cx) {
                            return Err(self.io_exit(&error));
                        }
                    }
                }
                Event::Pong => {
                    if let Some(hb) = &mut self.heartbeat {
                        hb.waiting = false;
                    }
                }
                Event::Close(frame) => {
                    debug!(?frame, "close frame received");
                    let status = match &frame {
                        Some((code, reason)) => CloseStatus {
                            code: i32::from(*code),
                            reason: reason.clone(),
                        },
                        // RFC 6455 §7.1.5: no status code in the frame is 1005.
                        None => CloseStatus {
                            code: 1005,
                            reason: String::new(),
                        },
                    };
                    if self.close_sent {
                        self.shared.set_closing();
                    } else {
                        // Echo the peer's code, as RFC 6455 §5.5.1 suggests.
                        let payload = match &frame {
                            Some((code, reason)) => close_payload(*code, reason),
                            None => Vec::new(),
                        };
                        // Sends stop being accepted at the moment the queue is
                        // looked at, so none can slip in behind the echo.
                        if self.shared.begin_closing() {
                            self.writer.queue_close(&payload);
                            self.close_sent = true;
                            self.need_flush = true;
                            self.pending_close = None;
                        } else {
                            // Messages accepted before the close arrived (a
                            // handler's replies to this very read among them)
                            // go out first.
                            self.pending_close = Some(payload);
                        }
                    }
                    self.close_received = Some(status);
                    self.start_close_timer();
                    // Nothing after a close frame means anything.
                    *input = &[];
                    return Ok(());
                }
            }
            if *events >= BATCH {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Everything handed to the socket is out: free its queue budget.
    fn flush_done(&mut self) {
        self.need_flush = false;
        if self.unflushed_count > 0 {
            self.shared
                .flushed(self.unflushed_bytes, self.unflushed_count);
            self.unflushed_bytes = 0;
            self.unflushed_count = 0;
        }
    }

    /// The stream ended: cleanly if a close frame was exchanged.
    fn end_of_stream(&mut self) -> Exit {
        match self.close_received.take() {
            Some(status) => Exit::Clean(status),
            None => Exit::Abrupt,
        }
    }

    /// A socket error ends the connection; it is clean only after the exchange.
    fn io_exit(&mut self, error: &io::Error) -> Exit {
        debug!(%error, "connection error");
        self.end_of_stream()
    }

    /// RFC 6455 §7.4.1: the close code that answers a violation.
    fn violation_exit(&self, violation: Violation) -> Exit {
        debug!(%violation, "the peer broke the protocol");
        let (code, reason) = violation.close();
        Exit::Fail(code, reason)
    }
}

/// The payload of a close frame: the code, then the reason.
fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    payload
}
