//! The application's handles on a connection: [`WebSocket`], and its halves
//! [`Sender`] and [`Receiver`] for sending and receiving from different tasks.

use std::{fmt, net::SocketAddr, sync::Arc};

use crate::{
    error::{CloseError, ConnectError, SendError, TryRecvError},
    handler::{Outbox, hand_queued},
    message::Message,
    shared::{Shared, Snapshot},
    state::{CloseStatus, ConnectionInfo, ReadyState},
};

/// Keeps the connection's handle count; when the last handle goes, the task
/// closes the connection (code 1001, "going away") and ends.
#[derive(Debug)]
struct HandleRef(Arc<Shared>);

impl HandleRef {
    fn new(shared: Arc<Shared>) -> Self {
        shared.add_handle();
        Self(shared)
    }
}

impl Clone for HandleRef {
    fn clone(&self) -> Self {
        Self::new(self.0.clone())
    }
}

impl Drop for HandleRef {
    fn drop(&mut self) {
        self.0.drop_handle();
    }
}

/// The sending half of a connection. Cheap to clone; every clone sends on the
/// same connection, in the order the sends are made.
///
/// It is also a `futures::Sink<Message>`: `poll_ready` waits while the
/// outbound queue is full, `poll_close` starts the closing handshake (code
/// 1000) and waits until the connection is closed. [`WebSocket`] is one too,
/// and [`Receiver`] and [`WebSocket`] are `Stream<Item = Message>`, which end
/// once the connection is closed and everything received has been read.
/// `ws.send(message)` is the inherent [`send`](Self::send); the sink's is
/// `SinkExt::send(&mut ws, message)`, which does the same.
#[derive(Debug)]
pub struct Sender {
    handle: HandleRef,
    /// What the `Sink` calls hold between polls; a clone starts without.
    pub(crate) sink: crate::stream_sink::SinkState,
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        Self {
            handle: self.handle.clone(),
            sink: crate::stream_sink::SinkState::default(),
        }
    }
}

/// The receiving half of a connection.
#[derive(Debug)]
pub struct Receiver {
    handle: HandleRef,
}

/// A WebSocket connection, client or server, driven by its own task.
///
/// Messages go through two bounded queues (see [`Config`](crate::Config)):
/// [`try_send`](Self::try_send) fails at once when the outbound queue is full and
/// gives the message back; [`send`](Self::send) waits for room instead. When the
/// inbound queue is full the task stops reading the socket, so a slow reader
/// slows the peer down through TCP and nothing is lost.
///
/// Dropping every handle of an open connection closes it with code 1001.
#[derive(Debug)]
pub struct WebSocket {
    sender: Sender,
    receiver: Receiver,
}

impl WebSocket {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let handle = HandleRef::new(shared);
        Self {
            sender: Sender {
                handle: handle.clone(),
                sink: crate::stream_sink::SinkState::default(),
            },
            receiver: Receiver { handle },
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.sender.handle.0
    }

    pub(crate) fn sender_mut(&mut self) -> &mut Sender {
        &mut self.sender
    }

    pub(crate) fn receiver_mut(&mut self) -> &mut Receiver {
        &mut self.receiver
    }

    /// Splits the connection into halves that can live in different tasks.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }

    /// Joins the halves of one connection; gives them back if they belong to
    /// different connections.
    pub fn reunite(sender: Sender, receiver: Receiver) -> Result<Self, (Sender, Receiver)> {
        if Arc::ptr_eq(&sender.handle.0, &receiver.handle.0) {
            Ok(Self { sender, receiver })
        } else {
            Err((sender, receiver))
        }
    }

    /// A sender for this connection.
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// Waits until the handshake is over: `Ok` once open, or why it failed.
    pub async fn opened(&self) -> Result<(), ConnectError> {
        self.sender.opened().await
    }

