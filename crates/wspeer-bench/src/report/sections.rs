//! The report of `wspeer-bench all`: one markdown table per part of the run,
//! every figure with its ratio to the baseline measured in the same run, then
//! the targets, each marked met or missed.

use std::fmt::Write as _;

use super::{Table, num, opt, rate, ratio, verdict};
use crate::{
    load::LoadReport,
    servers::ServerKind,
    suite::{SuiteConfig, SuiteResults, WORKLOADS},
};

/// Echo runs below this ratio to fastwebsockets miss the async-core target.
const CORE_TARGET: f64 = 1.0;
/// The facade must reach this ratio of the async core.
const FACADE_TARGET: f64 = 0.8;
/// Most RSS growth per idle connection, KiB.
const MEMORY_TARGET_KIB: f64 = 4.0;
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
         window {:?} per echo run; {} rounds (servers take turns), the best kept. \
         \"others' CPU %\" is what other processes on the machine used during the \
         kept window, plus what the hypervisor took (steal), not counting interrupt \
         time (100 % = one CPU): a high figure marks a disturbed run.\n",
        config
            .server_cpu
            .map_or("(none)".to_owned(), |c| c.to_string()),
        config.warmup,
        config.duration,
        config.rounds
    );
    out.push_str("### Echo: messages per second (baseline: fastwebsockets)\n\n");
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
    for (workload, kind, report) in &results.echo {
        if let Some(error) = &report.first_error {
            let _ = writeln!(out, "\n- {} on {kind}: {error}", workload.name);
        }
    }
    out
}

