//! The report of `wspeer-bench all`: one markdown table per part of the run,
//! every figure with its ratio to the baseline measured in the same run, then
//! the targets, each marked met or missed.

use std::fmt::Write as _;

use super::{
    Table, opt, rate, ratio,
    rounds::{Decision, Direction, Spread},
    verdict,
};
use crate::{
    load::LoadReport,
    servers::ServerKind,
    suite::{SuiteConfig, SuiteResults, WORKLOADS, Workload},
};

/// Small messages: every wspeer kind echoes at least this share of the raw
/// TCP echo's messages per second…
const RAW_RATE_TARGET: f64 = 0.95;
/// …and spends at most this multiple of its server CPU per message.
const RAW_CPU_TARGET: f64 = 1.2;
/// Large messages: every wspeer kind against fastwebsockets.
const LARGE_TARGET: f64 = 1.0;
/// Handshakes per second against fastwebsockets: the async core…
const HANDSHAKE_CORE_TARGET: f64 = 1.0;
/// …and the facade running on the game loop's thread.
const HANDSHAKE_FACADE_TARGET: f64 = 0.8;
/// Most RSS growth per idle connection, KiB.
const MEMORY_TARGET_KIB: f64 = 2.0;
/// Most nanoseconds for an idle poll.
const POLL_TARGET_NS: f64 = 100.0;
/// Other processes using more than this share of one CPU during a compared
/// window make the comparison too disturbed to judge.
const DISTURBED: f64 = 0.25;

/// The whole report.
pub fn markdown(results: &SuiteResults, config: &SuiteConfig) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Servers pinned to CPU {}, load generator pinned to CPU 0; warm-up {:?}, \
         window {:?} per echo run; {} rounds (servers take turns); each figure is \
         the median over the rounds, with its range. A ratio compares two runs of \
         the same round. \"others' CPU %\" is the most other processes on the \
         machine used during a window, plus what the hypervisor took (steal), not \
         counting interrupt time (100 % = one CPU): a round above {:.0} % is left \
         out of the verdicts.\n",
        config
            .server_cpu
            .map_or("(none)".to_owned(), |c| c.to_string()),
        config.warmup,
        config.duration,
        config.rounds,
        100.0 * DISTURBED
    );
    out.push_str("### Echo: messages per second (ceiling: the raw TCP echo)\n\n");
    out.push_str(&echo_table(results).render());
    out.push_str("\n### Idle memory: server RSS growth per open connection\n\n");
    out.push_str(&memory_table(results, config).render());
    out.push_str("\n### Handshakes per second (connect, handshake, close)\n\n");
    out.push_str(&handshake_table(results, config).render());
    out.push_str("\n### 60 Hz game loop against an async-core echo server\n\n");
    out.push_str(&gameloop_table(results, config).render());
    let _ = writeln!(
        out,
        "\nIdle `WebSocketPeer::poll()` (timed loop, {} polls): {} ns per poll.\n",
        config.idle_polls,
        opt(results.idle_poll_ns, 1)
    );
    out.push_str("### Targets\n\n");
    out.push_str(&targets_table(results).render());
    if !results.failures.is_empty() {
        out.push_str("\n### Runs that failed\n\n");
        for failure in &results.failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
    for run in &results.echo {
        if let Some(error) = &run.report.first_error {
            let _ = writeln!(
                out,
                "\n- {} on {} (round {}): {error}",
                run.workload.name, run.kind, run.round
            );
        }
    }
    out
}

