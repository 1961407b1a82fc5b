//! The report of a hold run: what it held and what that cost, as markdown
//! tables (the probe, and the chat's traffic), with the limits it ran under.

use std::{fmt::Write as _, time::Duration};

use hdrhistogram::Histogram;

use super::{HoldConfig, Server, limits::NofileLimit, traffic::TrafficReport};
use crate::report::{Table, rate};

/// What a hold run measured.
#[derive(Debug, Clone)]
pub struct HoldReport {
    /// The server's name.
    pub label: &'static str,
    /// Connections asked for.
    pub asked: usize,
    /// Connections opened (and held to the end, unless counted in
    /// [`Self::closed_while_held`]).
    pub opened: usize,
    /// Connections that did not open.
    pub failed: usize,
    /// The first of them.
    pub first_open_error: Option<String>,
    /// Time from the first connect to the last handshake.
    pub open_time: Duration,
    /// Chat rooms (1 for the echo server).
    pub rooms: usize,
    /// Open connections per room.
    pub members: Vec<u32>,
    /// Source addresses and handshakes at once from each.
    pub sources: (usize, usize),
    /// The descriptor limit set.
    pub limit: NofileLimit,
    /// The chat's command-line options (empty for the echo server).
    pub chat_args: Vec<String>,
    /// Server RSS before the first connection, KiB.
    pub server_rss_before_kib: u64,
    /// Server RSS with every connection held, KiB.
    pub server_rss_held_kib: u64,
    /// Server RSS after the chat's traffic, KiB.
    pub server_rss_end_kib: Option<u64>,
    /// The load side's RSS before the first connection, KiB.
    pub load_rss_before_kib: u64,
    /// The load side's RSS with every connection held, KiB.
    pub load_rss_held_kib: u64,
    /// The kernel's TCP buffers before, KiB.
    pub kernel_tcp_before_kib: Option<u64>,
    /// The kernel's TCP buffers with every connection held, KiB.
    pub kernel_tcp_held_kib: Option<u64>,
    /// Clients the chat counts (its `wspeer_chat_connections`).
    pub server_connections: Option<u64>,
    /// The probe's round trips, in nanoseconds.
    pub probe: Option<Histogram<u64>>,
    /// Why the probe failed.
    pub probe_error: Option<String>,
    /// The chat's traffic.
    pub traffic: Option<TrafficReport>,
    /// Held connections the server closed.
    pub closed_while_held: u64,
    /// The first of them.
    pub first_held_error: Option<String>,
    /// Clients the chat closed as too slow.
    pub dropped_slow: Option<u64>,
    /// Clients the chat closed as over their rate.
    pub rate_limited: Option<u64>,
    /// Warnings the server logged.
    pub server_warnings: u64,
    /// The whole run.
    pub elapsed: Duration,
}

