//! Message handlers that run inside the connection's own task
//! ([`WebSocket::serve`](crate::WebSocket::serve)).
//!
//! A handler takes each message as soon as it is decoded, and what it sends
//! goes out in the same wake-up: no queue hand-off and no second task to wake,
//! which is most of what an echo costs beyond the system calls.

use std::{fmt, sync::Arc};

use crate::{
    error::{CloseError, SendError},
    handle::Sender,
    message::Message,
    shared::Shared,
};

/// A handler as the task keeps it.
pub(crate) type BoxedHandler = Box<dyn FnMut(Message, &Outbox<'_>) + Send + 'static>;

/// Hands `handler` every message still in the inbound queue, oldest first.
pub(crate) fn hand_queued(shared: &Arc<Shared>, handler: &mut BoxedHandler) {
    let outbox = Outbox::new(shared);
    while let Ok(message) = shared.try_recv() {
        handler(message, &outbox);
    }
}

/// A handler on its way from [`WebSocket::serve`](crate::WebSocket::serve) to
/// the task (a box of code has no `Debug` of its own).
#[derive(Default)]
pub(crate) struct HandlerSlot(pub(crate) Option<BoxedHandler>);

impl fmt::Debug for HandlerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "handler" } else { "none" })
    }
}

/// What a handler may do with its connection while it handles a message.
///
/// Sends obey the same outbound queue limits as [`Sender::try_send`]: when the
/// peer does not read fast enough the queue fills up and `try_send` gives the
/// message back with [`SendError::Full`]. Reading goes on meanwhile (pausing it
/// could deadlock two peers that both write more than they read), so the
/// handler decides: drop the message, keep it, or close the connection.
pub struct Outbox<'a> {
    shared: &'a Arc<Shared>,
}

impl fmt::Debug for Outbox<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl<'a> Outbox<'a> {
    pub(crate) fn new(shared: &'a Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Queues a message if there is room; it is written before the task
    /// sleeps again.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        // The task is running (it called us) and writes after the handler, so
        // it needs no wake-up.
        self.shared.try_send_from_task(message.into())
    }

    /// Closes the connection after the queued messages; see
    /// [`WebSocket::close`](crate::WebSocket::close).
    pub fn close(&self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.shared.request_close(code, reason)
    }

    /// Payload bytes queued but not yet written; see
    /// [`WebSocket::buffered_amount`](crate::WebSocket::buffered_amount).
    pub fn buffered_amount(&self) -> usize {
        self.shared.snapshot(|view| view.buffered_amount_if_open())
    }

    /// A sender for this connection, to keep and use from anywhere (another
    /// connection's handler, another task).
    pub fn sender(&self) -> Sender {
        Sender::from_shared(self.shared.clone())
    }
}
