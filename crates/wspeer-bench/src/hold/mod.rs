//! `hold`: one server holds a great many concurrent connections (100,000 on
//! a 2-core machine) while a fresh client measures its round trips, and, for
//! the chat, while lines flow through rooms of about a hundred members.
//!
//! The bench raises its descriptor limit before it starts the server, which
//! inherits it ([`limits`]); the connections come from 127.0.0.2 and up so
//! that no source address runs out of ephemeral ports (`sources`); every
//! held connection is read all the time (`held`); the fresh client's round
//! trips are the probe (`probe`); the chat's lines are timed and checked
//! delivered ([`traffic`]); [`report`] writes the tables. Every client is in
//! this process, on one thread, with one clock.

mod held;
pub mod limits;
mod line;
mod probe;
pub mod report;
mod sources;
mod target;
pub mod traffic;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::{frame, process};
use held::Shared;
pub use report::HoldReport;
pub use target::Server;
use traffic::Writer;

/// The probe's own room, apart from the held connections' `r0`, `r1`, ….
const PROBE_ROOM: &str = "probe";
/// Time the server gets to settle before each memory reading.
const SETTLE: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone)]
pub struct HoldConfig {
    /// The server to hold connections to.
    pub server: Server,
    /// The bench binary, which runs the echo server.
    pub exe: PathBuf,
    /// Connections to open and hold.
    pub connections: usize,
    /// Chat rooms the connections are spread over (connection `i` in `r{i % rooms}`).
    pub rooms: usize,
    /// Chat lines said per second while held.
    pub rate: f64,
    /// How long the chat's lines flow.
    pub duration: Duration,
    /// Loopback source addresses (127.0.0.2 and up).
    pub sources: usize,
    /// Handshakes running at once from each source address.
    pub per_source: usize,
    /// Round trips of the probe.
    pub probes: usize,
    /// Seed of the choice of senders.
    pub seed: u64,
}

impl HoldConfig {
    /// `connections` to `server`, with the defaults of `wspeer-bench hold`.
    pub fn new(server: Server, exe: PathBuf, connections: usize) -> Self {
        Self {
            server,
            exe,
            connections,
            rooms: 1000,
            rate: 200.0,
            duration: Duration::from_secs(30),
            sources: 8,
            per_source: 64,
            probes: 2000,
            seed: 1,
        }
    }
}

/// Runs it: starts the server, opens and holds the connections, probes, runs
/// the chat's traffic, and stops the server.
pub fn run(config: &HoldConfig) -> anyhow::Result<HoldReport> {
    let started = Instant::now();
    let is_chat = matches!(config.server, Server::Chat(_));
    let rooms = if is_chat { config.rooms.max(1) } else { 1 };
    let per_source_ports = limits::ephemeral_ports();
    let per_source = config.connections.div_ceil(config.sources.max(1)) as u64;
    if per_source + 1000 > per_source_ports {
        bail!(
            "{} connections from {} source address(es) is {per_source} each, but an address has \
             {per_source_ports} ephemeral ports: give more --sources",
            config.connections,
            config.sources
        );
    }
    let limit = limits::raise_nofile(config.connections as u64 + limits::HEADROOM)?;
    let server = config.server.start(&config.exe, config.connections)?;
    let addr = server.addr();
    std::thread::sleep(SETTLE);
    let mut report = HoldReport::new(config, limit, rooms);
    report.server_rss_before_kib = process::rss_kib(server.pid())?;
    report.load_rss_before_kib = process::rss_kib(std::process::id())?;
    report.kernel_tcp_before_kib = limits::kernel_tcp_kib();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shared = Shared::new();
    let paths: Vec<(String, Option<&str>)> =
        (0..rooms).map(|r| server.join(&format!("r{r}"))).collect();
    let outcome = runtime.block_on(async {
        let opening = Instant::now();
        let addresses = sources::addresses(config.sources.max(1));
        let opened = sources::open_all(
            config.connections,
            &addresses,
            config.per_source,
            |index, source| {
                let room = index % rooms;
                let (path, protocol) = &paths[room];
                open_one(addr, source, path, *protocol, index, room as u32, &shared)
            },
        )
        .await;
        report.open_time = opening.elapsed();
        let mut writers: Vec<Option<Writer>> = (0..config.connections).map(|_| None).collect();
        let mut members = vec![0u32; rooms];
        for (index, outcome) in opened {
            match outcome {
                Ok(writer) => {
                    members[writer.room as usize] += 1;
                    writers[index] = Some(writer);
                    report.opened += 1;
                }
                Err(error) => {
                    report.failed += 1;
                    report
                        .first_open_error
                        .get_or_insert(format!("connection {index}: {error:#}"));
                }
            }
        }
        eprintln!(
            "  {} open in {:.1} s; settling",
            report.opened,
            report.open_time.as_secs_f64()
        );
        tokio::time::sleep(SETTLE).await;
        report.server_rss_held_kib = process::rss_kib(server.pid())?;
        report.load_rss_held_kib = process::rss_kib(std::process::id())?;
        report.kernel_tcp_held_kib = limits::kernel_tcp_kib();
        report.server_connections = server.metric("wspeer_chat_connections");
        eprintln!("  probing with {} round trips", config.probes);
        let probe = if is_chat {
            probe::chat(addr, PROBE_ROOM, config.probes).await
        } else {
            probe::echo(addr, config.probes).await
        };
        match probe {
            Ok(latency) => report.probe = Some(latency),
            Err(error) => report.probe_error = Some(format!("{error:#}")),
        }
        if is_chat {
            eprintln!("  {} lines a second for {:?}", config.rate, config.duration);
            let traffic = traffic::run(
                &mut writers,
                &members,
                &shared,
                config.rate,
                config.duration,
                config.seed,
            )
            .await?;
            report.traffic = Some(traffic);
            report.server_rss_end_kib = Some(process::rss_kib(server.pid())?);
        }
        report.members = members;
        let tally = shared.tally();
        report.closed_while_held = tally.closed;
        report.first_held_error.clone_from(&tally.first_error);
        drop(tally);
        anyhow::Ok(writers)
    });
    report.dropped_slow = server.metric("wspeer_chat_dropped_slow_total");
    report.rate_limited = server.metric("wspeer_chat_rate_limited_total");
    report.server_warnings = server.warnings();
    // The server goes first, so that its side (not ours, which would hold
    // our source ports) waits in TIME_WAIT for the next run.
    drop(server);
    drop(outcome?);
    drop(runtime);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Opens connection `index` from `source` into `room`, and starts reading it.
async fn open_one(
    addr: SocketAddr,
    source: std::net::Ipv4Addr,
    path: &str,
    protocol: Option<&str>,
    index: usize,
    room: u32,
    shared: &Arc<Shared>,
) -> anyhow::Result<Writer> {
    let mut stream = sources::connect_from(source, addr)
        .await
        .with_context(|| format!("connecting from {source}"))?;
    let pending = frame::upgrade(&mut stream, &addr.to_string(), path, protocol).await?;
    let (read, write) = stream.into_split();
    tokio::spawn(held::read_forever(
        read,
        pending,
        index,
        room,
        shared.clone(),
    ));
    Ok(Writer { write, room })
}
