//! The load generator: N connections on one thread (a current-thread Tokio
//! runtime), each a closed loop with D messages of S bytes in flight. Every echo is
//! checked (length, sequence number, connection id, every payload byte); a lost,
//! reordered or corrupted message ends that connection with an error, and any
//! error fails the run.
//!
//! Echoes that arrive in the measured window (after the warm-up) are counted and
//! their round trip goes into an HDR histogram. At the end of the window no new
//! message is sent and every message still in flight must come back.

use std::{collections::VecDeque, net::SocketAddr, time::Duration};

use anyhow::{Context, anyhow, bail};
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinSet,
    time::{Instant, timeout},
};

use crate::{frame, process};

/// How long a connection may wait for an echo before the run fails.
const STALL: Duration = Duration::from_secs(5);
/// Connections opened at once while setting up.
const CONNECT_CONCURRENCY: usize = 64;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Connections.
    pub connections: usize,
    /// Payload bytes per message (at least 16).
    pub size: usize,
    /// Messages in flight per connection.
    pub in_flight: usize,
    /// Time run before measuring.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
    /// Do the WebSocket handshake (false for the raw TCP echo).
    pub websocket: bool,
    /// The server's process id, to measure the CPU time it used in the window.
    pub server_pid: Option<u32>,
}

impl LoadConfig {
    /// `connections` × `size` bytes, `in_flight` each, over WebSocket.
    pub fn new(connections: usize, size: usize, in_flight: usize, duration: Duration) -> Self {
        Self {
            connections,
            size,
            in_flight,
            warmup: Duration::from_secs(1),
            duration,
            websocket: true,
            server_pid: None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Echoes received in the measured window.
    pub messages: u64,
    /// Length of the measured window.
    pub window: Duration,
    /// Connections that failed (a lost or corrupted message, a closed socket).
    pub errors: u64,
    /// The first error seen.
    pub first_error: Option<String>,
    /// Round-trip times in the window, in nanoseconds.
    pub latency: Histogram<u64>,
    /// CPU time the server used in the window, if its pid was given.
    pub server_cpu: Option<Duration>,
    /// CPU time the load generator used in the window.
    pub client_cpu: Option<Duration>,
    /// CPU time every other process on the machine used in the window: other
    /// people's work that may have disturbed the measurement.
    pub other_cpu: Option<Duration>,
}

impl LoadReport {
    /// Messages per second in the window.
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.window.as_secs_f64()
    }

    /// Round-trip latency at quantile `q` (0.5, 0.99, …), in microseconds.
    pub fn latency_us(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// Server CPU time per message, in microseconds.
    pub fn server_us_per_message(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.messages > 0).then(|| cpu.as_secs_f64() * 1e6 / self.messages as f64)
    }

    /// Share of one CPU the load generator used in the window (1.0 = saturated).
    pub fn client_load(&self) -> Option<f64> {
        Some(self.client_cpu?.as_secs_f64() / self.window.as_secs_f64())
    }

    /// CPU share (of one CPU) other processes used in the window.
    pub fn other_load(&self) -> Option<f64> {
        Some(self.other_cpu?.as_secs_f64() / self.window.as_secs_f64())
    }

    /// Whether the run counts: no error and at least one message.
    pub fn ok(&self) -> bool {
        self.errors == 0 && self.messages > 0
    }
}

/// Runs the load against `addr` on a new current-thread runtime.
pub fn run(addr: SocketAddr, config: &LoadConfig) -> anyhow::Result<LoadReport> {
    anyhow::ensure!(config.size >= frame::HEADER, "size must be at least 16");
    anyhow::ensure!(config.in_flight >= 1 && config.connections >= 1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(addr, config.clone()))
}

/// One connection's result.
struct ConnResult {
    received: u64,
    latency: Histogram<u64>,
    error: Option<String>,
}

async fn run_async(addr: SocketAddr, config: LoadConfig) -> anyhow::Result<LoadReport> {
    let streams: Vec<anyhow::Result<(TcpStream, Vec<u8>)>> = stream::iter(0..config.connections)
        .map(|_| open(addr, config.websocket))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let start = Instant::now();
    let warm_end = start + config.warmup;
    let end = warm_end + config.duration;
    let cpu = tokio::spawn(cpu_in_window(config.server_pid, warm_end, end));
    let mut tasks = JoinSet::new();
    let mut errors = 0;
    let mut first_error = None;
    for (id, opened) in streams.into_iter().enumerate() {
        match opened {
            Ok((stream, leftover)) => {
                let config = config.clone();
                tasks.spawn(async move {
                    drive(id as u64, stream, leftover, &config, warm_end, end).await
                });
            }
            Err(error) => {
                errors += 1;
                first_error.get_or_insert(format!("connect: {error:#}"));
            }
        }
    }
    let mut latency = new_histogram();
    let mut messages = 0;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.context("connection task panicked")?;
        messages += result.received;
        latency.add(&result.latency).map_err(|e| anyhow!("{e:?}"))?;
        if let Some(error) = result.error {
            errors += 1;
            first_error.get_or_insert(error);
        }
    }
    let [server_cpu, client_cpu, other_cpu] = cpu.await.unwrap_or([None; 3]);
    Ok(LoadReport {
        messages,
        window: config.duration,
        errors,
        first_error,
        latency,
        server_cpu,
        client_cpu,
        other_cpu,
    })
}

