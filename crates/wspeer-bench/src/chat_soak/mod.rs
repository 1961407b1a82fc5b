//! The chat soak: many clients in many rooms of real `wspeer-chat` processes
//! for minutes, dropping and resuming at random, with every line checked
//! delivered exactly once to every member that should have it.
//!
//! Each client stays in one room for the whole run and says lines at a low
//! random rate (under the server's `--rate`), each carrying a token (client,
//! connection, number, send time). At random times it drops its connection,
//! half the time abruptly (no close frame, the socket reset) and half politely,
//! stays away up to `away_max`, and comes back with `?after=` the last id it
//! got, on the next server when there are several (a cluster over a
//! `redis-server` started for the run). At the end every client says a last
//! line and reads until it has every other member's last line (`client.rs`).
//! Then `check.rs` holds each member's deliveries against its room.
//!
//! ```text
//! cargo build --release -p wspeer-bench -p wspeer-chat
//! target/release/wspeer-bench chat-soak [--clients 1000] [--rooms 20] [--duration-secs 180]
//!     [--line-rate 0.5] [--disconnect-rate 2] [--away-max 3] [--history 1000] [--servers 2]
//! ```

mod check;
mod client;
mod conn;
mod report;
pub(crate) mod rng;
mod server;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use tokio::{sync::Semaphore, task::JoinSet, time::Instant};
use wspeer_core::Config;

pub use check::{Ledger, LineId, Member, Receipt, RoomView, Token, Unseen, Verdict};
pub use client::ClientStats;
pub use report::{ServerFigures, SoakReport};
pub use server::{ChatProcess, default_binary};

use crate::{process, redis_server::RedisServer};

/// Connection attempts at once (the server lets one address have 256
/// handshakes pending; the rest of a burst would be dropped).
const CONNECTING_AT_ONCE: usize = 32;

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Clients, spread evenly over the rooms (at least two a room).
    pub clients: usize,
    /// Rooms.
    pub rooms: usize,
    /// How long clients say lines and drop; the drain follows.
    pub duration: Duration,
    /// Lines a client says per second, on average.
    pub line_rate: f64,
    /// Drops per client per minute connected, on average (0: none).
    pub disconnect_rate: f64,
    /// Longest time away after a drop (uniform from zero).
    pub away_max: Duration,
    /// Lines each room keeps (`wspeer-chat --history`).
    pub history: usize,
    /// Messages per second the server allows a client (`wspeer-chat --rate`).
    pub server_rate: f64,
    /// Chat servers; more than one form a cluster over Redis.
    pub servers: usize,
    /// Use Redis even with one server.
    pub redis: bool,
    /// Seed of every client's schedule.
    pub seed: u64,
    /// Longest the drain may take before the unfinished clients give up.
    pub drain_timeout: Duration,
    /// The `wspeer-chat` binary.
    pub chat_bin: PathBuf,
}

impl SoakConfig {
    /// The full soak's defaults, with the chat binary at `chat_bin`.
    pub fn new(chat_bin: PathBuf) -> Self {
        Self {
            clients: 1000,
            rooms: 20,
            duration: Duration::from_secs(180),
            line_rate: 0.5,
            disconnect_rate: 2.0,
            away_max: Duration::from_secs(3),
            history: 1000,
            server_rate: 10.0,
            servers: 1,
            redis: false,
            seed: 1,
            drain_timeout: Duration::from_secs(60),
            chat_bin,
        }
    }

    /// Mean time connected between two drops.
    fn between_drops(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.disconnect_rate.max(1e-9))
    }

    fn clustered(&self) -> bool {
        self.servers > 1 || self.redis
    }
}

/// What the clients share.
pub(crate) struct Shared {
    config: SoakConfig,
    addrs: Vec<SocketAddr>,
    ws_config: Arc<Config>,
    start: Instant,
    run_end: Instant,
    run_end_us: u64,
    deadline: Instant,
    room_sizes: Vec<usize>,
    ledgers: Vec<Mutex<Ledger>>,
    latency: Mutex<Histogram<u64>>,
    in_window: AtomicU64,
    connecting: Semaphore,
}

impl Shared {
    /// Microseconds since the run started: the clock of every token.
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
}

/// The name of room `index`.
fn room_name(index: usize) -> String {
    format!("soak{index}")
}