/// The echo part of the report.
pub fn echo_table(results: &SuiteResults) -> Table {
    let mut table = Table::new([
        "workload",
        "server",
        "msg/s",
        "× fastwebsockets",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "server CPU µs/msg",
        "server CPU %",
        "load gen CPU %",
        "others' CPU %",
        "errors",
    ]);
    for workload in &WORKLOADS {
        let baseline = results
            .echo_of(workload, ServerKind::Fastwebsockets)
            .filter(|r| r.ok())
            .map(|r| r.rate());
        for (w, kind, report) in results.echo.iter().filter(|(w, _, _)| w == workload) {
            let server_load = report
                .server_cpu
                .map(|c| 100.0 * c.as_secs_f64() / report.window.as_secs_f64());
            table.row([
                w.name.to_owned(),
                kind.label().to_owned(),
                rate(report.rate()),
                ratio(report.rate(), baseline),
                num(report.latency_us(0.5)),
                num(report.latency_us(0.99)),
                num(report.latency_us(0.999)),
                opt(report.server_us_per_message(), 2),
                opt(server_load, 0),
                opt(report.client_load().map(|l| 100.0 * l), 0),
                opt(report.other_load().map(|l| 100.0 * l), 0),
                report.errors.to_string(),
            ]);
        }
    }
    table
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

/// Within this fraction of the raw TCP echo's msg/s, a server runs at the load
/// generator's ceiling (one message in flight per connection: the generator
/// needs as much CPU per echo as the server, and has one CPU).
const AT_CEILING: f64 = 0.95;

/// A WebSocket server more than this much faster than the raw TCP echo means
/// the machine itself changed speed between the runs compared.
const UNSTEADY: f64 = 1.05;

/// The targets part of the report. An echo target compares two runs; when other
/// processes took more than `DISTURBED` of a CPU during either window, the
/// verdict says so instead of met or missed.
pub fn targets_table(results: &SuiteResults) -> Table {
    let mut table = Table::new(["target", "measured", "server CPU per message", "verdict"]);
    let echo_row = |table: &mut Table, name: String, kind, base, workload, target: f64| {
        let run = results.echo_of(workload, kind).filter(|r| r.ok());
        let baseline = results.echo_of(workload, base).filter(|r| r.ok());
        let (Some(run), Some(baseline)) = (run, baseline) else {
            table.row([
                name,
                "no run".to_owned(),
                String::new(),
                verdict(false).to_owned(),
            ]);
            return;
        };
        let measured = run.rate() / baseline.rate();
        let cpu = run
            .server_us_per_message()
            .zip(baseline.server_us_per_message())
            .map(|(r, b)| format!("{r:.2} against {b:.2} µs"));
        let others = run
            .other_load()
            .unwrap_or(0.0)
            .max(baseline.other_load().unwrap_or(0.0));
        let ceiling = results
            .echo_of(workload, ServerKind::RawTcp)
            .filter(|r| r.ok())
            .map(LoadReport::rate);
        // No WebSocket server can echo faster than the raw TCP echo: one that
        // did ran in a faster window of the machine than the ceiling's run.
        let beat_ceiling = ceiling.is_some_and(|c| run.rate().max(baseline.rate()) > UNSTEADY * c);
        let said = if others > DISTURBED {
            format!(
                "disturbed (others used {:.0} % of a CPU): re-run",
                100.0 * others
            )
        } else if beat_ceiling {
            "unsteady (a WebSocket server beat the raw TCP echo: the machine's speed moved during the run): re-run".to_owned()
        } else if measured >= target {
            verdict(true).to_owned()
        } else if let Some(ceiling) = ceiling.filter(|&c| {
            baseline.rate() >= AT_CEILING * c && run.rate() >= AT_CEILING * target * baseline.rate()
        }) {
            // The load generator, not the servers, sets the pace: msg/s cannot
            // tell them apart, the CPU each needs per message can.
            let lighter = run
                .server_us_per_message()
                .zip(baseline.server_us_per_message())
                .is_some_and(|(r, b)| r * target <= b);
            format!(
                "{}: both at the load generator's ceiling (raw TCP {}), decided by CPU per message",
                verdict(lighter),
                rate(ceiling)
            )
        } else {
            verdict(false).to_owned()
        };
        table.row([
            name,
            format!("{measured:.2}×"),
            cpu.unwrap_or_default(),
            said,
        ]);
    };
    for (kind, style) in [
        (ServerKind::WspeerAsync, "recv/send"),
        (ServerKind::WspeerHandler, "serve"),
    ] {
        for workload in &WORKLOADS[..3] {
            let name = format!(
                "async core ({style}) ≥ {CORE_TARGET:.1}× fastwebsockets, {}",
                workload.name
            );
            echo_row(
                &mut table,
                name,
                kind,
                ServerKind::Fastwebsockets,
                workload,
                CORE_TARGET,
            );
        }
    }
    for (kind, mode) in [
        (ServerKind::WspeerPollThisThread, "this thread"),
        (ServerKind::WspeerPoll, "background thread"),
    ] {
        for workload in &WORKLOADS {
            let name = format!(
                "poll facade ({mode}) ≥ {FACADE_TARGET:.1}× async core, {}",
                workload.name
            );
            echo_row(
                &mut table,
                name,
                kind,
                ServerKind::WspeerAsync,
                workload,
                FACADE_TARGET,
            );
        }
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
            String::new(),
            verdict(kib.is_some_and(|k| k <= MEMORY_TARGET_KIB)).to_owned(),
        ]);
    }
    table.row([
        format!("idle `poll()` < {POLL_TARGET_NS:.0} ns (timed loop; criterion: `cargo bench`)"),
        opt(results.idle_poll_ns, 1) + " ns",
        String::new(),
        verdict(results.idle_poll_ns.is_some_and(|ns| ns < POLL_TARGET_NS)).to_owned(),
    ]);
    table
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hdrhistogram::Histogram;

    use super::*;

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

    /// The verdict of the serve-style async core on 10 × 1 KiB.
    fn verdict_with(wspeer: LoadReport, fastws: LoadReport, raw_tcp: LoadReport) -> String {
        let workload = WORKLOADS[1];
        let results = SuiteResults {
            echo: vec![
                (workload, ServerKind::WspeerHandler, wspeer),
                (workload, ServerKind::Fastwebsockets, fastws),
                (workload, ServerKind::RawTcp, raw_tcp),
            ],
            ..SuiteResults::default()
        };
        let table = targets_table(&results).render();
        let line = table
            .lines()
            .find(|l| l.contains("async core (serve)") && l.contains("10 × 1 KiB"))
            .expect("the target's row");
        line.rsplit('|')
            .nth(1)
            .expect("a verdict")
            .trim()
            .to_owned()
    }

    #[test]
    fn at_the_load_generators_ceiling_cpu_per_message_decides() {
        let lighter = verdict_with(run(97_000, 7), run(100_000, 8), run(101_000, 6));
        assert!(lighter.starts_with("met: both at the load generator's ceiling"));
        let heavier = verdict_with(run(97_000, 9), run(100_000, 8), run(101_000, 6));
        assert!(heavier.starts_with("**MISSED**: both at the load generator's ceiling"));
    }

    #[test]
    fn a_server_above_the_raw_tcp_echo_marks_the_run_unsteady() {
        let lucky = verdict_with(run(120_000, 7), run(100_000, 8), run(101_000, 6));
        assert!(lucky.starts_with("unsteady"), "{lucky}");
    }

    #[test]
    fn below_the_ceiling_msg_per_second_decides() {
        // fastwebsockets is well under the raw TCP echo: the servers set the pace.
        let slower = verdict_with(run(97_000, 7), run(100_000, 8), run(150_000, 6));
        assert_eq!(slower, "**MISSED**");
        let faster = verdict_with(run(101_000, 9), run(100_000, 8), run(150_000, 6));
        assert_eq!(faster, "met");
        // Far below the baseline, even at its ceiling: missed outright.
        let far = verdict_with(run(80_000, 7), run(100_000, 8), run(101_000, 6));
        assert_eq!(far, "**MISSED**");
    }
}