/// The echo part of the report: one row per workload and server, each figure
/// the median over the rounds.
pub fn echo_table(results: &SuiteResults) -> Table {
    let mut table = Table::new([
        "workload",
        "server",
        "msg/s (range)",
        "× raw TCP",
        "× fastwebsockets",
        "p50 µs",
        "p99 µs",
        "server CPU µs/msg",
        "load gen CPU µs/msg",
        "load gen CPU %",
        "others' CPU % (most)",
        "rounds",
        "errors",
    ]);
    for workload in &WORKLOADS {
        let mut kinds: Vec<ServerKind> = Vec::new();
        for run in results.echo.iter().filter(|r| r.workload == *workload) {
            if !kinds.contains(&run.kind) {
                kinds.push(run.kind);
            }
        }
        for kind in kinds {
            let runs: Vec<&LoadReport> = results
                .rounds_of(workload, kind)
                .map(|r| &r.report)
                .collect();
            let ok = || runs.iter().copied().filter(|r| r.ok());
            let median = |f: &dyn Fn(&LoadReport) -> Option<f64>| {
                Spread::of(ok().filter_map(f)).map(|s| s.median)
            };
            let rates = Spread::of(ok().map(LoadReport::rate));
            let against = |base| {
                Spread::of(paired(results, workload, kind, base, |r| Some(r.rate())))
                    .map_or_else(|| "n/a".to_owned(), |s| s.ratio())
            };
            let others = runs
                .iter()
                .filter_map(|r| r.other_load())
                .fold(None, |most: Option<f64>, l| {
                    Some(most.map_or(l, |m| m.max(l)))
                });
            table.row([
                workload.name.to_owned(),
                kind.label().to_owned(),
                rates.map_or_else(
                    || "–".to_owned(),
                    |s| format!("{} ({}–{})", rate(s.median), rate(s.min), rate(s.max)),
                ),
                against(ServerKind::RawTcp),
                against(ServerKind::Fastwebsockets),
                opt(median(&|r| Some(r.latency_us(0.5))), 1),
                opt(median(&|r| Some(r.latency_us(0.99))), 1),
                opt(median(&LoadReport::server_us_per_message), 2),
                opt(median(&LoadReport::client_us_per_message), 2),
                opt(median(&|r| r.client_load().map(|l| 100.0 * l)), 0),
                opt(others.map(|l| 100.0 * l), 0),
                format!("{} of {}", ok().count(), runs.len()),
                runs.iter().map(|r| r.errors).sum::<u64>().to_string(),
            ]);
        }
    }
    table
}

/// `figure(kind) / figure(base)` for every round in which both ran cleanly.
fn paired(
    results: &SuiteResults,
    workload: &Workload,
    kind: ServerKind,
    base: ServerKind,
    figure: impl Fn(&LoadReport) -> Option<f64>,
) -> Vec<f64> {
    results
        .rounds_of(workload, kind)
        .filter_map(|run| {
            let base = results.run_in(workload, base, run.round)?;
            (run.report.ok() && base.ok())
                .then(|| Some(figure(&run.report)? / figure(base)?))
                .flatten()
        })
        .collect()
}

/// The memory part of the report.
pub fn memory_table(results: &SuiteResults, config: &SuiteConfig) -> Table {
    let mut table = Table::new([
        "server",
        "connections",
        "RSS before (MiB)",
        "RSS after (MiB)",
        "KiB per connection",
        "× fastwebsockets",
        "failed to open",
    ]);
    let baseline = results
        .memory
        .iter()
        .find(|m| m.kind == ServerKind::Fastwebsockets)
        .map(|m| m.kib_per_connection());
    for m in &results.memory {
        table.row([
            m.kind.label().to_owned(),
            format!("{} of {}", m.connections, config.idle_connections),
            format!("{:.1}", m.before_kib as f64 / 1024.0),
            format!("{:.1}", m.after_kib as f64 / 1024.0),
            format!("{:.2}", m.kib_per_connection()),
            ratio(m.kib_per_connection(), baseline),
            m.errors.to_string(),
        ]);
    }
    table
}

/// The handshake part of the report.
pub fn handshake_table(results: &SuiteResults, config: &SuiteConfig) -> Table {
    let mut table = Table::new(["server", "handshakes/s", "× fastwebsockets", "errors"]);
    let baseline = results
        .handshakes
        .iter()
        .find(|(k, h)| *k == ServerKind::Fastwebsockets && h.ok())
        .map(|(_, h)| h.rate());
    for (kind, h) in &results.handshakes {
        table.row([
            format!("{} ({} loops)", kind.label(), config.handshake_concurrency),
            rate(h.rate()),
            ratio(h.rate(), baseline),
            h.errors.to_string(),
        ]);
    }
    table
}

/// The gameloop part of the report.
pub fn gameloop_table(results: &SuiteResults, config: &SuiteConfig) -> Table {
    let mut table = Table::new([
        "clients",
        "echoes",
        "send → seen p50 ms",
        "p99 ms",
        "mean ms",
        "added by the facade (mean)",
        "errors",
    ]);
    if let Some((facade, core)) = &results.gameloop {
        let added = facade.mean_ms() - core.mean_ms();
        for (name, r, extra) in [
            ("async core (`recv().await`)", core, "(baseline)".to_owned()),
            (
                "poll facade (`poll()` each frame)",
                facade,
                format!("{added:.2} ms ({:.2} frames)", added / 16.667),
            ),
        ] {
            table.row([
                format!("{} × {name}", config.gameloop_clients),
                r.messages.to_string(),
                format!("{:.2}", r.latency_ms(0.5)),
                format!("{:.2}", r.latency_ms(0.99)),
                format!("{:.2}", r.mean_ms()),
                extra,
                r.errors.to_string(),
            ]);
        }
    }
    table
}

/// A WebSocket server more than this much faster than the raw TCP echo in the
/// same round means the machine itself changed speed between the two runs.
const UNSTEADY: f64 = 1.05;

