//! Giving freed memory back to the system after a spike, for server binaries.
//!
//! glibc's allocator keeps what a wave of connections freed: after 10,000
//! connections had come and gone, an echo server stayed 30 MiB above where it
//! started, for good. `malloc_trim` returns it. Other allocators kept most of
//! it too (jemalloc with background purging, mimalloc: 20-24 MiB), see
//! `docs/benchmarks.md`. A library must not choose its users' allocator, so
//! this is opt-in: the `trim-memory` feature, called from `main`.

/// Gives the memory the allocator holds free back to the system, once a
/// second, when it exceeds 4 MiB (glibc's `malloc_trim`), so that a
/// long-running server's memory falls back after a spike. Called inside a
/// Tokio runtime it runs as a task on it; elsewhere (a poll-facade program) on
/// a thread of its own. A task, because a thread would make a single-threaded
/// process multi-threaded, and glibc's allocator then locks on every call
/// (measured: 10 % more CPU per message for the current-thread echo server).
/// Each look costs a walk of the allocator's free lists (microseconds for a
/// server's heap). Does nothing without the `trim-memory` feature or on a C
/// library other than glibc.
pub fn trim_memory_periodically() {
    #[cfg(all(feature = "trim-memory", target_os = "linux", target_env = "gnu"))]
    {
        /// How often the trimmer looks at what the allocator holds free.
        const PERIOD: std::time::Duration = std::time::Duration::from_secs(1);
        /// Free memory past which it is given back: below it, trimming would
        /// save little and churn pages that are about to be reused.
        const THRESHOLD: usize = 4 * 1024 * 1024;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async {
                let mut ticks = tokio::time::interval(PERIOD);
                loop {
                    ticks.tick().await;
                    glibc::trim_if_over(THRESHOLD);
                }
            });
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("wspeer-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(PERIOD);
                    glibc::trim_if_over(THRESHOLD);
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the memory trimmer");
        }
    }
}

#[cfg(all(feature = "trim-memory", target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // two calls into glibc, which take no pointers of ours
mod glibc {
    /// Trims when the arenas hold more than `threshold` bytes free.
    pub(super) fn trim_if_over(threshold: usize) {
        // SAFETY: `mallinfo2` only reads the allocator's own state, and
        // `malloc_trim` is documented as safe to call at any time, from any thread.
        unsafe {
            if libc::mallinfo2().fordblks > threshold {
                libc::malloc_trim(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn starting_it_is_harmless() {
        super::trim_memory_periodically();
    }

    #[tokio::test]
    async fn inside_a_runtime_it_is_a_task() {
        super::trim_memory_periodically();
    }
}
