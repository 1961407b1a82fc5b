//! The load generator: N connections on one thread, each a closed loop with D
//! messages of S bytes in flight (`closed_loop`), driven by a plain epoll loop
//! (`event_loop`) so that the generator costs little more than its system
//! calls. Every echo is checked (length, sequence number, connection id, every
//! payload byte); a lost, reordered or corrupted message ends that connection
//! with an error, and any error fails the run.
//!
//! Echoes that arrive in the measured window (after the warm-up) are counted and
//! their round trip goes into an HDR histogram. At the end of the window no new
//! message is sent and every message still in flight must come back.

mod closed_loop;
mod event_loop;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use tokio::net::TcpStream;

use crate::{frame, process};
use closed_loop::{ClosedLoop, Tally, Window};

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

    /// Load generator CPU time per message, in microseconds.
    pub fn client_us_per_message(&self) -> Option<f64> {
        let cpu = self.client_cpu?;
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

/// Runs the load against `addr`: connections are opened on a current-thread
/// Tokio runtime, then driven by the epoll loop (`event_loop`) on this thread.
pub fn run(addr: SocketAddr, config: &LoadConfig) -> anyhow::Result<LoadReport> {
    anyhow::ensure!(config.size >= frame::HEADER, "size must be at least 16");
    anyhow::ensure!(config.in_flight >= 1 && config.connections >= 1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let opened: Vec<anyhow::Result<(TcpStream, Vec<u8>)>> = runtime.block_on(
        stream::iter(0..config.connections)
            .map(|_| open(addr, config.websocket))
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect(),
    );
    let mut errors = 0;
    let mut first_error = None;
    let now = Instant::now();
    let mut connections = Vec::with_capacity(opened.len());
    for (id, result) in opened.into_iter().enumerate() {
        let (stream, leftover) = match result.and_then(|(s, l)| Ok((s.into_std()?, l))) {
            Ok(opened) => opened,
            Err(error) => {
                errors += 1;
                first_error.get_or_insert(format!("connect: {error:#}"));
                continue;
            }
        };
        let id = id as u64;
        let codec = frame::Codec::new(id, config.size, !config.websocket);
        let state = ClosedLoop::new(id, codec, config.size, config.in_flight, &leftover, now);
        connections.push((mio::net::TcpStream::from_std(stream), state));
    }
    drop(runtime);

    let window = Window {
        from: now + config.warmup,
        to: now + config.warmup + config.duration,
    };
    let mut tally = Tally {
        received: 0,
        latency: new_histogram(),
    };
    let mut samples = Vec::with_capacity(2);
    let outcome = event_loop::run(connections, window, &mut tally, || {
        samples.push(cpu_sample(config.server_pid));
    })?;
    let [server_cpu, client_cpu, other_cpu] = match samples.as_slice() {
        [before, after] => cpu_in_window(before, after),
        _ => [None; 3],
    };
    Ok(LoadReport {
        messages: tally.received,
        window: config.duration,
        errors: errors + outcome.errors,
        first_error: first_error.or(outcome.first_error),
        latency: tally.latency,
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

/// CPU times at one instant: the server's, the load generator's, and the
/// whole machine's busy time.
type CpuSample = [Option<Duration>; 3];

fn cpu_sample(server_pid: Option<u32>) -> CpuSample {
    [
        server_pid.and_then(|p| process::cpu_time(p).ok()),
        process::cpu_time(std::process::id()).ok(),
        process::machine_busy().ok(),
    ]
}

/// CPU time used in the window by the server, the load generator, and every
/// other process (the machine's total less those two).
fn cpu_in_window(before: &CpuSample, after: &CpuSample) -> [Option<Duration>; 3] {
    let diff = |i: usize| Some(after[i]?.saturating_sub(before[i]?));
    let (server, client, machine) = (diff(0), diff(1), diff(2));
    let other =
        machine.map(|m| m.saturating_sub(server.unwrap_or_default() + client.unwrap_or_default()));
    [server, client, other]
}