    /// Queues a message if there is room now; see [`Sender::try_send`].
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.try_send(message)
    }

    /// Queues a message, waiting for room; see [`Sender::send`].
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.send(message).await
    }

    /// Queues a message, leaving the wake-up to the caller; see
    /// [`Sender::try_send_deferred`].
    pub fn try_send_deferred(
        &self,
        message: impl Into<Message>,
    ) -> Result<Option<TaskWake>, SendError> {
        self.sender.try_send_deferred(message)
    }

    /// Takes the next message if one is waiting; see [`Receiver::try_recv`].
    pub fn try_recv(&mut self) -> Result<Message, TryRecvError> {
        self.receiver.try_recv()
    }

    /// Waits for the next message; see [`Receiver::recv`].
    pub async fn recv(&mut self) -> Option<Message> {
        self.receiver.recv().await
    }

    /// Hands every message to `on_message`, called inside the connection's own
    /// task as soon as the message is decoded (messages already received come
    /// first, in order), until the connection closes; then tells how it closed.
    ///
    /// This is the fastest way to answer messages: what the handler sends
    /// through its [`Outbox`] goes out in the same wake-up, with no hand-off to
    /// another task. In exchange the handler runs on the runtime thread that
    /// does this connection's I/O: it must not block, and while it runs no
    /// other connection on that thread makes progress. It is dropped when the
    /// connection ends; a handler that panics ends the connection abruptly.
    /// A [`Sender`] the handler keeps (from [`Outbox::sender`]) is a handle
    /// like any other: while it lives, dropping this future does not close
    /// the connection.
    ///
    /// If the connection closes before the task takes the handler (it was
    /// already closed when `serve` was called), `serve` itself hands the
    /// handler the messages still queued; its sends then fail with
    /// [`SendError::NotOpen`](crate::SendError::NotOpen).
    ///
    /// The inbound queue is not used, so `max_queued_packets` and
    /// `inbound_buffer_size` limit nothing here but the size of one message
    /// (larger ones still close with 1009). Sends obey the outbound limits: see
    /// [`Outbox`].
    ///
    /// ```
    /// # use wspeer_core::{Config, Listener};
    /// # async fn run(mut listener: Listener) {
    /// let ws = listener.accept().await;
    /// tokio::spawn(ws.serve(|message, out| {
    ///     // An echo; a full outbound queue gives the message back, dropped here.
    ///     let _ = out.try_send(message);
    /// }));
    /// # }
    /// ```
    pub async fn serve<F>(self, on_message: F) -> CloseStatus
    where
        F: FnMut(Message, &Outbox<'_>) + Send + 'static,
    {
        self.shared().install_handler(Box::new(on_message));
        // If this future is dropped first, a handler the task never took would
        // stay in its slot for good, and one holding a `Sender` of its own
        // would keep the whole connection alive through it.
        let unclaimed = UnclaimedHandler(self.shared());
        // Holding `self` keeps the connection's handles alive while it serves.
        let status = self.closed().await;
        // The task ended before it took the handler (the connection closed
        // before `serve` or during it): what it received is still queued.
        if let Some(mut handler) = self.shared().take_handler() {
            hand_queued(self.shared(), &mut handler);
        }
        drop(unclaimed);
        status
    }

    /// Starts the closing handshake; see [`Sender::close`].
    pub fn close(&self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.sender.close(code, reason)
    }

    /// Waits until the connection is closed and tells how.
    pub async fn closed(&self) -> CloseStatus {
        self.sender.closed().await
    }

    /// Turns `TCP_NODELAY` on or off for this connection's socket (Godot's
    /// `set_no_delay`). Applied by the connection task; ignored once closed.
    pub fn set_no_delay(&self, enabled: bool) {
        self.shared().request_no_delay(enabled);
    }

    /// The ready state now.
    pub fn ready_state(&self) -> ReadyState {
        self.sender.ready_state()
    }

    /// How the connection closed; meaningful once [`ReadyState::Closed`].
    pub fn close_status(&self) -> CloseStatus {
        self.sender.close_status()
    }

    /// Why the connection failed before it opened, if it did.
    pub fn connect_error(&self) -> Option<ConnectError> {
        self.shared().connect_error()
    }

    /// Addresses, requested URL and subprotocol.
    pub fn info(&self) -> ConnectionInfo {
        self.shared().info()
    }

    /// The remote address, once connected.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.info().peer_addr
    }

    /// The local address, once connected.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.info().local_addr
    }

    /// Payload bytes queued but not yet written to the socket (Godot's
    /// `get_current_outbound_buffered_amount`); 0 unless open.
    pub fn buffered_amount(&self) -> usize {
        self.sender.buffered_amount()
    }

    /// Messages received and not yet read.
    pub fn available(&self) -> usize {
        self.shared().snapshot(|s| s.available)
    }

    /// Reads several facts about the connection as of one instant: state, close
    /// status, addresses, queue sizes. Separate calls to [`ready_state`](Self::ready_state),
    /// [`available`](Self::available) and the others each take the
    /// connection's lock, so the connection can move between them (closed, with
    /// the queue still counted as open); `f` runs under the lock once and sees
    /// them all agree. Keep `f` short: the connection's task waits for it.
    ///
    /// ```no_run
    /// # async fn example(ws: wspeer_core::WebSocket) {
    /// use wspeer_core::ReadyState;
    ///
    /// let (state, waiting) = ws.with_snapshot(|now| (now.ready_state(), now.available()));
    /// if state == ReadyState::Closed {
    ///     println!("closed with {waiting} messages still to read");
    /// }
    /// # }
    /// ```
    pub fn with_snapshot<R>(&self, f: impl FnOnce(&SnapshotView<'_>) -> R) -> R {
        self.shared().snapshot(|s| f(&SnapshotView(s)))
    }
}

