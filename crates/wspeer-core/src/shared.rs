//! The state one connection task shares with its handles: the two bounded queues,
//! the ready state, and the wake-ups between them.
//!
//! One mutex guards it all, held only for a few instructions at a time; the
//! connection task and the application never wait on each other while holding it.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Waker},
};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::{
    config::Config,
    error::{CloseError, ConnectError, SendError, TryRecvError},
    handler::{BoxedHandler, HandlerSlot},
    message::Message,
    state::{CloseStatus, ConnectionInfo, ReadyState},
};

/// A close the application asked for and the task has not yet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseRequest {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

/// What the task must do about the application, read by the task on each wake-up.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// `close(-1)`: drop the socket now, send nothing.
    pub(crate) abort: bool,
    /// A close frame to send once the queued messages are out.
    pub(crate) close: Option<CloseRequest>,
    /// Every handle is gone: nobody will read or send again.
    pub(crate) handles_gone: bool,
    /// `set_no_delay` was called on the open connection.
    pub(crate) no_delay: Option<bool>,
    /// `serve` handed over a handler for the messages.
    pub(crate) handler: HandlerSlot,
}

#[derive(Debug)]
struct Inner {
    state: ReadyState,
    close: CloseStatus,
    connect_error: Option<ConnectError>,
    info: ConnectionInfo,
    inbound: VecDeque<Message>,
    inbound_bytes: usize,
    /// The task holds a message that did not fit and waits for room.
    task_waits_for_room: bool,
    /// The application came back for more (found the queue empty, or polled)
    /// since it last took a message: it has answered what it took.
    app_came_back: bool,
    outbound: VecDeque<Message>,
    /// Payload bytes and messages queued or handed to the socket but not yet
    /// flushed: Godot's buffered amount and its outbound counters.
    outbound_bytes: usize,
    outbound_count: usize,
    /// A `try_send` found the outbound queue full since the last flush: a
    /// sender may be waiting for room.
    sender_refused: bool,
    abort: bool,
    close_request: Option<CloseRequest>,
    no_delay_request: Option<bool>,
    handler: HandlerSlot,
    handles: usize,
}

/// Shared between one connection task and its handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    inner: Mutex<Inner>,
    /// Wakes the connection task: new outbound data, room freed, close, abort.
    task_waker: AtomicWaker,
    /// The outbound queue may hold messages: lets the task skip the lock when
    /// it was woken for something else. Set and cleared under the lock.
    outbound_waiting: AtomicBool,
    /// Something in [`Control`] changed since the task last read it.
    control_changed: AtomicBool,
    /// Wakes the one receiver waiting in `recv`: a message arrived or the state
    /// changed. (A connection has a single receiver, so no list of waiters.)
    receiver: AtomicWaker,
    /// Wakes tasks waiting for the state to change (`opened`, `closed`).
    state_changed: Notify,
    /// Wakes senders waiting for room in the outbound queue.
    writable: Notify,
}