/// Opens one connection (and its WebSocket handshake); returns the bytes read
/// past the handshake response.
pub async fn open(addr: SocketAddr, websocket: bool) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let leftover = if websocket {
        frame::handshake(&mut stream, &addr.to_string()).await?
    } else {
        Vec::new()
    };
    Ok((stream, leftover))
}

/// A histogram of nanoseconds from 1 ns to 60 s, three significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// CPU time used in the window by the server, the load generator, and every
/// other process (the machine's total less those two).
async fn cpu_in_window(pid: Option<u32>, from: Instant, to: Instant) -> [Option<Duration>; 3] {
    let sample = || {
        [
            pid.and_then(|p| process::cpu_time(p).ok()),
            process::cpu_time(std::process::id()).ok(),
            process::machine_busy().ok(),
        ]
    };
    tokio::time::sleep_until(from).await;
    let before = sample();
    tokio::time::sleep_until(to).await;
    let after = sample();
    let diff = |i: usize| Some(after[i]?.saturating_sub(before[i]?));
    let (server, client, machine) = (diff(0), diff(1), diff(2));
    let other =
        machine.map(|m| m.saturating_sub(server.unwrap_or_default() + client.unwrap_or_default()));
    [server, client, other]
}

async fn drive(
    id: u64,
    stream: TcpStream,
    leftover: Vec<u8>,
    config: &LoadConfig,
    warm_end: Instant,
    end: Instant,
) -> ConnResult {
    let mut result = ConnResult {
        received: 0,
        latency: new_histogram(),
        error: None,
    };
    if let Err(error) = closed_loop(id, stream, leftover, config, warm_end, end, &mut result).await
    {
        result.error = Some(format!("{error:#}"));
    }
    result
}

async fn closed_loop(
    id: u64,
    mut stream: TcpStream,
    leftover: Vec<u8>,
    config: &LoadConfig,
    warm_end: Instant,
    end: Instant,
    result: &mut ConnResult,
) -> anyhow::Result<()> {
    let codec = frame::Codec::new(id, config.size, !config.websocket);
    let frame_len = config.size + 14;
    let mut buf = vec![0u8; (4 * frame_len).max(64 * 1024)];
    buf[..leftover.len()].copy_from_slice(&leftover);
    let mut filled = leftover.len();
    let mut out = Vec::with_capacity(frame_len * config.in_flight);
    let mut sent_at = VecDeque::with_capacity(config.in_flight);
    let (mut next_seq, mut expect) = (0u64, 0u64);

    let now = Instant::now();
    for _ in 0..config.in_flight {
        codec.encode(next_seq, &mut out);
        next_seq += 1;
        sent_at.push_back(now);
    }
    loop {
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if sent_at.is_empty() {
            return Ok(());
        }
        let n = match timeout(STALL, stream.read(&mut buf[filled..])).await {
            Err(_) => bail!(
                "connection {id}: no echo for {STALL:?} with {} in flight (#{expect} is lost)",
                sent_at.len()
            ),
            Ok(read) => read?,
        };
        if n == 0 {
            bail!("connection {id}: the server closed the connection");
        }
        filled += n;
        let now = Instant::now();
        let mut at = 0;
        while let Some(len) = codec.check_echo(&buf[at..filled], expect)? {
            at += len;
            expect += 1;
            let sent = sent_at
                .pop_front()
                .context("an echo of a message never sent")?;
            if now >= warm_end && now < end {
                result.received += 1;
                let ns = u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX);
                result.latency.saturating_record(ns.max(1));
            }
            if now < end {
                codec.encode(next_seq, &mut out);
                next_seq += 1;
                sent_at.push_back(now);
            }
        }
        buf.copy_within(at..filled, 0);
        filled -= at;
        if filled == buf.len() {
            bail!("connection {id}: a frame larger than the read buffer");
        }
    }
}