/// Runs the soak and checks it.
pub fn run(config: &SoakConfig) -> anyhow::Result<SoakReport> {
    ensure!(config.rooms >= 1, "--rooms must be at least 1");
    ensure!(
        config.clients >= 2 * config.rooms,
        "at least two clients a room (a member alone has nobody to check its lines)"
    );
    ensure!(
        config.line_rate > 0.0 && config.line_rate * 1.5 <= config.server_rate,
        "--line-rate must be above 0 and well under the server's --server-rate"
    );
    ensure!(
        config.chat_bin.exists(),
        "no chat server at {} (cargo build -p wspeer-chat, or --chat-bin PATH)",
        config.chat_bin.display()
    );
    process::raise_nofile();
    let redis = config.clustered().then(RedisServer::start).transpose()?;
    let mut args: Vec<String> = vec![
        "--history".into(),
        config.history.to_string(),
        "--rate".into(),
        config.server_rate.to_string(),
        "--max-connections".into(),
        (config.clients + 100).to_string(),
    ];
    if let Some(redis) = &redis {
        args.extend(["--redis".into(), redis.url()]);
    }
    let servers = (0..config.servers.max(1))
        .map(|_| ChatProcess::start(&config.chat_bin, &args))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for server in &servers {
        server.wait_healthy(Duration::from_secs(20))?;
    }
    let pids: Vec<u32> = servers.iter().map(ChatProcess::pid).collect();
    let mut figures = ServerFigures {
        rss_start_kib: total_rss(&pids)?,
        ..ServerFigures::default()
    };
    let cpu_start = total_cpu(&pids)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let addrs = servers.iter().map(|s| s.addr).collect();
    let outcome = runtime.block_on(drive(config.clone(), addrs, pids.clone()));
    figures.rss_peak_kib = outcome.rss_peak_kib;
    figures.rss_end_kib = total_rss(&pids)?;
    figures.cpu = total_cpu(&pids)?.saturating_sub(cpu_start);
    for server in &servers {
        figures.messages_out += server.metric("wspeer_chat_messages_out_total")?;
        figures.dropped_slow += server.metric("wspeer_chat_dropped_slow_total")?;
        figures.rate_limited += server.metric("wspeer_chat_rate_limited_total")?;
        figures.warnings += server.warnings();
    }
    drop(servers);
    drop(redis);
    Ok(SoakReport::new(config, outcome, figures))
}

/// What the clients did and saw.
pub(crate) struct Outcome {
    members: Vec<(usize, Member, ClientStats)>,
    shared: Arc<Shared>,
    rss_peak_kib: u64,
    elapsed: Duration,
}

async fn drive(config: SoakConfig, addrs: Vec<SocketAddr>, pids: Vec<u32>) -> Outcome {
    let start = Instant::now();
    let run_end = start + config.duration;
    let mut room_sizes = vec![0; config.rooms];
    for index in 0..config.clients {
        room_sizes[index % config.rooms] += 1;
    }
    let shared = Arc::new(Shared {
        ws_config: Arc::new(Config::default().supported_protocols([wspeer_chat::config::PROTOCOL])),
        run_end,
        run_end_us: config.duration.as_micros() as u64,
        deadline: run_end + config.drain_timeout,
        ledgers: (0..config.rooms).map(|_| Mutex::default()).collect(),
        latency: Mutex::new(
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
        ),
        in_window: AtomicU64::new(0),
        connecting: Semaphore::new(CONNECTING_AT_ONCE),
        room_sizes,
        start,
        addrs,
        config,
    });
    // The servers' memory, sampled every second while the run lasts.
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn({
        let peak = peak.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                if let Ok(kib) = total_rss(&pids) {
                    peak.fetch_max(kib, Relaxed);
                }
            }
        }
    });
    let mut clients = JoinSet::new();
    for index in 0..shared.config.clients {
        let shared = shared.clone();
        clients.spawn(async move {
            let (member, stats) = client::run(shared, index).await;
            (index, member, stats)
        });
    }
    let mut members = Vec::new();
    while let Some(done) = clients.join_next().await {
        match done {
            Ok(member) => members.push(member),
            Err(error) => eprintln!("a soak client panicked: {error}"),
        }
    }
    sampler.abort();
    members.sort_by_key(|m| m.0);
    Outcome {
        members,
        rss_peak_kib: peak.load(Relaxed),
        elapsed: start.elapsed(),
        shared,
    }
}

fn total_rss(pids: &[u32]) -> anyhow::Result<u64> {
    pids.iter()
        .map(|&pid| process::rss_kib(pid).context("server RSS"))
        .sum()
}

fn total_cpu(pids: &[u32]) -> anyhow::Result<Duration> {
    pids.iter()
        .map(|&pid| process::cpu_time(pid).context("server CPU time"))
        .sum()
}
