//! `wspeer-bench all`: every workload against every server, one after the other
//! in one run, and the markdown report with each figure's ratio to its baseline
//! in the same run (fastwebsockets for the echo workloads and handshakes, the
//! async core for the facade).

use std::{path::PathBuf, time::Duration};

use crate::{
    gameloop::{self, GameLoopConfig, GameLoopReport},
    handshakes::{self, HandshakeReport},
    idle_poll,
    load::{self, LoadConfig, LoadReport},
    memory::{self, MemoryReport},
    process::{self, ServerProcess},
    report,
    servers::ServerKind,
};

/// One echo workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// How reports name it.
    pub name: &'static str,
    /// Connections.
    pub connections: usize,
    /// Payload bytes.
    pub size: usize,
    /// Messages in flight per connection.
    pub in_flight: usize,
}

/// The echo workloads the report compares (`docs/benchmarks.md`): small,
/// medium and large messages, and many in flight.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "100 × 20 B",
        connections: 100,
        size: 20,
        in_flight: 1,
    },
    Workload {
        name: "10 × 1 KiB",
        connections: 10,
        size: 1024,
        in_flight: 1,
    },
    Workload {
        name: "200 × 16 KiB",
        connections: 200,
        size: 16 * 1024,
        in_flight: 1,
    },
    Workload {
        name: "64 × 64 B, 16 in flight",
        connections: 64,
        size: 64,
        in_flight: 16,
    },
];

/// Settings of a whole run.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The harness binary, re-executed to start servers.
    pub exe: PathBuf,
    /// The CPU servers are pinned to (`None`: not pinned).
    pub server_cpu: Option<usize>,
    /// Servers to compare.
    pub servers: Vec<ServerKind>,
    /// Warm-up before each measured window.
    pub warmup: Duration,
    /// Measured window of each echo workload.
    pub duration: Duration,
    /// Rounds of every echo workload on every server (servers take turns); the
    /// report gives each figure's median and range over them.
    pub rounds: usize,
    /// Idle connections held for the memory figure.
    pub idle_connections: usize,
    /// Concurrent connect–handshake–close loops.
    pub handshake_concurrency: usize,
    /// Measured window of the handshake run.
    pub handshake_duration: Duration,
    /// Clients in the 60 Hz game loop.
    pub gameloop_clients: usize,
    /// Measured window of the game loop.
    pub gameloop_duration: Duration,
    /// Idle polls timed for the rough idle-poll figure.
    pub idle_polls: u32,
}

impl SuiteConfig {
    /// The defaults of `wspeer-bench all` (about fifteen minutes on a quiet
    /// machine).
    pub fn new(exe: PathBuf, server_cpu: Option<usize>) -> Self {
        Self {
            exe,
            server_cpu,
            servers: ServerKind::ALL.to_vec(),
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(4),
            rounds: 5,
            idle_connections: 5000,
            handshake_concurrency: 16,
            handshake_duration: Duration::from_secs(3),
            gameloop_clients: 32,
            gameloop_duration: Duration::from_secs(5),
            idle_polls: 2_000_000,
        }
    }
}

/// Everything a run measured.
#[derive(Debug, Default)]
pub struct SuiteResults {
    /// Echo runs, every round of every workload on every server.
    pub echo: Vec<EchoRun>,
    /// Idle memory per server.
    pub memory: Vec<MemoryReport>,
    /// Handshakes per server.
    pub handshakes: Vec<(ServerKind, HandshakeReport)>,
    /// Game loop: facade clients, async-core clients.
    pub gameloop: Option<(GameLoopReport, GameLoopReport)>,
    /// Nanoseconds per idle poll (rough loop).
    pub idle_poll_ns: Option<f64>,
    /// Runs that could not be done at all.
    pub failures: Vec<String>,
}

/// One round of one echo workload on one server.
#[derive(Debug, Clone)]
pub struct EchoRun {
    /// What ran.
    pub workload: Workload,
    /// Against which server.
    pub kind: ServerKind,
    /// Which round (from 1): runs of the same round ran minutes apart at most.
    pub round: usize,
    /// What it measured.
    pub report: LoadReport,
}

impl SuiteResults {
    /// Every round of `kind` on `workload`, in round order.
    pub fn rounds_of(
        &self,
        workload: &Workload,
        kind: ServerKind,
    ) -> impl Iterator<Item = &EchoRun> + '_ {
        let workload = *workload;
        self.echo
            .iter()
            .filter(move |r| r.workload == workload && r.kind == kind)
    }

    /// The run of `kind` on `workload` in `round`, if it ran.
    pub fn run_in(
        &self,
        workload: &Workload,
        kind: ServerKind,
        round: usize,
    ) -> Option<&LoadReport> {
        self.rounds_of(workload, kind)
            .find(|r| r.round == round)
            .map(|r| &r.report)
    }

    /// Whether every run completed without an error.
    pub fn all_ok(&self) -> bool {
        self.failures.is_empty()
            && self.echo.iter().all(|r| r.report.ok())
            && self.memory.iter().all(|m| m.errors == 0)
            && self.handshakes.iter().all(|(_, h)| h.ok())
            && self
                .gameloop
                .as_ref()
                .is_none_or(|(f, a)| f.errors == 0 && a.errors == 0)
    }

    /// The report as markdown: one table per part, then the targets.
    pub fn markdown(&self, config: &SuiteConfig) -> String {
        report::sections::markdown(self, config)
    }
}

