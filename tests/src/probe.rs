//! What a server holds while hostile clients come and go: the resident memory of
//! the process, the tasks alive on the Tokio runtime, and the open-file limit that
//! tests with many sockets need.

/// The resident set size of this process in bytes (`VmRSS` in
/// `/proc/self/status`). Linux only: the memory checks of the hostile tests rely
/// on it, and panic elsewhere.
pub fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status")
        .expect("read /proc/self/status (the memory checks need Linux)");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("a VmRSS line in /proc/self/status");
    // "VmRSS:	   12345 kB"
    let kib: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable VmRSS line: {line:?}"));
    kib * 1024
}

/// Mebibytes, for messages.
pub fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Tasks alive on the current Tokio runtime (spawned and not yet finished). Must
/// be called inside a runtime.
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Raises the soft limit on open files to at least `wanted`, so that tests with
/// hundreds of sockets (two descriptors per connection when both ends live in the
/// test) do not fail on a default limit of 1024. Panics, saying how many are
/// needed, when the hard limit is lower.
pub fn raise_fd_limit(wanted: u64) {
    let now = rlimit::increase_nofile_limit(wanted).expect("raise the open-file limit");
    assert!(
        now >= wanted,
        "this test needs {wanted} open files but the hard limit allows only {now}; \
         raise it (ulimit -Hn) to run it"
    );
}

/// The most bytes the kernel may buffer for one TCP connection in one direction:
/// the sender's largest send buffer plus the receiver's largest receive buffer
/// (the third values of `net.ipv4.tcp_wmem` and `net.ipv4.tcp_rmem`). A peer that
/// stops reading can absorb this much before the writer blocks, whatever the
/// application does; tests that check a writer is held back must allow for it.
pub fn kernel_buffer_bound() -> usize {
    let max_of = |name: &str| -> usize {
        let path = format!("/proc/sys/net/ipv4/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        text.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unreadable {path}: {text:?}"))
    };
    max_of("tcp_wmem") + max_of("tcp_rmem")
}