impl HoldReport {
    pub(crate) fn new(config: &HoldConfig, limit: NofileLimit, rooms: usize) -> Self {
        let chat_args = match config.server {
            Server::Chat(_) => Server::chat_args(config.connections),
            Server::Echo => Vec::new(),
        };
        Self {
            label: config.server.label(),
            asked: config.connections,
            opened: 0,
            failed: 0,
            first_open_error: None,
            open_time: Duration::ZERO,
            rooms,
            members: Vec::new(),
            sources: (config.sources, config.per_source),
            limit,
            chat_args,
            server_rss_before_kib: 0,
            server_rss_held_kib: 0,
            server_rss_end_kib: None,
            load_rss_before_kib: 0,
            load_rss_held_kib: 0,
            kernel_tcp_before_kib: None,
            kernel_tcp_held_kib: None,
            server_connections: None,
            probe: None,
            probe_error: None,
            traffic: None,
            closed_while_held: 0,
            first_held_error: None,
            dropped_slow: None,
            rate_limited: None,
            server_warnings: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Whether every connection opened and stayed open, the probe finished,
    /// and every chat line reached every member once.
    pub fn ok(&self) -> bool {
        self.failed == 0
            && self.opened == self.asked
            && self.closed_while_held == 0
            && self.probe.is_some()
            && self.traffic.as_ref().is_none_or(TrafficReport::ok)
            && self.dropped_slow.unwrap_or(0) == 0
            && self.rate_limited.unwrap_or(0) == 0
    }

    fn per_connection(&self, before: u64, after: u64) -> String {
        if self.opened == 0 {
            return "n/a".to_owned();
        }
        format!(
            "{:.2}",
            after.saturating_sub(before) as f64 / self.opened as f64
        )
    }

    /// The report as markdown.
    pub fn render(&self) -> String {
        let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
        let mut held = Table::new([
            "server",
            "asked",
            "opened",
            "failed",
            "closed while held",
            "time to open s",
            "opens/s",
            "server RSS before → held MiB",
            "server KiB/conn",
            "load side RSS before → held MiB",
            "load side KiB/conn",
            "kernel TCP KiB/conn",
        ]);
        let kernel = match (self.kernel_tcp_before_kib, self.kernel_tcp_held_kib) {
            (Some(before), Some(after)) => self.per_connection(before, after),
            _ => "n/a".to_owned(),
        };
        held.row([
            self.label.to_owned(),
            self.asked.to_string(),
            self.opened.to_string(),
            self.failed.to_string(),
            self.closed_while_held.to_string(),
            format!("{:.1}", self.open_time.as_secs_f64()),
            rate(self.opened as f64 / self.open_time.as_secs_f64().max(1e-9)),
            format!(
                "{} → {}",
                mib(self.server_rss_before_kib),
                mib(self.server_rss_held_kib)
            ),
            self.per_connection(self.server_rss_before_kib, self.server_rss_held_kib),
            format!(
                "{} → {}",
                mib(self.load_rss_before_kib),
                mib(self.load_rss_held_kib)
            ),
            self.per_connection(self.load_rss_before_kib, self.load_rss_held_kib),
            kernel,
        ]);
        let mut out = held.render();
        out.push('\n');
        let ms = |h: &Histogram<u64>, q: f64| format!("{:.3}", h.value_at_quantile(q) as f64 / 1e6);
        let mut probe = Table::new([
            "fresh client's probe",
            "round trips",
            "p50 ms",
            "p99 ms",
            "max ms",
        ]);
        let what = match self.traffic {
            Some(_) => "line A → B, own room",
            None => "echo of 20 B",
        };
        match (&self.probe, &self.probe_error) {
            (Some(h), _) => probe.row([
                what.to_owned(),
                h.len().to_string(),
                ms(h, 0.5),
                ms(h, 0.99),
                format!("{:.3}", h.max() as f64 / 1e6),
            ]),
            (None, error) => probe.row([
                what.to_owned(),
                format!("failed: {}", error.as_deref().unwrap_or("?")),
            ]),
        }
        out += &probe.render();
        if let Some(t) = &self.traffic {
            out.push('\n');
            let (least, most) = (
                self.members.iter().min().copied().unwrap_or(0),
                self.members.iter().max().copied().unwrap_or(0),
            );
            let mut traffic = Table::new([
                "rooms × members",
                "lines",
                "lines/s",
                "deliveries/s",
                "expected",
                "delivered",
                "missing",
                "extra",
                "p50 ms",
                "p99 ms",
                "max ms",
            ]);
            traffic.row([
                format!("{} × {least}–{most}", self.rooms),
                t.lines.to_string(),
                format!("{:.0}", t.lines_per_second()),
                rate(t.deliveries_per_second()),
                t.expected.to_string(),
                t.delivered.to_string(),
                t.missing.to_string(),
                t.extra.to_string(),
                ms(&t.latency, 0.5),
                ms(&t.latency, 0.99),
                format!("{:.3}", t.latency.max() as f64 / 1e6),
            ]);
            out += &traffic.render();
            if t.send_errors > 0 {
                let _ = writeln!(out, "\n{} lines could not be written.", t.send_errors);
            }
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "RLIMIT_NOFILE set to {} (hard {}), inherited by the server{}. Connections from {} \
             source addresses (127.0.0.2 and up), {} handshakes at once from each.",
            self.limit.soft,
            self.limit.hard,
            match &self.limit.refused {
                Some(why) => format!("; {} was refused ({why})", self.limit.wanted),
                None => String::new(),
            },
            self.sources.0,
            self.sources.1,
        );
        if !self.chat_args.is_empty() {
            let _ = writeln!(
                out,
                "wspeer-chat ran with `{}` (send queue, per-address handshake limits and message \
                 size at their defaults).",
                self.chat_args.join(" ")
            );
        }
        if let Some(n) = self.server_connections {
            let _ = writeln!(out, "The chat counted {n} clients while they were held.");
        }
        if let Some(kib) = self.server_rss_end_kib {
            let _ = writeln!(out, "Server RSS after the traffic: {} MiB.", mib(kib));
        }
        match (self.dropped_slow, self.rate_limited) {
            (Some(slow), Some(limited)) => {
                let _ = writeln!(
                    out,
                    "The chat closed {slow} clients as too slow and {limited} as over their rate; \
                     it logged {} warnings.",
                    self.server_warnings
                );
            }
            _ if self.server_warnings > 0 => {
                let _ = writeln!(out, "The server logged {} warnings.", self.server_warnings);
            }
            _ => {}
        }
        for (what, error) in [
            ("first failed open", &self.first_open_error),
            ("first held connection lost", &self.first_held_error),
        ] {
            if let Some(error) = error {
                let _ = writeln!(out, "{what}: {error}");
            }
        }
        let _ = writeln!(
            out,
            "The whole run took {:.0} s; {}.",
            self.elapsed.as_secs_f64(),
            if self.ok() { "no error" } else { "FAILED" }
        );
        out
    }
}