/// The machine counts as quiet below this share of one CPU.
const QUIET: f64 = 0.10;
/// How long to wait for a quiet machine before measuring anyway.
const QUIET_WAIT: Duration = Duration::from_secs(10);

/// Runs one echo workload against a fresh server process, once the machine is
/// quiet (or after waiting 10 s for it).
pub fn echo(
    config: &SuiteConfig,
    workload: &Workload,
    kind: ServerKind,
) -> anyhow::Result<LoadReport> {
    process::wait_for_quiet(QUIET, QUIET_WAIT);
    echo_once(config, workload, kind)
}

fn echo_once(
    config: &SuiteConfig,
    workload: &Workload,
    kind: ServerKind,
) -> anyhow::Result<LoadReport> {
    let server = ServerProcess::spawn(&config.exe, kind, config.server_cpu, &[])?;
    let mut load = LoadConfig::new(
        workload.connections,
        workload.size,
        workload.in_flight,
        config.duration,
    );
    load.warmup = config.warmup;
    load.websocket = kind.is_websocket();
    load.server_pid = Some(server.pid());
    load::run(server.addr, &load)
}

/// Runs every echo workload on every server, `config.rounds` times, the
/// servers taking turns within each round.
pub fn run_echo(config: &SuiteConfig, results: &mut SuiteResults) {
    for workload in &WORKLOADS {
        for round in 1..=config.rounds {
            for &kind in &config.servers {
                eprintln!("echo {} on {} (round {round})", workload.name, kind.label());
                match echo(config, workload, kind) {
                    Ok(report) => {
                        eprintln!(
                            "  {:.0} msg/s, p50 {:.0} µs, p99 {:.0} µs, load gen {:.0} %, others' load {:.0} %, errors {}{}",
                            report.rate(),
                            report.latency_us(0.5),
                            report.latency_us(0.99),
                            100.0 * report.client_load().unwrap_or(0.0),
                            100.0 * report.other_load().unwrap_or(0.0),
                            report.errors,
                            report
                                .first_error
                                .as_deref()
                                .map(|e| format!(" ({e})"))
                                .unwrap_or_default()
                        );
                        results.echo.push(EchoRun {
                            workload: *workload,
                            kind,
                            round,
                            report,
                        });
                    }
                    Err(error) => {
                        eprintln!("  FAILED: {error:#}");
                        results
                            .failures
                            .push(format!("echo {} on {kind}: {error:#}", workload.name));
                    }
                }
            }
        }
    }
}

/// Runs everything, printing progress on stderr.
pub fn run_all(config: &SuiteConfig) -> SuiteResults {
    let mut results = SuiteResults::default();
    let note = |results: &mut SuiteResults, what: String, error: anyhow::Error| {
        eprintln!("  FAILED: {what}: {error:#}");
        results.failures.push(format!("{what}: {error:#}"));
    };
    run_echo(config, &mut results);
    for &kind in config.servers.iter().filter(|k| k.is_websocket()) {
        eprintln!(
            "idle memory: {} connections on {}",
            config.idle_connections,
            kind.label()
        );
        match memory::idle_memory(
            &config.exe,
            kind,
            config.idle_connections,
            config.server_cpu,
            &[],
        ) {
            Ok(report) => {
                eprintln!("  {:.2} KiB per connection", report.kib_per_connection());
                results.memory.push(report);
            }
            Err(error) => note(&mut results, format!("idle memory on {kind}"), error),
        }
    }
    for &kind in config.servers.iter().filter(|k| k.is_websocket()) {
        eprintln!("handshakes on {}", kind.label());
        process::wait_for_quiet(QUIET, QUIET_WAIT);
        let run =
            ServerProcess::spawn(&config.exe, kind, config.server_cpu, &[]).and_then(|server| {
                handshakes::run(
                    server.addr,
                    config.handshake_concurrency,
                    config.warmup,
                    config.handshake_duration,
                )
            });
        match run {
            Ok(report) => {
                eprintln!(
                    "  {:.0} handshakes/s, errors {}",
                    report.rate(),
                    report.errors
                );
                results.handshakes.push((kind, report));
            }
            Err(error) => note(&mut results, format!("handshakes on {kind}"), error),
        }
    }
    eprintln!("60 Hz game loop: {} clients", config.gameloop_clients);
    process::wait_for_quiet(QUIET, QUIET_WAIT);
    let gameloop_config = GameLoopConfig {
        clients: config.gameloop_clients,
        frame: Duration::from_micros(16_667),
        warmup: config.warmup,
        duration: config.gameloop_duration,
    };
    let run = ServerProcess::spawn(&config.exe, ServerKind::WspeerAsync, config.server_cpu, &[])
        .and_then(|server| gameloop::run(&format!("ws://{}", server.addr), &gameloop_config));
    match run {
        Ok(pair) => results.gameloop = Some(pair),
        Err(error) => note(&mut results, "game loop".to_owned(), error),
    }
    eprintln!("idle poll");
    process::wait_for_quiet(QUIET, QUIET_WAIT);
    match idle_poll::quick_ns_per_poll(config.idle_polls) {
        Ok(ns) => results.idle_poll_ns = Some(ns),
        Err(error) => note(&mut results, "idle poll".to_owned(), error),
    }
    results
}
