//! Running the facade's connections on the game loop's own thread, inside its
//! calls to `poll()`, as Godot does: no background thread, no hand-off between
//! threads for any message.
//!
//! The runtime is a current-thread Tokio runtime that only runs when the thread
//! drives it. A pass of the game loop over many peers drives it once: each peer
//! remembers the tick it last saw, and only the first peer to find no newer tick
//! runs one.

use std::{
    cell::RefCell,
    io,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::runtime::{Handle, Runtime};
use wspeer_core::{ActivitySignal, TaskWake};

thread_local! {
    static CURRENT: RefCell<Option<Arc<ThisThread>>> = const { RefCell::new(None) };
}

/// Runs the connections of the peers created on this thread from now on here,
/// inside their [`poll`](crate::WebSocketPeer::poll) calls, instead of on the
/// background thread: the fastest way to run a dedicated server or a game on one
/// core. Between frames, [`wait_for_activity`](crate::runtime::wait_for_activity)
/// sleeps until a message arrives instead of for a fixed time.
///
/// The connections make progress only while this thread polls peers (or waits
/// for activity), so a loop must keep polling, as a game loop does. Peers
/// created in this mode should be polled on this thread. Fails on a thread that
/// is already running Tokio (such a program can use
/// [`use_handle`](crate::runtime::use_handle) instead).
pub fn use_this_thread() -> io::Result<()> {
    if Handle::try_current().is_ok() {
        return Err(io::Error::other(
            "use_this_thread() needs a thread that is not running Tokio; use use_handle() there",
        ));
    }
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        if current.is_none() {
            *current = Some(Arc::new(ThisThread::new()?));
        }
        Ok(())
    })
}

/// Peers created on this thread from now on run on the background runtime
/// again. Peers created before keep this thread's runtime, which lives until
/// the last of them is gone.
pub fn stop_using_this_thread() {
    CURRENT.with(|current| current.borrow_mut().take());
}

/// This thread's runtime, if [`use_this_thread`] is on.
pub(crate) fn current() -> Option<Arc<ThisThread>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// A runtime driven by the thread that polls.
pub(crate) struct ThisThread {
    /// `Some` until dropped; see `Drop`.
    runtime: Option<Runtime>,
    handle: Handle,
    ticks: AtomicU64,
    activity: ActivitySignal,
    /// Connection tasks that were sent messages since the last tick, woken
    /// at the start of the next one (inside the runtime, where waking costs
    /// no system call).
    deferred: Mutex<Vec<TaskWake>>,
}

impl ThisThread {
    fn new() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            ticks: AtomicU64::new(0),
            activity: ActivitySignal::new(),
            deferred: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    pub(crate) fn activity(&self) -> &ActivitySignal {
        &self.activity
    }

    /// The tick a new peer starts from: its first poll runs one.
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// Runs a tick unless another peer ran one since this peer's last poll.
    pub(crate) fn tick_if_due(&self, seen: &mut u64) {
        let now = self.ticks();
        if *seen == now {
            self.run(async {
                // Each yield lets the runtime run every ready task, then poll the
                // sockets without blocking; the second runs the tasks the first
                // poll woke, so a message that has arrived is delivered now.
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
            });
            *seen = self.ticks();
        } else {
            *seen = now;
        }
    }

    /// Remembers a connection task to wake at the next tick. Woken now, from
    /// outside the runtime, it would cost a write to the runtime's eventfd;
    /// entering the runtime to wake it cost ~900 instructions per message.
    pub(crate) fn defer_wake(&self, wake: TaskWake) {
        self.deferred
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(wake);
    }

    /// Wakes the tasks [`Self::defer_wake`] remembered (inside the runtime).
    fn wake_deferred(&self) {
        let mut deferred = self.deferred.lock().unwrap_or_else(|e| e.into_inner());
        for wake in deferred.drain(..) {
            wake.wake();
        }
    }

    /// Runs the connections until one has news or `timeout` passes.
    pub(crate) fn wait_for_activity(&self, timeout: Duration) -> bool {
        self.run(async {
            tokio::time::timeout(timeout, self.activity.notified())
                .await
                .is_ok()
        })
        .unwrap_or(false)
    }

    /// Runs `future` to completion on this runtime, driving every connection
    /// meanwhile. Not possible from inside a Tokio runtime (a peer moved to
    /// such a thread): then nothing runs.
    fn run<F: Future>(&self, future: F) -> Option<F::Output> {
        let runtime = self.runtime.as_ref()?;
        if Handle::try_current().is_ok() {
            return None;
        }
        let output = runtime.block_on(async {
            self.wake_deferred();
            future.await
        });
        self.ticks.fetch_add(1, Ordering::Relaxed);
        Some(output)
    }
}

impl Drop for ThisThread {
    fn drop(&mut self) {
        // Dropping a runtime inside another one panics; there, let it go in the
        // background instead.
        if let Some(runtime) = self.runtime.take()
            && Handle::try_current().is_ok()
        {
            runtime.shutdown_background();
        }
    }
}
