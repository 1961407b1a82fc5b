//! The `futures` traits: [`Receiver`] and [`WebSocket`] are
//! `Stream<Item = Message>`, [`Sender`] and [`WebSocket`] are `Sink<Message>`,
//! with the connection's bounded queues behind them.
//!
//! - The stream yields every message, then ends (`None`) once the connection
//!   is closed and everything received has been read; the close status stays
//!   readable ([`WebSocket::close_status`]).
//! - `poll_ready` waits while the outbound queue is full (backpressure: the
//!   sink never buffers more than the one message `start_send` could not queue
//!   yet), `poll_flush` waits until that message is queued, and `poll_close`
//!   starts the closing handshake (code 1000) after it and waits until the
//!   connection is closed. A connection that is not open, or a message larger
//!   than `outbound_buffer_size`, is an error that gives the message back.
//! - `forward` wants a stream of `Result`s: `rx.map(Ok).forward(tx)`.
//! - `ws.send(message)` calls the inherent [`WebSocket::send`] (queue, waiting
//!   for room); `SinkExt::send(&mut ws, message)` is the sink's, which also
//!   waits for the message to be queued. They do the same.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use futures_util::{Sink, Stream};

use crate::{
    error::SendError,
    handle::{Receiver, Sender, WebSocket},
    message::Message,
    shared::Shared,
    state::ReadyState,
};

type Wait = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// What a [`Sender`] used as a sink holds between polls.
#[derive(Default)]
pub(crate) struct SinkState {
    /// A message `start_send` took while the queue was full.
    pending: Option<Message>,
    /// Registered for the queue to have room, or the state to change.
    wait: Option<Wait>,
    /// `poll_close` has asked for the closing handshake.
    closing: bool,
}

impl fmt::Debug for SinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkState")
            .field("pending", &self.pending.is_some())
            .field("closing", &self.closing)
            .finish()
    }
}

/// A wait for room in the outbound queue, registered before it is returned,
/// so that room freed after the caller's next look is not missed.
fn writable(shared: &Arc<Shared>, cx: &mut Context<'_>) -> Option<Wait> {
    let shared = shared.clone();
    let mut wait: Wait = Box::pin(async move { shared.writable().await });
    wait.as_mut().poll(cx).is_pending().then_some(wait)
}

/// A wait for the state to change, registered the same way.
fn state_changed(shared: &Arc<Shared>, cx: &mut Context<'_>) -> Option<Wait> {
    let shared = shared.clone();
    let mut wait: Wait = Box::pin(async move { shared.state_changed().await });
    wait.as_mut().poll(cx).is_pending().then_some(wait)
}

impl Sender {
    /// Queues the pending message, if any; pending while the queue is full.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        loop {
            if let Some(wait) = &mut self.sink.wait {
                ready!(wait.as_mut().poll(cx));
                self.sink.wait = None;
            }
            let Some(message) = self.sink.pending.take() else {
                return Poll::Ready(Ok(()));
            };
            let shared = self.shared_arc().clone();
            let wait = writable(&shared, cx);
            match shared.try_send(message) {
                Err(SendError::Full(message)) => {
                    self.sink.pending = Some(message);
                    match wait {
                        Some(wait) => {
                            self.sink.wait = Some(wait);
                            return Poll::Pending;
                        }
                        // Room was freed meanwhile: try again.
                        None => continue,
                    }
                }
                other => return Poll::Ready(other),
            }
        }
    }
}

impl Sink<Message> for Sender {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_pending(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), SendError> {
        let this = self.get_mut();
        debug_assert!(this.sink.pending.is_none(), "start_send without poll_ready");
        match this.shared_arc().try_send(message) {
            Err(SendError::Full(message)) => {
                this.sink.pending = Some(message);
                Ok(())
            }
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_pending(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if !this.sink.closing {
            this.sink.closing = true;
            // 1000 with no reason is always a valid close.
            let _ = this.close(1000, "");
        }
        loop {
            if let Some(wait) = &mut this.sink.wait {
                ready!(wait.as_mut().poll(cx));
                this.sink.wait = None;
            }
            let shared = this.shared_arc().clone();
            let wait = state_changed(&shared, cx);
            if shared.ready_state() == ReadyState::Closed {
                return Poll::Ready(Ok(()));
            }
            match wait {
                Some(wait) => this.sink.wait = Some(wait),
                None => continue,
            }
        }
    }
}

impl Stream for Receiver {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.shared_arc().poll_recv(cx)
    }
}

impl Stream for WebSocket {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Pin::new(self.get_mut().receiver_mut()).poll_next(cx)
    }
}

impl Sink<Message> for WebSocket {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(self.get_mut().sender_mut()).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), SendError> {
        Pin::new(self.get_mut().sender_mut()).start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(self.get_mut().sender_mut()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(self.get_mut().sender_mut()).poll_close(cx)
    }
}
