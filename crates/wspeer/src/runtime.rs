//! The background Tokio runtime that runs every connection of the poll facade.
//!
//! It starts on first use, on threads of its own, and stops once the last peer,
//! server and connection task is gone; a later peer starts a new one. By default
//! it is a current-thread runtime on one thread, named `wspeer-runtime`: in the
//! echo benchmark of `performance.md` a current-thread runtime beat a
//! multi-thread one pinned to the same core (112 k against 83 k msg/s for small
//! messages). [`set_worker_threads`] asks for a multi-thread runtime instead, and
//! [`use_handle`] makes the facade run on a runtime the program already has.

use std::{
    future::Future,
    sync::{Arc, Mutex, MutexGuard, Weak},
    thread,
};

use tokio::{runtime::Handle, sync::oneshot};
use tracing::debug;

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

/// A runtime that stops its thread when dropped.
struct Background {
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
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

/// Keeps the runtime it came from alive; every peer, server and connection task
/// of the facade holds one.
#[derive(Clone)]
pub(crate) struct RuntimeRef {
    handle: Handle,
    _keep: Option<Arc<Background>>,
}

impl std::fmt::Debug for RuntimeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeRef")
            .field("background", &self._keep.is_some())
            .finish()
    }
}

impl RuntimeRef {
    /// The runtime to use now: the external one, the running background one, or
    /// a new background one.
    pub(crate) fn get() -> std::io::Result<Self> {
        let mut slot = slot();
        if let Some(handle) = &slot.external {
            return Ok(Self {
                handle: handle.clone(),
                _keep: None,
            });
        }
        if let Some(running) = slot.running.upgrade() {
            return Ok(Self {
                handle: running.handle.clone(),
                _keep: Some(running),
            });
        }
        let background = Arc::new(start(slot.worker_threads)?);
        slot.running = Arc::downgrade(&background);
        Ok(Self {
            handle: background.handle.clone(),
            _keep: Some(background),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns `future`, keeping the runtime alive until it ends.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let keep = self.clone();
        self.handle.spawn(async move {
            future.await;
            drop(keep);
        });
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
    })
}