/// A connection as of one instant, given to [`WebSocket::with_snapshot`]'s
/// closure.
#[derive(Debug)]
pub struct SnapshotView<'a>(Snapshot<'a>);

impl SnapshotView<'_> {
    /// The ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.0.state
    }
    /// How it closed.
    pub fn close_status(&self) -> &CloseStatus {
        self.0.close
    }
    /// Addresses, URL and subprotocol.
    pub fn info(&self) -> &ConnectionInfo {
        self.0.info
    }
    /// Why it never opened.
    pub fn connect_error(&self) -> Option<&ConnectError> {
        self.0.connect_error
    }
    /// Messages waiting to be read.
    pub fn available(&self) -> usize {
        self.0.available
    }
    /// Bytes queued for sending; 0 unless open.
    pub fn buffered_amount(&self) -> usize {
        self.0.buffered_amount_if_open()
    }
}

impl Sender {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self {
            handle: HandleRef::new(shared),
            sink: crate::stream_sink::SinkState::default(),
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.0
    }

    pub(crate) fn shared_arc(&self) -> &Arc<Shared> {
        &self.handle.0
    }

    /// Queues a message if the outbound queue has room now, or gives it back at
    /// once: [`SendError::Full`] when `max_queued_packets` messages or
    /// `outbound_buffer_size` bytes are waiting, [`SendError::TooLarge`] when the
    /// message alone exceeds `outbound_buffer_size`, [`SendError::NotOpen`] unless
    /// the connection is open. Never waits.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.shared().try_send(message.into())
    }

    /// [`try_send`](Self::try_send), except that the connection's task is not
    /// woken: when it needs to be, the [`TaskWake`] returned says so, and the
    /// message is not written before [`TaskWake::wake`] is called.
    ///
    /// For a program that drives its runtime itself (as the poll facade does
    /// on the game loop's thread): it sends from outside the runtime, where
    /// each wake-up costs a system call or entering the runtime, and wakes the
    /// tasks it sent to from inside it, where a wake-up is cheap.
    pub fn try_send_deferred(
        &self,
        message: impl Into<Message>,
    ) -> Result<Option<TaskWake>, SendError> {
        let was_idle = self.shared().enqueue(message.into())?;
        Ok(was_idle.then(|| TaskWake(self.handle.0.clone())))
    }

    /// Queues a message, waiting while the outbound queue is full. Fails at once
    /// for a message that can never fit or a connection that is not open.
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let mut message = message.into();
        // Fast path: room now, no waiting machinery.
        match self.shared().try_send(message) {
            Err(SendError::Full(back)) => message = back,
            other => return other,
        }
        loop {
            let writable = self.shared().writable();
            tokio::pin!(writable);
            writable.as_mut().enable();
            match self.shared().try_send(message) {
                Err(SendError::Full(back)) => message = back,
                other => return other,
            }
            writable.await;
        }
    }

    /// Starts the closing handshake, as Godot's `close(code, reason)`: the close
    /// frame goes out after the messages already queued and the state becomes
    /// [`ReadyState::Closing`]. A negative code drops the connection at once
    /// without a close frame. While connecting, any code abandons the attempt.
    ///
    /// Codes that RFC 6455 forbids on the wire and reasons over 123 bytes are
    /// refused with an error, and the connection stays as it was.
    pub fn close(&self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.shared().request_close(code, reason)
    }

    /// Closes at once for a peer too slow to read: drops every message still
    /// queued (not yet handed to the socket), then sends the close frame. Same
    /// rules for `code` and `reason` as [`close`](Self::close).
    pub fn close_discarding(&self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.shared().request_close_with(code, reason, true)
    }

    /// Waits until the handshake is over: `Ok` once open, or why it failed.
    pub async fn opened(&self) -> Result<(), ConnectError> {
        loop {
            let changed = self.shared().state_changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let done = self.shared().snapshot(|s| match s.state {
                ReadyState::Connecting => None,
                _ => Some(s.connect_error.cloned().map_or(Ok(()), Err)),
            });
            if let Some(result) = done {
                return result;
            }
            changed.await;
        }
    }

    /// Waits until the connection is closed and tells how.
    pub async fn closed(&self) -> CloseStatus {
        loop {
            let changed = self.shared().state_changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let done = self
                .shared()
                .snapshot(|s| (s.state == ReadyState::Closed).then(|| s.close.clone()));
            if let Some(status) = done {
                return status;
            }
            changed.await;
        }
    }

    /// The ready state now.
    pub fn ready_state(&self) -> ReadyState {
        self.shared().ready_state()
    }

    /// How the connection closed; meaningful once [`ReadyState::Closed`].
    pub fn close_status(&self) -> CloseStatus {
        self.shared().close_status()
    }

    /// Payload bytes queued but not yet written; 0 unless open.
    pub fn buffered_amount(&self) -> usize {
        self.shared().snapshot(|s| s.buffered_amount_if_open())
    }
}

