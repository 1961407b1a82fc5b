//! The I/O loop of an open connection: moves messages between the socket and the
//! two bounded queues, answers pings, runs the heartbeat and the closing handshake.
//!
//! It is one hand-written poll function over the tungstenite stream (no split, no
//! lock on the socket): each wake-up it writes what is queued (feed many, flush
//! once), then reads while the inbound queue has room.

use std::{
    future::poll_fn,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{Sink, Stream};
use tokio::{
    io::AsyncWriteExt,
    time::{Instant, Sleep, sleep, timeout},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Message as WsMessage,
        error::{Error as WsError, ProtocolError},
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};
use tracing::{debug, trace};

use crate::{
    frame_guard::Violation,
    message::{Message, Payload},
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
    ws: WebSocketStream<S>,
    shared: Arc<Shared>,
    /// A received message waiting for room in the inbound queue.
    pending_in: Option<Message>,
    /// Bytes and messages handed to tungstenite since the last flush.
    unflushed_bytes: usize,
    unflushed_count: usize,
    need_flush: bool,
    /// A close the application asked for, sent once the outbound queue is empty.
    pending_close: Option<CloseRequest>,
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
}

struct Heartbeat {
    interval: Duration,
    timer: Pin<Box<Sleep>>,
    /// A ping is out and no pong has come back since.
    waiting: bool,
    /// The timer fired but the socket could not take the ping yet.
    ping_due: bool,
}

impl<S> Driver<S>
where
    S: Transport,
{
    pub(crate) fn new(ws: WebSocketStream<S>, shared: Arc<Shared>) -> Self {
        let interval = shared.config.heartbeat_interval;
        let heartbeat = (!interval.is_zero()).then(|| Heartbeat {
            interval,
            timer: Box::pin(sleep(interval)),
            waiting: false,
            ping_due: false,
        });
        Self {
            ws,
            shared,
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
        }
    }

    /// Runs the connection until it is closed, then records how it closed.
    pub(crate) async fn run(mut self) {
        let exit = poll_fn(|cx| self.poll_io(cx)).await;
        debug!(?exit, "connection ended");
        let close_timeout = self.shared.config.close_timeout;
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
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let send = futures_util::SinkExt::send(&mut self.ws, WsMessage::Close(Some(frame)));
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
            let stream = self.ws.get_mut();
            let _ = stream.shutdown().await;
            // On the heap, and only now: inline it would enlarge every
            // connection's future for its whole life.
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
            && let Err(error) = self.ws.get_ref().set_nodelay(enabled)
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

        if let Err(exit) = self.poll_heartbeat(cx) {
            return Poll::Ready(exit);
        }
        let wrote = match self.poll_write(cx) {
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
                self.start_close_timer();
                0
            }
            Err(exit) => return Poll::Ready(exit),
        };
        if let Some((code, reason)) = self.failing
            && self.pending_in.is_none()
            && !self.need_flush
            && self.shared.drained(self.discard_inbound)
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
        self.pending_close = Some(request);
        self.start_close_timer();
    }

    fn start_close_timer(&mut self) {
        if self.close_deadline.is_none() {
            let at = Instant::now() + self.shared.config.close_timeout;
            self.close_deadline = Some(Box::pin(tokio::time::sleep_until(at)));
        }
    }

    /// Sends a due heartbeat ping, or fails a peer that never answered the last one.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Result<(), Exit> {
        let closing = self.closing();
        let Some(hb) = &mut self.heartbeat else {
            return Ok(());
        };
        // As in Godot, the heartbeat only runs while the connection is open.
        if closing {
            return Ok(());
        }
        while hb.timer.as_mut().poll(cx).is_ready() {
            if hb.waiting {
                debug!("no pong within the heartbeat interval");
                return Err(Exit::Abrupt);
            }
            hb.waiting = true;
            hb.ping_due = true;
            hb.timer.as_mut().reset(Instant::now() + hb.interval);
        }
        Ok(())
    }

    /// Writes queued messages until the queue is empty, the socket blocks or the
    /// batch is full, then flushes once. Returns how many frames it wrote.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<usize, Exit> {
        let mut written = 0;
        // After a close frame in either direction no data may be sent.
        while written < BATCH && !self.close_sent && self.close_received.is_none() {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => return Err(self.exit_for(e)),
                Poll::Ready(Ok(())) => {}
            }
            let frame = if let Some(hb) = self.heartbeat.as_mut().filter(|hb| hb.ping_due) {
                hb.ping_due = false;
                WsMessage::Ping(Default::default())
            } else if let Some(message) = self.shared.pop_outbound() {
                self.unflushed_bytes += message.len();
                self.unflushed_count += 1;
                to_tungstenite(message)
            } else if let Some(close) = self.pending_close.take() {
                self.close_sent = true;
                trace!(code = close.code, "sending close frame");
                WsMessage::Close(Some(CloseFrame {
                    code: CloseCode::from(close.code),
                    reason: close.reason.into(),
                }))
            } else {
                break;
            };
            if let Err(e) = Pin::new(&mut self.ws).start_send(frame) {
                return Err(self.exit_for(e));
            }
            self.need_flush = true;
            written += 1;
        }
        if self.need_flush {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Pending => {}
                Poll::Ready(Err(e)) => return Err(self.exit_for(e)),
                Poll::Ready(Ok(())) => self.flush_done(),
            }
        }
        Ok(written)
    }

    /// Reads messages while the inbound queue has room. Returns how many frames it
    /// read.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<usize, Exit> {
        let mut read = 0;
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
                        break Ok(read);
                    }
                }
            }
            if read >= BATCH || self.failing.is_some() {
                break Ok(read);
            }
            let item = match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Pending => break Ok(read),
                Poll::Ready(None) => break Err(self.end_of_stream()),
                Poll::Ready(Some(Err(e))) => break Err(self.exit_for(e)),
                Poll::Ready(Some(Ok(item))) => item,
            };
            read += 1;
            match item {
                WsMessage::Text(text) => self.pending_in = Some(Message::from(Payload::Text(text))),
                WsMessage::Binary(data) => {
                    self.pending_in = Some(Message::from(Payload::Binary(data)));
                }
                // tungstenite queued the pong; it goes out with the next read or flush.
                WsMessage::Ping(_) => {
                    // Send the pong now; while it cannot go out, read no more, so
                    // a peer that pings and never reads is held back by TCP
                    // instead of filling tungstenite's write buffer with pongs.
                    match Pin::new(&mut self.ws).poll_flush(cx) {
                        Poll::Ready(Ok(())) => self.flush_done(),
                        Poll::Ready(Err(e)) => break Err(self.exit_for(e)),
                        Poll::Pending => {
                            self.need_flush = true;
                            break Ok(read);
                        }
                    }
                }
                WsMessage::Pong(_) => {
                    if let Some(hb) = &mut self.heartbeat {
                        hb.waiting = false;
                    }
                }
                WsMessage::Close(frame) => {
                    debug!(?frame, "close frame received");
                    self.close_received = Some(match frame {
                        // tungstenite answers a forbidden close code with 1002
                        // "Protocol violation" and hands us that frame; report
                        // the reason every other 1002 of ours carries.
                        Some(frame)
                            if frame.code == CloseCode::Protocol
                                && frame.reason == "Protocol violation" =>
                        {
                            CloseStatus {
                                code: 1002,
                                reason: "Protocol error".to_owned(),
                            }
                        }
                        Some(frame) => CloseStatus {
                            code: i32::from(u16::from(frame.code)),
                            reason: frame.reason.to_string(),
                        },
                        // RFC 6455 §7.1.5: no status code in the frame is 1005.
                        None => CloseStatus {
                            code: 1005,
                            reason: String::new(),
                        },
                    });
                    self.pending_close = None;
                    self.need_flush = true;
                    self.shared.set_closing();
                    self.start_close_timer();
                }
                WsMessage::Frame(_) => {}
            }
        };
        if delivered {
            self.shared.notify_readable();
        }
        result
    }

    /// Everything handed to tungstenite is on the socket: free its queue budget.
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

    /// Maps a tungstenite error to the way the connection ends (RFC 6455 §7.4.1).
    fn exit_for(&mut self, error: WsError) -> Exit {
        debug!(%error, "connection error");
        match error {
            WsError::Io(e) if Violation::of(&e).is_some() => match Violation::of(&e) {
                Some(Violation::TooManyFragments) => Exit::Fail(1008, "Too many fragments"),
                _ => Exit::Fail(1007, "Invalid frame payload data"),
            },
            WsError::Capacity(_) => Exit::Fail(1009, "Message too big"),
            WsError::Utf8(_) => Exit::Fail(1007, "Invalid frame payload data"),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => self.end_of_stream(),
            WsError::Protocol(_) if !self.close_sent && self.close_received.is_none() => {
                Exit::Fail(1002, "Protocol error")
            }
            _ => self.end_of_stream(),
        }
    }
}

fn to_tungstenite(message: Message) -> WsMessage {
    match message.into_payload_kind() {
        Payload::Text(text) => WsMessage::Text(text),
        Payload::Binary(data) => WsMessage::Binary(data),
    }
}