impl Shared {
    pub(crate) fn new(config: Arc<Config>, requested_url: String) -> Arc<Self> {
        Arc::new(Self {
            config,
            inner: Mutex::new(Inner {
                state: ReadyState::Connecting,
                close: CloseStatus::unclean(),
                connect_error: None,
                info: ConnectionInfo {
                    requested_url,
                    ..ConnectionInfo::default()
                },
                inbound: VecDeque::new(),
                inbound_bytes: 0,
                task_waits_for_room: false,
                app_came_back: true,
                outbound: VecDeque::new(),
                outbound_bytes: 0,
                outbound_count: 0,
                sender_refused: false,
                abort: false,
                close_request: None,
                no_delay_request: None,
                handler: HandlerSlot::default(),
                handles: 0,
            }),
            task_waker: AtomicWaker::new(),
            outbound_waiting: AtomicBool::new(false),
            control_changed: AtomicBool::new(true),
            receiver: AtomicWaker::new(),
            state_changed: Notify::new(),
            writable: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves consistent data (every update is a
        // few plain assignments), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- the application's side -----

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.lock().state
    }

    pub(crate) fn close_status(&self) -> CloseStatus {
        self.lock().close.clone()
    }

    pub(crate) fn connect_error(&self) -> Option<ConnectError> {
        self.lock().connect_error.clone()
    }

    pub(crate) fn info(&self) -> ConnectionInfo {
        self.lock().info.clone()
    }

    /// Reads a consistent view of the state, for the poll facade.
    pub(crate) fn snapshot<R>(&self, f: impl FnOnce(Snapshot<'_>) -> R) -> R {
        let mut inner = self.lock();
        if !inner.app_came_back {
            inner.app_came_back = true;
            if std::mem::take(&mut inner.task_waits_for_room) {
                self.task_waker.wake();
            }
        }
        f(Snapshot {
            state: inner.state,
            close: &inner.close,
            info: &inner.info,
            connect_error: inner.connect_error.as_ref(),
            available: inner.inbound.len(),
            buffered_amount: inner.outbound_bytes,
        })
    }

    /// Queues a message, or gives it back at once when it cannot be queued.
    pub(crate) fn try_send(&self, message: Message) -> Result<(), SendError> {
        // The task drains the queue until it is empty or the socket blocks, so it
        // only needs a wake-up when the queue was empty.
        if self.enqueue(message)? {
            self.wake_task();
        }
        Ok(())
    }

    /// [`Self::try_send`] from inside the task (a handler): the task writes
    /// before it sleeps, so waking it would only cost it a second poll.
    pub(crate) fn try_send_from_task(&self, message: Message) -> Result<(), SendError> {
        self.enqueue(message).map(|_| ())
    }

    pub(crate) fn wake_task(&self) {
        self.task_waker.wake();
    }

    /// Queues a message without waking the task; returns whether the queue
    /// was empty before (then the task needs a wake-up to write it).
    pub(crate) fn enqueue(&self, message: Message) -> Result<bool, SendError> {
        let mut inner = self.lock();
        if inner.state != ReadyState::Open || inner.close_request.is_some() {
            return Err(SendError::NotOpen(message));
        }
        let budget = self.config.outbound_buffer_size;
        if budget > 0 && message.len() > budget {
            return Err(SendError::TooLarge(message));
        }
        if inner.outbound_count >= self.config.max_queued_packets
            || (budget > 0 && inner.outbound_bytes + message.len() > budget)
        {
            inner.sender_refused = true;
            return Err(SendError::Full(message));
        }
        let was_idle = inner.outbound.is_empty();
        inner.outbound_bytes += message.len();
        inner.outbound_count += 1;
        inner.outbound.push_back(message);
        if was_idle {
            self.outbound_waiting.store(true, Ordering::Release);
        }
        Ok(was_idle)
    }

    /// A future that completes when room may have been freed in the outbound
    /// queue or the state changed. Create it before checking, then await it.
    pub(crate) fn writable(&self) -> tokio::sync::futures::Notified<'_> {
        self.writable.notified()
    }

    /// A future that completes when the state may have changed. Create it
    /// before checking, then await it.
    pub(crate) fn state_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.state_changed.notified()
    }

    /// Takes the oldest received message, or registers `cx` to be woken when
    /// one arrives or the state changes. `None` once closed and drained.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        match self.take_inbound(Some(cx.waker())) {
            Ok(message) => Poll::Ready(Some(message)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }

    /// Takes the oldest received message.
    pub(crate) fn try_recv(&self) -> Result<Message, TryRecvError> {
        self.take_inbound(None)
    }

    /// Takes the oldest received message; when there is none, registers `waker`
    /// (under the lock, so that no delivery can slip in between).
    fn take_inbound(&self, waker: Option<&Waker>) -> Result<Message, TryRecvError> {
        let mut inner = self.lock();
        match inner.inbound.pop_front() {
            Some(message) => {
                inner.inbound_bytes -= message.len();
                inner.app_came_back = false;
                let wake = std::mem::take(&mut inner.task_waits_for_room);
                drop(inner);
                if wake {
                    self.task_waker.wake();
                }
                Ok(message)
            }
            None => {
                let closed = inner.state == ReadyState::Closed;
                let wake = !inner.app_came_back && std::mem::take(&mut inner.task_waits_for_room);
                inner.app_came_back = true;
                if let Some(waker) = waker
                    && !closed
                {
                    self.receiver.register(waker);
                }
                drop(inner);
                if wake {
                    self.task_waker.wake();
                }
                Err(if closed {
                    TryRecvError::Closed
                } else {
                    TryRecvError::Empty
                })
            }
        }
    }

    /// Godot's `close(code, reason)`: a negative code drops the connection at once;
    /// otherwise a close frame is sent after the messages already queued.
    pub(crate) fn request_close(&self, code: i32, reason: &str) -> Result<(), CloseError> {
        self.request_close_with(code, reason, false)
    }

    /// `request_close`, first dropping the messages still queued when `discard`.
    pub(crate) fn request_close_with(
        &self,
        code: i32,
        reason: &str,
        discard: bool,
    ) -> Result<(), CloseError> {
        if code >= 0 {
            validate_close(code, reason)?;
        }
        let mut inner = self.lock();
        match inner.state {
            ReadyState::Closed => return Ok(()),
            ReadyState::Connecting => {
                inner.abort = true;
                inner.state = ReadyState::Closed;
                inner.connect_error = Some(ConnectError::Aborted);
            }
            _ if code < 0 => {
                inner.abort = true;
                inner.state = ReadyState::Closed;
            }
            ReadyState::Open => {
                if discard {
                    let dropped: usize = inner.outbound.iter().map(Message::len).sum();
                    inner.outbound_bytes -= dropped;
                    inner.outbound_count -= inner.outbound.len();
                    inner.outbound.clear();
                }
                inner.state = ReadyState::Closing;
                inner.close_request = Some(CloseRequest {
                    code: code as u16,
                    reason: reason.to_owned(),
                });
            }
            ReadyState::Closing => return Ok(()),
        }
        drop(inner);
        self.wake_for_control();
        self.notify_app();
        Ok(())
    }

    /// Asks the task to set `TCP_NODELAY` on the socket.
    pub(crate) fn request_no_delay(&self, enabled: bool) {
        self.lock().no_delay_request = Some(enabled);
        self.wake_for_control();
    }

    /// Whether the application gave up on the connection (`close` while
    /// connecting, or every handle dropped). Reads without taking anything, so
    /// that the I/O loop still finds every request made during the handshake.
    pub(crate) fn abandoned(&self) -> bool {
        let inner = self.lock();
        inner.abort || inner.handles == 0
    }

    /// Whether something in [`Control`] changed since the task last read it
    /// (cheap: no lock).
    pub(crate) fn control_changed(&self) -> bool {
        self.control_changed.load(Ordering::Acquire)
    }

    fn wake_for_control(&self) {
        self.control_changed.store(true, Ordering::Release);
        self.task_waker.wake();
    }

    /// Hands `handler` to the task, which from then on gives it every message
    /// instead of queueing it.
    pub(crate) fn install_handler(&self, handler: BoxedHandler) {
        self.lock().handler = HandlerSlot(Some(handler));
        self.wake_for_control();
    }

    pub(crate) fn add_handle(&self) {
        self.lock().handles += 1;
    }

    pub(crate) fn drop_handle(&self) {
        let mut inner = self.lock();
        inner.handles -= 1;
        if inner.handles == 0 {
            drop(inner);
            self.wake_for_control();
        }
    }

    // ----- the connection task's side -----

    pub(crate) fn register_task(&self, waker: &std::task::Waker) {
        self.task_waker.register(waker);
    }

    /// What changed since the last call; nothing (without taking the lock) if
    /// nothing did. A condition seen once (`abort`, `handles_gone`) is the
    /// task's to remember.
    pub(crate) fn control(&self) -> Control {
        if !self.control_changed.swap(false, Ordering::AcqRel) {
            return Control::default();
        }
        let mut inner = self.lock();
        Control {
            abort: inner.abort,
            close: inner.close_request.take(),
            handles_gone: inner.handles == 0,
            no_delay: inner.no_delay_request.take(),
            handler: std::mem::take(&mut inner.handler),
        }
    }

    pub(crate) fn set_open(&self, info: ConnectionInfo) {
        let mut inner = self.lock();
        if inner.state == ReadyState::Connecting {
            inner.state = ReadyState::Open;
            inner.info = info;
        }
        drop(inner);
        self.notify_app();
    }

    pub(crate) fn set_failed(&self, error: ConnectError) {
        let mut inner = self.lock();
        inner.state = ReadyState::Closed;
        inner.connect_error.get_or_insert(error);
        drop(inner);
        self.notify_app();
    }

    /// The peer's close frame came: moves an open connection to Closing, so
    /// that sends are refused from now on. The close frame we answer with is
    /// built only once a later look at the queue finds it empty, so every
    /// send accepted before this goes out ahead of it.
    pub(crate) fn begin_closing(&self) {
        let mut inner = self.lock();
        if inner.state == ReadyState::Open {
            inner.state = ReadyState::Closing;
        }
        drop(inner);
        self.notify_app();
    }

    /// The connection is over; `status` is `None` to keep what an abort left.
    pub(crate) fn set_closed(&self, status: Option<CloseStatus>) {
        let mut inner = self.lock();
        inner.state = ReadyState::Closed;
        if let Some(status) = status {
            inner.close = status;
        }
        inner.outbound.clear();
        inner.outbound_bytes = 0;
        inner.outbound_count = 0;
        drop(inner);
        self.notify_app();
    }

    /// The task ended without saying how (it panicked, or was dropped):
    /// closed, with the unclean status unless one was recorded, and a
    /// connection that never opened fails as aborted.
    pub(crate) fn set_closed_if_running(&self) {
        let mut inner = self.lock();
        match inner.state {
            ReadyState::Closed => return,
            ReadyState::Connecting => {
                inner.connect_error.get_or_insert(ConnectError::Aborted);
            }
            ReadyState::Open | ReadyState::Closing => {}
        }
        drop(inner);
        self.set_closed(None);
    }

    /// Takes back a handler the task never picked up (it had ended first).
    pub(crate) fn take_handler(&self) -> Option<BoxedHandler> {
        self.lock().handler.0.take()
    }

    /// Moves queued messages, oldest first, to `out` under one lock: at most
    /// `max_count`, stopping once `max_bytes` are taken.
    pub(crate) fn take_outbound(
        &self,
        max_count: usize,
        max_bytes: usize,
        out: &mut Vec<Message>,
    ) -> Taken {
        let mut inner = self.lock();
        let mut taken = Taken::default();
        while taken.count < max_count && taken.bytes < max_bytes {
            let Some(message) = inner.outbound.pop_front() else {
                break;
            };
            taken.count += 1;
            taken.bytes += message.len();
            out.push(message);
        }
        taken.queue_empty = inner.outbound.is_empty();
        if taken.queue_empty {
            self.outbound_waiting.store(false, Ordering::Release);
        }
        taken
    }

    /// Whether the outbound queue may hold messages (cheap: no lock).
    pub(crate) fn outbound_waiting(&self) -> bool {
        self.outbound_waiting.load(Ordering::Acquire)
    }

    /// The socket has taken `bytes` in `count` messages: room is free again.
    pub(crate) fn flushed(&self, bytes: usize, count: usize) {
        let mut inner = self.lock();
        // Saturating: once closed, the queue's budget is already back to zero.
        inner.outbound_bytes = inner.outbound_bytes.saturating_sub(bytes);
        inner.outbound_count = inner.outbound_count.saturating_sub(count);
        let refused = std::mem::take(&mut inner.sender_refused);
        drop(inner);
        // Only a sender that was refused can be waiting for room.
        if refused {
            self.writable.notify_waiters();
        }
    }

    /// Queues a received message, or gives it back when the inbound queue has no
    /// room (then the task stops reading until the application takes one).
    pub(crate) fn push_inbound(&self, message: Message) -> Result<(), Message> {
        let mut inner = self.lock();
        let fits = inner.inbound.len() < self.config.max_queued_packets
            && (inner.inbound.is_empty()
                || inner.inbound_bytes + message.len() <= self.config.inbound_buffer_size);
        if !fits {
            inner.task_waits_for_room = true;
            return Err(message);
        }
        inner.inbound_bytes += message.len();
        inner.inbound.push_back(message);
        Ok(())
    }

    /// Whether the application has taken every received message and come back
    /// for more (so it has answered them; unless `ignore_inbound`), and every
    /// queued message is written. While not, the application's next read or
    /// poll, or the next flush, wakes the task.
    pub(crate) fn drained(&self, ignore_inbound: bool) -> bool {
        let mut inner = self.lock();
        let answered = inner.inbound.is_empty() && inner.app_came_back;
        let drained = (ignore_inbound || answered) && inner.outbound_count == 0;
        if !drained {
            inner.task_waits_for_room = true;
        }
        drained
    }

    /// Wakes every application task waiting on this connection.
    pub(crate) fn notify_app(&self) {
        self.receiver.wake();
        self.state_changed.notify_waiters();
        self.writable.notify_waiters();
        self.notify_activity();
    }

    /// Messages arrived.
    pub(crate) fn notify_readable(&self) {
        self.receiver.wake();
        self.notify_activity();
    }

    fn notify_activity(&self) {
        if let Some(signal) = &self.config.activity {
            signal.notify();
        }
    }
}

/// What [`Shared::take_outbound`] took.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Taken {
    pub(crate) count: usize,
    pub(crate) bytes: usize,
    /// Nothing is left in the outbound queue.
    pub(crate) queue_empty: bool,
}

/// A consistent view of a connection, taken under one lock.
#[derive(Debug)]
pub(crate) struct Snapshot<'a> {
    pub(crate) state: ReadyState,
    pub(crate) close: &'a CloseStatus,
    pub(crate) info: &'a ConnectionInfo,
    pub(crate) connect_error: Option<&'a ConnectError>,
    pub(crate) available: usize,
    pub(crate) buffered_amount: usize,
}

