//! Idle memory: hold many open WebSocket connections to a server child process
//! and divide the growth of its resident memory (`VmRSS`) by their number.
//!
//! The connections are opened from the harness (which raises its open-file
//! limit), each with a full handshake, then left idle; the server's RSS is read
//! before the first connection and after the last one has settled.

use std::{net::SocketAddr, path::Path, time::Duration};

use futures_util::{StreamExt, stream};

use crate::{
    load,
    process::{self, ServerProcess},
    servers::ServerKind,
};

/// Handshakes run at once while opening the idle connections.
const OPEN_CONCURRENCY: usize = 32;
/// Time the server gets to settle before and after the connections open.
const SETTLE: Duration = Duration::from_secs(1);

/// What holding idle connections cost one server.
#[derive(Debug, Clone)]
pub struct MemoryReport {
    /// Which server.
    pub kind: ServerKind,
    /// Connections that opened and were held.
    pub connections: usize,
    /// Connections that failed to open.
    pub errors: usize,
    /// The first failure.
    pub first_error: Option<String>,
    /// Server RSS before, KiB.
    pub before_kib: u64,
    /// Server RSS with every connection open, KiB.
    pub after_kib: u64,
}

impl MemoryReport {
    /// RSS growth per open connection, in KiB.
    pub fn kib_per_connection(&self) -> f64 {
        if self.connections == 0 {
            return 0.0;
        }
        self.after_kib.saturating_sub(self.before_kib) as f64 / self.connections as f64
    }
}

/// Starts `kind` as a child of `exe` (pinned to `cpu`, under `wrapper` such as
/// `valgrind --tool=dhat` if not empty), opens `connections` idle WebSocket
/// connections to it and measures its RSS growth.
pub fn idle_memory(
    exe: &Path,
    kind: ServerKind,
    connections: usize,
    cpu: Option<usize>,
    wrapper: &[String],
) -> anyhow::Result<MemoryReport> {
    anyhow::ensure!(
        kind.is_websocket(),
        "idle memory is measured on WebSocket servers"
    );
    process::raise_nofile();
    let server = ServerProcess::spawn(exe, kind, cpu, wrapper)?;
    std::thread::sleep(SETTLE);
    let before_kib = server.rss_kib()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (held, errors, first_error) = runtime.block_on(open_many(server.addr, connections));
    std::thread::sleep(SETTLE);
    let after_kib = server.rss_kib()?;
    drop(held);
    Ok(MemoryReport {
        kind,
        connections: connections - errors,
        errors,
        first_error,
        before_kib,
        after_kib,
    })
}

async fn open_many(
    addr: SocketAddr,
    connections: usize,
) -> (Vec<tokio::net::TcpStream>, usize, Option<String>) {
    let opened: Vec<_> = stream::iter(0..connections)
        .map(|_| load::open(addr, true))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let mut held = Vec::with_capacity(connections);
    let mut errors = 0;
    let mut first_error = None;
    for result in opened {
        match result {
            Ok((stream, _)) => held.push(stream),
            Err(error) => {
                errors += 1;
                first_error.get_or_insert(format!("{error:#}"));
            }
        }
    }
    (held, errors, first_error)
}
