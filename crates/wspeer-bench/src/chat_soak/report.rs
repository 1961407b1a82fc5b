//! The soak's figures and verdict: the check run over every member, the
//! counts summed over clients, and a markdown table of both.

use std::time::Duration;

use super::{
    ClientStats, Outcome, SoakConfig,
    check::{Unseen, Verdict},
};
use crate::report::Table;

/// What the servers' side looked like (summed over the servers).
#[derive(Debug, Default, Clone)]
pub struct ServerFigures {
    /// Resident memory once started, before any client.
    pub rss_start_kib: u64,
    /// The highest resident memory sampled (every second) during the run.
    pub rss_peak_kib: u64,
    /// Resident memory at the end, the clients gone.
    pub rss_end_kib: u64,
    /// CPU time the servers used during the run.
    pub cpu: Duration,
    /// `wspeer_chat_messages_out_total`: messages the servers sent.
    pub messages_out: u64,
    /// `wspeer_chat_dropped_slow_total`: clients closed as too slow.
    pub dropped_slow: u64,
    /// `wspeer_chat_rate_limited_total`: clients closed over the rate.
    pub rate_limited: u64,
    /// Warnings and errors the servers logged.
    pub warnings: u64,
}

/// What a soak run measured and found.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// What ran.
    pub config: SoakConfig,
    /// The whole run, drain included.
    pub elapsed: Duration,
    /// Counts summed over clients.
    pub stats: ClientStats,
    /// Clients that got every other member's last line in time.
    pub finished: usize,
    /// Lines given an id and delivered to someone, every room together.
    pub lines_said: u64,
    /// Room lines received during the timed window, per second.
    pub deliveries_per_second: f64,
    /// Live delivery latency, send to receipt, µs: p50, p99, p99.9, max.
    pub latency_us: [u64; 4],
    /// Deliveries in the latency figures.
    pub latency_count: u64,
    /// The exactly-once check, summed over members.
    pub verdict: Verdict,
    /// The first missing lines, as (room, id).
    pub first_missing: Vec<(usize, u64)>,
    /// Ids received twice.
    pub duplicates: u64,
    /// Ids received after a newer one.
    pub out_of_order: u64,
    /// Own lines sent back live.
    pub echoes: u64,
    /// Ids seen carrying two different lines.
    pub conflicts: u64,
    /// Members that received no line at all.
    pub starved: u64,
    /// Ids no member got, and room counters that started again.
    pub unseen: Unseen,
    /// The servers' side.
    pub server: ServerFigures,
}

impl SoakReport {
    pub(crate) fn new(config: &SoakConfig, outcome: Outcome, server: ServerFigures) -> Self {
        let shared = &outcome.shared;
        let ledgers: Vec<_> = shared
            .ledgers
            .iter()
            .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let rooms: Vec<_> = ledgers.iter().map(|l| l.view()).collect();
        let mut stats = ClientStats::default();
        let mut verdict = Verdict::default();
        let (mut finished, mut duplicates, mut out_of_order, mut echoes, mut starved) =
            (0, 0, 0, 0, 0);
        let mut first_missing = Vec::new();
        for (index, member, client) in &outcome.members {
            let room = index % config.rooms;
            stats.add(client);
            finished += usize::from(client.finished);
            duplicates += member.duplicates;
            out_of_order += member.out_of_order;
            echoes += member.echoes;
            let found = member.check(&rooms[room]);
            verdict.expected += found.expected;
            verdict.missing += found.missing;
            verdict.unconfirmed += found.unconfirmed;
            verdict.lost += found.lost;
            starved += u64::from(found.starved);
            for id in found.first_missing {
                if first_missing.len() < 10 {
                    first_missing.push((room, id));
                }
            }
        }
        // No run sends this many lines: a wider jump in a room's ids is a reset.
        let plausible = stats.sent.max(1000);
        let mut unseen = Unseen::default();
        for room in &rooms {
            let found = room.unseen(plausible);
            unseen.ids += found.ids;
            unseen.resets += found.resets;
        }
        let histogram = shared.latency.lock().unwrap_or_else(|e| e.into_inner());
        let q = |p: f64| histogram.value_at_quantile(p);
        Self {
            config: config.clone(),
            elapsed: outcome.elapsed,
            finished,
            lines_said: ledgers.iter().map(|l| l.len() as u64).sum(),
            deliveries_per_second: shared.in_window.load(std::sync::atomic::Ordering::Relaxed)
                as f64
                / config.duration.as_secs_f64(),
            latency_us: [q(0.5), q(0.99), q(0.999), histogram.max()],
            latency_count: histogram.len(),
            conflicts: ledgers.iter().map(|l| l.conflicts).sum(),
            stats,
            verdict,
            first_missing,
            duplicates,
            out_of_order,
            echoes,
            starved,
            unseen,
            server,
        }
    }