impl Receiver {
    fn shared(&self) -> &Shared {
        &self.handle.0
    }

    pub(crate) fn shared_arc(&self) -> &Arc<Shared> {
        &self.handle.0
    }

    /// Takes the oldest received message if one is waiting. Messages that arrived
    /// before the connection closed stay readable after it closed (Godot loses
    /// them; godotengine/godot#107442).
    pub fn try_recv(&mut self) -> Result<Message, TryRecvError> {
        self.shared().try_recv()
    }

    /// Waits for the next message; `None` once the connection is closed and every
    /// message has been read.
    pub async fn recv(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.shared().poll_recv(cx)).await
    }

    /// The ready state now.
    pub fn ready_state(&self) -> ReadyState {
        self.shared().ready_state()
    }

    /// How the connection closed; meaningful once [`ReadyState::Closed`].
    pub fn close_status(&self) -> CloseStatus {
        self.shared().close_status()
    }
}

/// A connection task's wake-up that [`Sender::try_send_deferred`] left to the
/// caller. Until it is called (or dropped, which wakes too), the message
/// queued stays unwritten.
#[must_use = "the message is not written until the task is woken"]
pub struct TaskWake(Arc<Shared>);

impl TaskWake {
    /// Wakes the connection's task, which then writes what is queued.
    pub fn wake(self) {
        // Dropping wakes: see `Drop`.
    }
}

impl Drop for TaskWake {
    /// A `TaskWake` dropped unused still wakes the task: otherwise the queue
    /// would stay non-empty with nobody to write it, and later sends (which
    /// only wake an idle queue) would not wake the task either.
    fn drop(&mut self) {
        self.0.wake_task();
    }
}

impl fmt::Debug for TaskWake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskWake").finish_non_exhaustive()
    }
}

/// Drops the handler `serve` installed if the task has not taken it, however
/// `serve` ends.
struct UnclaimedHandler<'a>(&'a Shared);

impl Drop for UnclaimedHandler<'_> {
    fn drop(&mut self) {
        drop(self.0.take_handler());
    }
}