/// The wspeer server kinds every echo target applies to.
const WSPEER_KINDS: [ServerKind; 4] = [
    ServerKind::WspeerAsync,
    ServerKind::WspeerHandler,
    ServerKind::WspeerPoll,
    ServerKind::WspeerPollThisThread,
];

/// One echo target: `figure` of `kind` relative to `base`, round by round.
struct EchoTarget {
    name: String,
    kind: ServerKind,
    base: ServerKind,
    figure: fn(&LoadReport) -> Option<f64>,
    target: f64,
    direction: Direction,
}

impl EchoTarget {
    /// The target's row: the ratio over the usable rounds, and the verdict.
    /// A round is left out when other processes took more than `DISTURBED` of
    /// a CPU during either run, or when a WebSocket server beat the raw TCP
    /// echo in it.
    fn row(&self, results: &SuiteResults, workload: &Workload) -> [String; 3] {
        let mut values = Vec::new();
        let mut left_out = Vec::new();
        for run in results.rounds_of(workload, self.kind) {
            let Some(base) = results.run_in(workload, self.base, run.round) else {
                continue;
            };
            if !run.report.ok() || !base.ok() {
                continue;
            }
            let others = run
                .report
                .other_load()
                .unwrap_or(0.0)
                .max(base.other_load().unwrap_or(0.0));
            let raw = results
                .run_in(workload, ServerKind::RawTcp, run.round)
                .filter(|r| r.ok())
                .map(LoadReport::rate);
            let beat_raw = raw.is_some_and(|raw| {
                run.report.rate().max(base.rate()) > UNSTEADY * raw
                    && self.kind != ServerKind::RawTcp
            });
            if others > DISTURBED {
                left_out.push(format!("{} disturbed", run.round));
                continue;
            }
            if beat_raw {
                left_out.push(format!("{} unsteady", run.round));
                continue;
            }
            if let (Some(v), Some(b)) = ((self.figure)(&run.report), (self.figure)(base)) {
                values.push(v / b);
            }
        }
        let measured =
            Spread::of(values.iter().copied()).map_or("no run".to_owned(), |s| s.ratio());
        let mut said = Decision::over(&values, self.target, self.direction).to_string();
        if !left_out.is_empty() {
            said.push_str(&format!(" (rounds left out: {})", left_out.join(", ")));
        }
        [format!("{}, {}", self.name, workload.name), measured, said]
    }
}

fn rate_of(report: &LoadReport) -> Option<f64> {
    Some(report.rate())
}

