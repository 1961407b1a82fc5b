//! A wave of connections against a server process: many WebSocket clients
//! at once, then all of them gone, and the server's resident memory watched
//! until it comes back.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::{
    probe::raise_fd_limit,
    raw_http::{read_head, upgrade_request},
};

/// Handshakes in flight at once while a wave opens.
const OPENING_AT_ONCE: usize = 100;

/// The resident memory of process `pid` in KiB (`VmRSS`).
pub fn rss_kib_of(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {path}"))
}

/// Opens `count` WebSocket connections to `addr` (upgrade requests for
/// `path` with `extra` headers, each answered with `101`), holds them all,
/// then drops them at once. Returns when the last one is dropped.
pub async fn connect_and_vanish(
    addr: SocketAddr,
    path: &str,
    extra: &[(&str, &str)],
    count: usize,
) {
    raise_fd_limit(count as u64 + 512);
    let request = upgrade_request(&addr.to_string(), path, extra);
    let opened: Vec<TcpStream> = stream::iter(0..count)
        .map(|_| {
            let request = request.clone();
            async move {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream
                    .write_all(request.as_bytes())
                    .await
                    .expect("send the request");
                let head = read_head(&mut stream).await;
                assert_eq!(head.first_line(), "HTTP/1.1 101 Switching Protocols");
                stream
            }
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await;
    assert_eq!(opened.len(), count);
    drop(opened);
}

/// Waits up to `limit` for process `pid`'s memory to come within `slack_kib`
/// of `baseline_kib`; panics with what it saw if it does not.
pub async fn assert_memory_returns(pid: u32, baseline_kib: u64, slack_kib: u64, limit: Duration) {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let now = rss_kib_of(pid);
        seen.push(now);
        if now <= baseline_kib + slack_kib {
            eprintln!(
                "server RSS back to {now} KiB ({:+} KiB from {baseline_kib}) after {:?}",
                now as i64 - baseline_kib as i64,
                start.elapsed()
            );
            return;
        }
        assert!(
            start.elapsed() < limit,
            "server RSS stayed above {baseline_kib} + {slack_kib} KiB for {limit:?}; \
             seen every 250 ms: {seen:?}"
        );
        // The sampling period of the series the failure message shows; the
        // loop ends on the memory coming back, not on time.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
