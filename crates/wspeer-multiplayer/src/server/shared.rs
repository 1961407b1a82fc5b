//! What the async server's tasks share: the state machine and the connections
//! behind one lock, the queue of events for the application, and the tasks
//! that feed them (one accepting, one reading each connection).

use std::{
    collections::{BTreeMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use bytes::Bytes;
use tokio::{sync::Notify, task::AbortHandle};
use wspeer_core::{Listener, Message, Receiver, Sender, WebSocket};

use super::ServerEvent;
use crate::{
    flush::{self, Link},
    proto::Server,
};

/// Events the application has not taken yet, past which connections stop being
/// read (and their peers slow down through TCP) until it catches up.
pub const MAX_QUEUED_EVENTS: usize = 4096;

/// One open connection.
#[derive(Debug)]
struct Conn {
    sender: Sender,
    /// Tells this connection from a later one that got the same id.
    serial: u64,
    addr: Option<SocketAddr>,
}

impl Link for Conn {
    fn send(&mut self, data: Bytes) -> Result<(), wspeer::SendError> {
        self.sender
            .try_send(Message::binary(data))
            .map_err(wspeer::SendError::from)
    }

    fn close(&mut self) {
        let _ = self.sender.close(1000, "");
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) machine: Server,
    conns: BTreeMap<i32, Conn>,
    next_serial: u64,
    queue: VecDeque<ServerEvent>,
    closed: bool,
    accept: Option<AbortHandle>,
}

#[derive(Debug)]
pub(super) struct Shared {
    state: Mutex<State>,
    /// Wakes the application: an event was queued, or the server closed.
    app: Notify,
    /// Wakes readers: the queue has room again, or the server closed.
    room: Notify,
}

impl Shared {
    pub(super) fn new(machine: Server) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                machine,
                conns: BTreeMap::new(),
                next_serial: 0,
                queue: VecDeque::new(),
                closed: false,
                accept: None,
            }),
            app: Notify::new(),
            room: Notify::new(),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can panic half-way in a way that matters; a
        // poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts accepting connections from `listener`.
    pub(super) fn start_accepting(self: &Arc<Self>, mut listener: Listener) {
        let shared = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let ws = listener.accept().await;
                shared.admit(ws);
            }
        });
        self.lock().accept = Some(task.abort_handle());
    }

    /// A connection opened: it gets its id and a reader, unless refused.
    fn admit(self: &Arc<Self>, ws: WebSocket) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let Ok(id) = state.machine.handle_open() else {
            tracing::debug!(addr = ?ws.peer_addr(), "refused a new connection");
            let _ = ws.close(1000, "");
            return;
        };
        let serial = state.next_serial;
        state.next_serial += 1;
        let addr = ws.peer_addr();
        let (sender, receiver) = ws.split();
        state.conns.insert(
            id,
            Conn {
                sender,
                serial,
                addr,
            },
        );
        let _ = self.flush(&mut state);
        drop(state);
        tokio::spawn(self.clone().read(id, serial, receiver));
    }

    /// Feeds one connection's messages to the state machine, in order, while
    /// the application keeps up; then its close.
    async fn read(self: Arc<Self>, id: i32, serial: u64, mut receiver: Receiver) {
        loop {
            if !self.wait_for_room().await {
                return;
            }
            let message = receiver.recv().await;
            let end = message.is_none();
            self.handle(id, serial, message);
            if end {
                return;
            }
        }
    }

    /// Waits while the event queue is full; false once the server closed.
    async fn wait_for_room(&self) -> bool {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let state = self.lock();
                if state.closed {
                    return false;
                }
                if state.queue.len() < MAX_QUEUED_EVENTS {
                    return true;
                }
            }
            room.await;
        }
    }

    /// A message from (or, with `None`, the end of) connection `serial`.
    fn handle(&self, id: i32, serial: u64, message: Option<Message>) {
        let mut state = self.lock();
        if state.conns.get(&id).is_none_or(|c| c.serial != serial) {
            // A connection the server already forgot (forced out, or closed).
            return;
        }
        match message {
            Some(message) => state.machine.handle_message(id, message.into_payload()),
            None => {
                state.machine.handle_closed(id);
                state.conns.remove(&id);
            }
        }
        let _ = self.flush(&mut state);
    }

    /// Sends what the state machine queued, closes what it asked to close, and
    /// queues events and packets for the application. Returns the outcome of
    /// the last send.
    pub(super) fn flush(&self, state: &mut State) -> Result<(), wspeer::SendError> {
        let result = flush::flush(&mut state.machine, &mut state.conns);
        let before = state.queue.len();
        while let Some(event) = state.machine.poll_event() {
            state.queue.extend(ServerEvent::from_event(event));
        }
        while let Some(packet) = state.machine.poll_packet() {
            state.queue.push_back(ServerEvent::Packet(packet));
        }
        if state.queue.len() > before {
            self.app.notify_one();
        }
        result
    }

    /// The next event, waiting for one; `None` once closed.
    pub(super) async fn next_event(&self) -> Option<ServerEvent> {
        loop {
            let queued = self.app.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some(event) = state.queue.pop_front() {
                    if state.queue.len() + 1 == MAX_QUEUED_EVENTS {
                        self.room.notify_waiters();
                    }
                    return Some(event);
                }
                if state.closed {
                    return None;
                }
            }
            queued.await;
        }
    }

    /// The remote address of peer `id`.
    pub(super) fn peer_addr(&self, id: i32) -> Option<SocketAddr> {
        self.lock().conns.get(&id).and_then(|c| c.addr)
    }

    /// Stops accepting, closes every connection, wakes everyone.
    pub(super) fn shutdown(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        if let Some(accept) = state.accept.take() {
            accept.abort();
        }
        state.machine.close();
        let _ = self.flush(&mut state);
        state.conns.clear();
        state.queue.clear();
        drop(state);
        self.room.notify_waiters();
        self.app.notify_waiters();
    }
}