/// The targets part of the report.
pub fn targets_table(results: &SuiteResults) -> Table {
    let mut table = Table::new(["target", "measured (median, range)", "verdict"]);
    for workload in &WORKLOADS[..2] {
        for kind in WSPEER_KINDS {
            for target in [
                EchoTarget {
                    name: format!("{} ≥ {RAW_RATE_TARGET:.2}× raw TCP msg/s", kind.label()),
                    kind,
                    base: ServerKind::RawTcp,
                    figure: rate_of,
                    target: RAW_RATE_TARGET,
                    direction: Direction::AtLeast,
                },
                EchoTarget {
                    name: format!(
                        "{} server CPU per message ≤ {RAW_CPU_TARGET:.1}× raw TCP",
                        kind.label()
                    ),
                    kind,
                    base: ServerKind::RawTcp,
                    figure: LoadReport::server_us_per_message,
                    target: RAW_CPU_TARGET,
                    direction: Direction::AtMost,
                },
            ] {
                table.row(target.row(results, workload));
            }
        }
    }
    for kind in WSPEER_KINDS {
        let target = EchoTarget {
            name: format!("{} ≥ {LARGE_TARGET:.1}× fastwebsockets msg/s", kind.label()),
            kind,
            base: ServerKind::Fastwebsockets,
            figure: rate_of,
            target: LARGE_TARGET,
            direction: Direction::AtLeast,
        };
        table.row(target.row(results, &WORKLOADS[2]));
    }
    let handshakes = |kind: ServerKind| {
        results
            .handshakes
            .iter()
            .find(|(k, h)| *k == kind && h.ok())
            .map(|(_, h)| h.rate())
    };
    for (kind, target) in [
        (ServerKind::WspeerAsync, HANDSHAKE_CORE_TARGET),
        (ServerKind::WspeerPollThisThread, HANDSHAKE_FACADE_TARGET),
    ] {
        let measured = handshakes(kind).zip(handshakes(ServerKind::Fastwebsockets));
        table.row([
            format!(
                "{}: handshakes/s ≥ {target:.1}× fastwebsockets",
                kind.label()
            ),
            measured.map_or("no run".to_owned(), |(k, f)| {
                format!("{:.2}× (one run)", k / f)
            }),
            verdict(measured.is_some_and(|(k, f)| k >= target * f)).to_owned(),
        ]);
    }
    for kind in [
        ServerKind::WspeerAsync,
        ServerKind::WspeerPoll,
        ServerKind::WspeerPollThisThread,
    ] {
        let kib = results
            .memory
            .iter()
            .find(|m| m.kind == kind && m.errors == 0)
            .map(|m| m.kib_per_connection());
        table.row([
            format!(
                "{}: ≤ {MEMORY_TARGET_KIB:.0} KiB RSS per idle connection",
                kind.label()
            ),
            opt(kib, 2) + " KiB",
            verdict(kib.is_some_and(|k| k <= MEMORY_TARGET_KIB)).to_owned(),
        ]);
    }
    table.row([
        format!("idle `poll()` < {POLL_TARGET_NS:.0} ns (timed loop; criterion: `cargo bench`)"),
        opt(results.idle_poll_ns, 1) + " ns",
        verdict(results.idle_poll_ns.is_some_and(|ns| ns < POLL_TARGET_NS)).to_owned(),
    ]);
    table
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hdrhistogram::Histogram;

    use super::*;
    use crate::suite::EchoRun;

    /// A clean one-second run of `rate` msg/s at `cpu_us` of server CPU each.
    fn run(rate: u64, cpu_us: u64) -> LoadReport {
        LoadReport {
            messages: rate,
            window: Duration::from_secs(1),
            errors: 0,
            first_error: None,
            latency: Histogram::new(3).expect("a histogram"),
            server_cpu: Some(Duration::from_micros(rate * cpu_us)),
            client_cpu: None,
            other_cpu: Some(Duration::ZERO),
        }
    }

    /// The verdicts of the serve-style async core on 10 × 1 KiB, over rounds
    /// of (wspeer, raw TCP) runs: (msg/s row, CPU row).
    fn verdicts(rounds: &[(LoadReport, LoadReport)]) -> (String, String) {
        let workload = WORKLOADS[1];
        let mut echo = Vec::new();
        for (i, (wspeer, raw)) in rounds.iter().enumerate() {
            for (kind, report) in [
                (ServerKind::WspeerHandler, wspeer),
                (ServerKind::RawTcp, raw),
            ] {
                echo.push(EchoRun {
                    workload,
                    kind,
                    round: i + 1,
                    report: report.clone(),
                });
            }
        }
        let results = SuiteResults {
            echo,
            ..SuiteResults::default()
        };
        let table = targets_table(&results).render();
        let verdict_of = |what: &str| {
            let line = table
                .lines()
                .find(|l| {
                    l.contains("wspeer async core, serve")
                        && l.contains(what)
                        && l.contains("10 × 1 KiB")
                })
                .unwrap_or_else(|| panic!("no row for {what} in\n{table}"));
            line.rsplit('|')
                .nth(1)
                .expect("a verdict")
                .trim()
                .to_owned()
        };
        (verdict_of("msg/s"), verdict_of("CPU per message"))
    }

    #[test]
    fn rate_and_cpu_are_judged_round_by_round_against_raw_tcp() {
        let close = [
            (run(97_000, 7), run(100_000, 6)),
            (run(96_000, 7), run(99_000, 6)),
            (run(99_000, 7), run(101_000, 6)),
        ];
        assert_eq!(verdicts(&close), ("met".to_owned(), "met".to_owned()));
        let heavy = [
            (run(90_000, 9), run(100_000, 6)),
            (run(91_000, 9), run(99_000, 6)),
            (run(89_000, 9), run(101_000, 6)),
        ];
        assert_eq!(
            verdicts(&heavy),
            ("**MISSED**".to_owned(), "**MISSED**".to_owned())
        );
    }

    #[test]
    fn rounds_that_disagree_are_undecided() {
        let mixed = [
            (run(97_000, 7), run(100_000, 6)),
            (run(90_000, 7), run(100_000, 6)),
            (run(96_000, 7), run(100_000, 6)),
            (run(91_000, 7), run(100_000, 6)),
        ];
        let (rate, _) = verdicts(&mixed);
        assert!(rate.starts_with("undecided: met in 2 of 4"), "{rate}");
    }

    #[test]
    fn a_round_where_a_websocket_server_beat_raw_tcp_is_left_out() {
        let rounds = [
            (run(97_000, 7), run(100_000, 6)),
            (run(120_000, 7), run(100_000, 6)),
            (run(98_000, 7), run(100_000, 6)),
            (run(99_000, 7), run(100_000, 6)),
        ];
        let (rate, _) = verdicts(&rounds);
        assert_eq!(rate, "met (rounds left out: 2 unsteady)");
    }
}
