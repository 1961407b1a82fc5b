//! A slow-handshake attack, and what a fresh client sees during it.
//!
//! Attackers connect from one or more loopback source addresses and send an
//! upgrade request one byte a second, never finishing it; one the server drops
//! connects again after `reopen_after`, as an attacker keeping the pressure up
//! does. Meanwhile a fresh client connects every `probe_every` and times its
//! handshake (and an echo, or a `GET` of a health path), and the server's RSS
//! is sampled.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::{load::new_histogram, process};

/// What one attack is made of.
#[derive(Debug, Clone)]
pub struct AttackConfig {
    /// Trickling connections kept open (or re-opened) at once.
    pub attackers: usize,
    /// Loopback source addresses they spread over: 1 is 127.0.0.1, more are
    /// 127.0.0.2 onwards.
    pub sources: usize,
    /// How long the attack lasts once every attacker has connected.
    pub duration: Duration,
    /// Pause before an attacker that was dropped connects again.
    pub reopen_after: Duration,
    /// Pause between two fresh clients.
    pub probe_every: Duration,
    /// Request path of the fresh clients' upgrade.
    pub path: String,
    /// Subprotocol the fresh clients offer, if the server requires one.
    pub protocol: Option<String>,
    /// Whether a fresh client also sends a message and waits for its echo.
    pub echo: bool,
    /// A plain-HTTP path to time alongside (such as `/healthz`).
    pub health_path: Option<String>,
}

impl Default for AttackConfig {
    fn default() -> Self {
        Self {
            attackers: 5_000,
            sources: 1,
            duration: Duration::from_secs(10),
            reopen_after: Duration::from_secs(1),
            probe_every: Duration::from_millis(50),
            path: "/".into(),
            protocol: None,
            echo: true,
            health_path: None,
        }
    }
}

/// What the fresh clients and the server went through.
#[derive(Debug)]
pub struct AttackReport {
    /// Fresh clients' handshake (and echo) times, in nanoseconds.
    pub fresh: Histogram<u64>,
    /// Fresh clients that failed, and the first failure.
    pub fresh_failed: usize,
    /// The first failure of a fresh client.
    pub first_failure: Option<String>,
    /// Health requests' times, in nanoseconds.
    pub health: Histogram<u64>,
    /// Health requests that failed.
    pub health_failed: usize,
    /// Attackers that got a connection at least once: fewer than asked for
    /// when the server stopped accepting (the attack then ran for three
    /// times its duration, from the start).
    pub attackers_connected: usize,
    /// Attack connections opened, in all (re-opens included).
    pub attack_connects: usize,
    /// Attack connections the server dropped.
    pub attack_dropped: usize,
    /// Server RSS before the attack, at most during it, and at its end, KiB.
    pub rss_kib: Option<(u64, u64, u64)>,
}

