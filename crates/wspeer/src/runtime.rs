//! The background Tokio runtime that runs every connection of the poll facade.
//!
//! It starts on first use, on threads of its own, and stops once the last peer,
//! server and connection task is gone; a later peer starts a new one. By default
//! it is a current-thread runtime on one thread, named `wspeer-runtime`: in the
//! measurements of `docs/benchmarks.md` a current-thread runtime beat a
//! multi-thread one pinned to the same core (112 k against 83 k msg/s for small
//! messages). [`set_worker_threads`] asks for a multi-thread runtime instead,
//! [`use_handle`] makes the facade run on a runtime the program already has, and
//! [`use_this_thread`] runs the connections on the polling thread itself, inside
//! `poll()`, with no background thread at all.

use std::{
    future::Future,
    sync::{Arc, Mutex, MutexGuard, Weak},
    thread,
    time::Duration,
};

use tokio::{runtime::Handle, sync::oneshot};
use tracing::debug;
use wspeer_core::{ActivitySignal, Message, SendError, WebSocket};

use crate::this_thread::{self, ThisThread};
pub use crate::this_thread::{stop_using_this_thread, use_this_thread};

/// The name of the background runtime's threads.
pub const THREAD_NAME: &str = "wspeer-runtime";

#[derive(Default)]
struct Slot {
    running: Weak<Background>,
    worker_threads: Option<usize>,
    external: Option<Handle>,
}

static SLOT: Mutex<Slot> = Mutex::new(Slot {
    running: Weak::new(),
    worker_threads: None,
    external: None,
});

fn slot() -> MutexGuard<'static, Slot> {
    SLOT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the facade on a multi-thread runtime with `threads` workers, instead of
/// the default single thread. Takes effect when the next background runtime
/// starts (the first peer or server after all earlier ones are gone).
pub fn set_worker_threads(threads: usize) {
    slot().worker_threads = Some(threads.max(1));
}

/// Runs every peer and server created from now on on the runtime behind `handle`
/// (for programs that already run Tokio). The facade then starts no thread.
pub fn use_handle(handle: Handle) {
    slot().external = Some(handle);
}

/// Goes back to the facade's own background runtime for peers created from now on.
pub fn use_background() {
    slot().external = None;
}

/// Whether a background runtime is running now (for tests and diagnostics).
pub fn is_background_running() -> bool {
    slot().running.strong_count() > 0
}

/// Runs the connections until one of them has news for the application (a
/// message arrived, a state changed) or `timeout` passes; returns whether one
/// had news. A dedicated server calls it instead of sleeping when a pass over
/// its peers found nothing to do, so it answers at once instead of after its
/// sleep. With [`use_this_thread`] on, it also does this thread's I/O
/// meanwhile. With no connection, or on a thread running Tokio, it just sleeps.
pub fn wait_for_activity(timeout: Duration) -> bool {
    if let Some(this_thread) = this_thread::current() {
        return this_thread.wait_for_activity(timeout);
    }
    let running = slot().running.upgrade();
    match running {
        Some(background) if Handle::try_current().is_err() => {
            let signal = background.activity.clone();
            background
                .handle
                .block_on(async { tokio::time::timeout(timeout, signal.notified()).await })
                .is_ok()
        }
        _ => {
            thread::sleep(timeout);
            false
        }
    }
}

/// A runtime that stops its thread when dropped.
struct Background {
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    activity: ActivitySignal,
}

impl Drop for Background {
    fn drop(&mut self) {
        // Only a signal: this may run on the runtime's own thread (the last task
        // ending), which must not wait for itself.
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
    }
}

/// What keeps a runtime alive for as long as a peer or task uses it.
#[derive(Clone)]
enum Keep {
    /// The program's own runtime ([`use_handle`]): the program keeps it.
    External,
    Background(Arc<Background>),
    ThisThread(Arc<ThisThread>),
}

/// The runtime a peer, server or connection task runs on; keeps it alive.
#[derive(Clone)]
pub(crate) struct RuntimeRef {
    handle: Handle,
    keep: Keep,
}

impl std::fmt::Debug for RuntimeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.keep {
            Keep::External => "external",
            Keep::Background(_) => "background",
            Keep::ThisThread(_) => "this thread",
        };
        f.debug_struct("RuntimeRef").field("kind", &kind).finish()
    }
}

impl RuntimeRef {
    /// The runtime to use now: this thread's, the external one, the running
    /// background one, or a new background one.
    pub(crate) fn get() -> std::io::Result<Self> {
        if let Some(this_thread) = this_thread::current() {
            return Ok(Self {
                handle: this_thread.handle().clone(),
                keep: Keep::ThisThread(this_thread),
            });
        }
        let mut slot = slot();
        if let Some(handle) = &slot.external {
            return Ok(Self {
                handle: handle.clone(),
                keep: Keep::External,
            });
        }
        if let Some(running) = slot.running.upgrade() {
            return Ok(Self {
                handle: running.handle.clone(),
                keep: Keep::Background(running),
            });
        }
        let background = Arc::new(start(slot.worker_threads)?);
        slot.running = Arc::downgrade(&background);
        Ok(Self {
            handle: background.handle.clone(),
            keep: Keep::Background(background),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The signal the connections on this runtime notify, if it has one.
    pub(crate) fn activity(&self) -> Option<ActivitySignal> {
        match &self.keep {
            Keep::External => None,
            Keep::Background(background) => Some(background.activity.clone()),
            Keep::ThisThread(this_thread) => Some(this_thread.activity().clone()),
        }
    }

    /// The tick a new peer on this runtime starts from.
    pub(crate) fn ticks(&self) -> u64 {
        match &self.keep {
            Keep::ThisThread(this_thread) => this_thread.ticks(),
            _ => 0,
        }
    }

    /// Does the I/O now if this runtime runs on the polling thread (once per
    /// pass over the peers); a background runtime needs nothing.
    pub(crate) fn drive(&self, seen: &mut u64) {
        if let Keep::ThisThread(this_thread) = &self.keep {
            this_thread.tick_if_due(seen);
        }
    }

    /// Queues a message on `ws`. On this thread's runtime the connection task
    /// is woken at the next tick, from inside the runtime, where that is
    /// cheapest; a background runtime's task is woken at once.
    pub(crate) fn send(&self, ws: &WebSocket, message: Message) -> Result<(), SendError> {
        match &self.keep {
            Keep::ThisThread(this_thread) => {
                if let Some(wake) = ws.try_send_deferred(message)? {
                    this_thread.defer_wake(wake);
                }
                Ok(())
            }
            _ => ws.try_send(message),
        }
    }

    /// Spawns `future`, keeping a background runtime alive until it ends.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match &self.keep {
            Keep::Background(_) => {
                let keep = self.clone();
                self.handle.spawn(async move {
                    future.await;
                    drop(keep);
                });
            }
            // A task must not own the runtime it runs on: the last owner would
            // drop it from inside itself.
            Keep::External | Keep::ThisThread(_) => {
                self.handle.spawn(future);
            }
        }
    }
}

fn start(worker_threads: Option<usize>) -> std::io::Result<Background> {
    let runtime = match worker_threads {
        Some(threads) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()?,
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    };
    let handle = runtime.handle().clone();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            debug!("background runtime started");
            let _ = runtime.block_on(stop_rx);
            // Dropped here, outside `block_on`: cancels what is left and joins
            // the workers.
            drop(runtime);
            debug!("background runtime stopped");
        })?;
    Ok(Background {
        handle,
        stop: Mutex::new(Some(stop_tx)),
        activity: ActivitySignal::new(),
    })
}