impl Snapshot<'_> {
    /// Godot's buffered amount: payload bytes queued but not yet written,
    /// and 0 unless the connection is open.
    pub(crate) fn buffered_amount_if_open(&self) -> usize {
        if self.state == ReadyState::Open {
            self.buffered_amount
        } else {
            0
        }
    }
}

/// RFC 6455 §7.4: the codes an endpoint may put in a close frame, and the
/// 123-byte limit on the reason (125 bytes of payload less the code).
fn validate_close(code: i32, reason: &str) -> Result<(), CloseError> {
    if !u16::try_from(code).is_ok_and(crate::codec::is_sendable_close_code) {
        return Err(CloseError::InvalidCode(code));
    }
    if reason.len() > 123 {
        return Err(CloseError::ReasonTooLong(reason.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(config: Config) -> Arc<Shared> {
        let shared = Shared::new(Arc::new(config), String::new());
        shared.set_open(ConnectionInfo::default());
        shared
    }

    #[test]
    fn outbound_limits_give_the_message_back() {
        let shared = open(
            Config::default()
                .max_queued_packets(2)
                .outbound_buffer_size(10),
        );
        assert!(shared.try_send(Message::binary(vec![0; 4])).is_ok());
        assert!(shared.try_send(Message::binary(vec![0; 4])).is_ok());
        // Count limit.
        let err = shared.try_send(Message::text("x")).unwrap_err();
        assert_eq!(err, SendError::Full(Message::text("x")));
        shared.flushed(4, 1);
        // Byte limit: 4 queued + 7 > 10.
        assert!(matches!(
            shared.try_send(Message::binary(vec![0; 7])),
            Err(SendError::Full(_))
        ));
        // Larger than the whole budget.
        assert!(matches!(
            shared.try_send(Message::binary(vec![0; 11])),
            Err(SendError::TooLarge(_))
        ));
        assert!(shared.try_send(Message::binary(vec![0; 6])).is_ok());
    }

    #[test]
    fn inbound_budget_is_exact() {
        let shared = open(
            Config::default()
                .max_queued_packets(3)
                .inbound_buffer_size(10),
        );
        assert!(shared.push_inbound(Message::binary(vec![0; 6])).is_ok());
        assert!(shared.push_inbound(Message::binary(vec![0; 5])).is_err());
        assert!(shared.push_inbound(Message::binary(vec![0; 4])).is_ok());
        assert!(shared.push_inbound(Message::binary(vec![])).is_ok());
        // Count limit.
        assert!(shared.push_inbound(Message::binary(vec![])).is_err());
        assert_eq!(shared.try_recv().unwrap().len(), 6);
        assert!(shared.push_inbound(Message::binary(vec![0; 6])).is_ok());
    }

    #[test]
    fn close_codes_are_checked() {
        let shared = open(Config::default());
        assert_eq!(
            shared.request_close(1005, ""),
            Err(CloseError::InvalidCode(1005))
        );
        assert_eq!(
            shared.request_close(1000, &"x".repeat(124)),
            Err(CloseError::ReasonTooLong(124))
        );
        assert_eq!(shared.ready_state(), ReadyState::Open);
        assert_eq!(shared.request_close(1000, &"x".repeat(123)), Ok(()));
        assert_eq!(shared.ready_state(), ReadyState::Closing);
        assert!(matches!(
            shared.try_send(Message::text("late")),
            Err(SendError::NotOpen(_))
        ));
    }

    #[test]
    fn closed_is_reported_after_the_queue_drains() {
        let shared = open(Config::default());
        shared.push_inbound(Message::text("last")).unwrap();
        shared.set_closed(Some(CloseStatus::unclean()));
        assert_eq!(shared.try_recv(), Ok(Message::text("last")));
        assert_eq!(shared.try_recv(), Err(TryRecvError::Closed));
    }
}