/// Runs the attack against `addr` (the server's process `pid`, if known, for
/// its memory).
pub fn run(
    addr: SocketAddr,
    pid: Option<u32>,
    config: &AttackConfig,
) -> anyhow::Result<AttackReport> {
    process::raise_nofile();
    // The attackers get a thread and runtime of their own, so that a fresh
    // client's time is the server's, not the time our own attack kept it
    // waiting to be polled.
    let counters = Arc::new(Counters::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let attack = std::thread::spawn({
        let (counters, config) = (counters.clone(), config.clone());
        move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run_attackers(addr, &config, counters, stopped));
            Ok(())
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(watch_fresh_clients(addr, pid, config, &counters));
    let _ = stop.send(true);
    attack
        .join()
        .map_err(|_| anyhow::anyhow!("the attack thread panicked"))??;
    report
}

/// Every attacker, until `stop` turns true.
async fn run_attackers(
    addr: SocketAddr,
    config: &AttackConfig,
    counters: Arc<Counters>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let attackers: Vec<_> = (0..config.attackers)
        .map(|i| {
            let source = source_address(i % config.sources.max(1), config.sources);
            tokio::spawn(trickle(addr, source, config.reopen_after, counters.clone()))
        })
        .collect();
    let _ = stop.wait_for(|stop| *stop).await;
    for attacker in attackers {
        attacker.abort();
    }
}

#[derive(Default)]
struct Counters {
    connected: AtomicUsize,
    connects: AtomicUsize,
    dropped: AtomicUsize,
}

/// Fresh clients one after another while the attack runs and lasts.
async fn watch_fresh_clients(
    addr: SocketAddr,
    pid: Option<u32>,
    config: &AttackConfig,
    counters: &Counters,
) -> anyhow::Result<AttackReport> {
    let before = pid.map(process::rss_kib).transpose()?;
    let mut report = AttackReport {
        fresh: new_histogram(),
        fresh_failed: 0,
        first_failure: None,
        health: new_histogram(),
        health_failed: 0,
        attackers_connected: 0,
        attack_connects: 0,
        attack_dropped: 0,
        rss_kib: None,
    };
    // Fresh clients from the start: the opening burst is part of the attack.
    let opening = Instant::now();
    let mut height = None;
    let mut peak_rss = before.unwrap_or(0);
    loop {
        let connected = counters.connected.load(Ordering::Relaxed);
        if height.is_none() && connected >= config.attackers {
            height = Some(Instant::now());
        }
        if height.is_some_and(|h| h.elapsed() >= config.duration)
            || opening.elapsed() > config.duration * 3
        {
            break;
        }
        probe(addr, config, &mut report).await;
        if let Some(pid) = pid {
            peak_rss = peak_rss.max(process::rss_kib(pid).unwrap_or(0));
        }
        tokio::time::sleep(config.probe_every).await;
    }
    let end_rss = pid.map(process::rss_kib).transpose()?.unwrap_or(0);
    report.attackers_connected = counters.connected.load(Ordering::Relaxed);
    report.attack_connects = counters.connects.load(Ordering::Relaxed);
    report.attack_dropped = counters.dropped.load(Ordering::Relaxed);
    report.rss_kib = before.map(|b| (b, peak_rss.max(end_rss), end_rss));
    Ok(report)
}

/// 127.0.0.1 for a single source, else 127.0.0.2 onwards.
fn source_address(index: usize, sources: usize) -> IpAddr {
    if sources <= 1 {
        return IpAddr::V4(Ipv4Addr::LOCALHOST);
    }
    let n = 2 + index as u32;
    IpAddr::V4(Ipv4Addr::new(127, 0, (n >> 8) as u8, n as u8))
}

/// One attacker: connect, trickle, and when dropped, connect again.
async fn trickle(
    addr: SocketAddr,
    source: IpAddr,
    reopen_after: Duration,
    counters: Arc<Counters>,
) {
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut first = true;
    loop {
        let socket =
            TcpSocket::new_v4().and_then(|s| s.bind(SocketAddr::new(source, 0)).map(|()| s));
        if let Ok(socket) = socket
            && let Ok(mut stream) = socket.connect(addr).await
        {
            counters.connects.fetch_add(1, Ordering::Relaxed);
            if first {
                counters.connected.fetch_add(1, Ordering::Relaxed);
                first = false;
            }
            let mut buf = [0u8; 64];
            for byte in request.iter().cycle() {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                    Err(_) => {}
                    Ok(_) => break,
                }
            }
            counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(reopen_after).await;
    }
}

/// One fresh client, and one health request if asked for.
async fn probe(addr: SocketAddr, config: &AttackConfig, report: &mut AttackReport) {
    let start = Instant::now();
    match tokio::time::timeout(Duration::from_secs(30), fresh_client(addr, config)).await {
        Ok(Ok(())) => {
            let _ = report.fresh.record(start.elapsed().as_nanos() as u64);
        }
        Ok(Err(error)) => {
            report.fresh_failed += 1;
            report.first_failure.get_or_insert(format!("{error:#}"));
        }
        Err(_) => {
            report.fresh_failed += 1;
            report
                .first_failure
                .get_or_insert("no answer within 30 s".into());
        }
    }
    if let Some(path) = &config.health_path {
        let start = Instant::now();
        match tokio::time::timeout(Duration::from_secs(30), http_get(addr, path)).await {
            Ok(Ok(())) => {
                let _ = report.health.record(start.elapsed().as_nanos() as u64);
            }
            _ => report.health_failed += 1,
        }
    }
}

async fn fresh_client(addr: SocketAddr, config: &AttackConfig) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let protocol = config
        .protocol
        .as_ref()
        .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{protocol}\r\n",
        config.path
    );
    stream.write_all(request.as_bytes()).await?;
    let head = read_head(&mut stream).await?;
    ensure!(
        head.starts_with("HTTP/1.1 101"),
        "refused: {}",
        first_line(&head)
    );
    if config.echo {
        // A masked text frame "probe" (key 0: the payload goes as it is).
        stream.write_all(b"\x81\x85\0\0\0\0probe").await?;
        let mut echo = [0u8; 7];
        stream.read_exact(&mut echo).await?;
        ensure!(&echo == b"\x81\x05probe", "wrong echo {echo:?}");
    }
    Ok(())
}

async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let head = read_head(&mut stream).await?;
    ensure!(head.starts_with("HTTP/1.1 200"), "{}", first_line(&head));
    Ok(())
}

async fn read_head(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        ensure!(n > 0, "closed before a response");
        buf.extend_from_slice(&chunk[..n]);
        ensure!(buf.len() < 16 * 1024, "response head over 16 KiB");
    }
    String::from_utf8(buf).context("a response head that is not UTF-8")
}

fn first_line(head: &str) -> &str {
    head.lines().next().unwrap_or_default()
}