    /// Why the run failed the exactly-once check (or the conditions it
    /// needs); empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut why = Vec::new();
        let mut fail = |count: u64, what: &str| {
            if count > 0 {
                why.push(format!("{count} {what}"));
            }
        };
        fail(self.verdict.missing, "missing deliveries");
        fail(self.duplicates, "duplicate deliveries");
        fail(self.out_of_order, "deliveries out of order");
        fail(self.echoes, "own lines echoed live");
        fail(self.conflicts, "ids carrying two different lines");
        fail(self.verdict.lost, "lines sent and never delivered");
        fail(self.unseen.ids, "ids that reached no member");
        fail(
            self.unseen.resets,
            "room counters that started again (a room emptied)",
        );
        fail(self.starved, "members that got no line");
        fail(
            self.stats.gaps,
            "gap notices (the history should cover every absence)",
        );
        fail(self.stats.server_closes, "connections closed by the server");
        fail(self.stats.strange_frames, "frames that were not soak lines");
        fail(
            (self.config.clients - self.finished) as u64,
            "clients that did not finish the drain",
        );
        if self.latency_count == 0 {
            why.push("no delivery measured".to_owned());
        }
        why
    }

    /// Whether every line reached every member once, in order.
    pub fn ok(&self) -> bool {
        self.failures().is_empty()
    }

    /// The figures as a markdown table.
    pub fn render(&self) -> String {
        let c = &self.config;
        let s = &self.stats;
        let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
        let servers = if c.servers > 1 {
            format!("{} (cluster over Redis)", c.servers)
        } else if c.redis {
            "1 (over Redis)".to_owned()
        } else {
            "1".to_owned()
        };
        let rows: Vec<(&str, String)> = vec![
            ("servers", servers),
            ("clients × rooms", format!("{} × {}", c.clients, c.rooms)),
            (
                "timed run, then drain",
                format!(
                    "{:.0} s, then {:.1} s",
                    c.duration.as_secs_f64(),
                    (self.elapsed.saturating_sub(c.duration)).as_secs_f64()
                ),
            ),
            (
                "lines sent (per client per s), lines given an id",
                format!("{} ({}), {}", s.sent, c.line_rate, self.lines_said),
            ),
            (
                "deliveries (all), per s in the timed run",
                format!("{}, {:.0}", s.deliveries, self.deliveries_per_second),
            ),
            (
                "live latency p50 / p99 / p99.9 / max",
                format!(
                    "{:.2} / {:.2} / {:.2} / {:.2} ms ({} deliveries)",
                    self.latency_us[0] as f64 / 1000.0,
                    self.latency_us[1] as f64 / 1000.0,
                    self.latency_us[2] as f64 / 1000.0,
                    self.latency_us[3] as f64 / 1000.0,
                    self.latency_count
                ),
            ),
            (
                "drops: abrupt, polite (per client per min)",
                format!(
                    "{}, {} ({})",
                    s.abrupt_drops, s.polite_closes, c.disconnect_rate
                ),
            ),
            (
                "reconnections: resumed, plain (nothing to resume)",
                format!("{}, {}", s.resumes, s.fresh_rejoins),
            ),
            (
                "lines recovered by resume; history on joining",
                format!("{}; {}", s.recovered, s.history_on_join),
            ),
            (
                "deliveries due (checked), missing",
                format!("{}, {}", self.verdict.expected, self.verdict.missing),
            ),
            (
                "duplicates, out of order, echoes, id conflicts",
                format!(
                    "{}, {}, {}, {}",
                    self.duplicates, self.out_of_order, self.echoes, self.conflicts
                ),
            ),
            ("gap notices", format!("{} (history {})", s.gaps, c.history)),
            (
                "lines lost; ids no member got; unconfirmed (sent as the socket was reset)",
                format!(
                    "{}; {}; {}",
                    self.verdict.lost, self.unseen.ids, self.verdict.unconfirmed
                ),
            ),
            (
                "closed by the server; connect failures (retried)",
                format!("{}; {}", s.server_closes, s.connect_failures),
            ),
            (
                "server RSS: start, peak, end",
                format!(
                    "{}, {}, {}",
                    mib(self.server.rss_start_kib),
                    mib(self.server.rss_peak_kib),
                    mib(self.server.rss_end_kib)
                ),
            ),
            (
                "server CPU (share of one core)",
                format!(
                    "{:.1} s ({:.0} %)",
                    self.server.cpu.as_secs_f64(),
                    100.0 * self.server.cpu.as_secs_f64() / self.elapsed.as_secs_f64()
                ),
            ),
            (
                "server: messages out, closed slow, closed over rate, warnings",
                format!(
                    "{}, {}, {}, {}",
                    self.server.messages_out,
                    self.server.dropped_slow,
                    self.server.rate_limited,
                    self.server.warnings
                ),
            ),
        ];
        let mut table = Table::new(["figure", "value"]);
        for (name, value) in rows {
            table.row([name.to_owned(), value]);
        }
        let mut out = table.render();
        match self.failures().as_slice() {
            [] => out.push_str("\nexactly once: every line reached every member once, in order\n"),
            failures => {
                out.push_str(&format!("\nFAILED: {}\n", failures.join("; ")));
                if !self.first_missing.is_empty() {
                    out.push_str(&format!(
                        "first missing (room, id): {:?}\n",
                        self.first_missing
                    ));
                }
            }
        }
        out
    }
}
