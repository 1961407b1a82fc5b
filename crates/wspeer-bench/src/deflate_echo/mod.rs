//! permessage-deflate on real connections: the async core's echo server
//! (`wspeer-async`, a child process pinned to one CPU) without compression,
//! with it and no context takeover (the default), and with takeover both
//! ways, in alternating rounds of the same run. Clients are wspeer's own,
//! offering the same mode, on a current-thread runtime pinned to the other
//! CPU; each echo is checked.
//!
//! Per mode and message kind it reports the server's CPU per echoed message,
//! the payload bytes each message took on the wire both ways (from the
//! clients' [`wspeer_core::compression_totals`]), and the server's resident
//! memory per idle connection after one message each way.

pub mod corpus;

use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use futures_util::{StreamExt, stream};
use wspeer_core::{Config, DeflateConfig, Message, WebSocket, compression_totals};

use crate::{process::ServerProcess, servers::ServerKind};

/// How the server and its clients compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not negotiated.
    Off,
    /// `DeflateConfig::default()`: no context takeover either way.
    NoTakeover,
    /// Context takeover both ways, 15-bit windows.
    Takeover,
}

impl Mode {
    /// Every mode, in report order.
    pub const ALL: [Mode; 3] = [Mode::Off, Mode::NoTakeover, Mode::Takeover];

    /// The value of `WSPEER_BENCH_DEFLATE`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::NoTakeover => "no-takeover",
            Mode::Takeover => "takeover",
        }
    }

    /// The mode named `name`.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .with_context(|| format!("WSPEER_BENCH_DEFLATE={name}: off, no-takeover or takeover"))
    }

    /// The core's setting for this mode.
    pub fn settings(self) -> Option<DeflateConfig> {
        match self {
            Mode::Off => None,
            Mode::NoTakeover => Some(DeflateConfig::default()),
            Mode::Takeover => Some(
                DeflateConfig::default()
                    .send_context_takeover(true)
                    .receive_context_takeover(true),
            ),
        }
    }

    fn client_config(self) -> Config {
        let mut config = Config::default();
        config.permessage_deflate = self.settings();
        config
    }
}

/// What the echoed messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Chat-like JSON text, 200 B–4 KiB.
    ChatText,
    /// Random bytes, 200 B–4 KiB.
    RandomBinary,
}

impl Payload {
    fn label(self) -> &'static str {
        match self {
            Payload::ChatText => "chat text, 200 B–4 KiB",
            Payload::RandomBinary => "random binary, 200 B–4 KiB",
        }
    }

    fn messages(self) -> Vec<Message> {
        const COUNT: usize = 400;
        match self {
            Payload::ChatText => corpus::chat_text(COUNT)
                .into_iter()
                .map(Message::text)
                .collect(),
            Payload::RandomBinary => corpus::random_binary(COUNT)
                .into_iter()
                .map(Message::binary)
                .collect(),
        }
    }
}

/// How the benchmark runs.
#[derive(Debug, Clone)]
pub struct DeflateBench {
    /// The harness binary (`wspeer-bench`), which runs the servers.
    pub exe: std::path::PathBuf,
    /// Echo connections at once, one message in flight on each.
    pub connections: usize,
    /// Length of one measured cell.
    pub duration: Duration,
    /// Alternating rounds over the modes.
    pub rounds: usize,
    /// Idle connections for the memory figure.
    pub idle: usize,
    /// The CPU servers are pinned to (the harness pinned itself elsewhere).
    pub server_cpu: Option<usize>,
}

/// One cell: a mode and a payload, one round.
#[derive(Debug, Clone, Copy)]
struct Cell {
    messages: u64,
    server_us_per_message: f64,
    payload_per_message: f64,
    /// Bytes of payload on the wire per message, client to server.
    wire_up: f64,
    /// Bytes of payload on the wire per message, server to client.
    wire_down: f64,
}

/// Runs every round; returns the markdown report. Fails if an echo was wrong.
pub fn run(bench: &DeflateBench) -> anyhow::Result<String> {
    let server_cpu = bench.server_cpu;
    let payloads = [Payload::ChatText, Payload::RandomBinary];
    let mut cells: Vec<Vec<Vec<Cell>>> = vec![vec![Vec::new(); Mode::ALL.len()]; payloads.len()];
    for round in 0..bench.rounds {
        for (p, payload) in payloads.iter().enumerate() {
            // Alternate the order so that no mode always runs first.
            let mut order: Vec<usize> = (0..Mode::ALL.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for m in order {
                let cell = echo_cell(bench, Mode::ALL[m], *payload, server_cpu)?;
                eprintln!(
                    "round {round} {:?} {}: {} messages, {:.1} µs/message",
                    payload,
                    Mode::ALL[m].name(),
                    cell.messages,
                    cell.server_us_per_message
                );
                cells[p][m].push(cell);
            }
        }
    }
    let mut memory = Vec::new();
    for mode in Mode::ALL {
        memory.push(idle_memory(&bench.exe, mode, bench.idle, server_cpu)?);
    }
    Ok(render(bench, &payloads, &cells, &memory))
}

fn echo_cell(
    bench: &DeflateBench,
    mode: Mode,
    payload: Payload,
    cpu: Option<usize>,
) -> anyhow::Result<Cell> {
    let server = spawn(&bench.exe, mode, cpu)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let messages = payload.messages();
    runtime.block_on(async {
        let url = format!("ws://{}/", server.addr);
        let mut clients = Vec::new();
        for _ in 0..bench.connections {
            let ws = wspeer_core::connect_with(&url, mode.client_config()).await?;
            ensure!(
                ws.info().compression.is_some() == (mode != Mode::Off),
                "compression not as asked: {:?}",
                ws.info().compression
            );
            clients.push(ws);
        }
        // A short warm-up: first allocations, pools, caches.
        echo_all(&mut clients, &messages, Duration::from_millis(300)).await?;
        let totals = compression_totals();
        let cpu_before = server.cpu_time()?;
        let echoed = echo_all(&mut clients, &messages, bench.duration).await?;
        let cpu = server.cpu_time()?.saturating_sub(cpu_before);
        let after = compression_totals();
        let payload_bytes: u64 = echoed.1;
        ensure!(
            mode != Mode::Off || after == totals,
            "compressed messages without compression"
        );
        let n = echoed.0.max(1) as f64;
        // Messages that went plain (too small, or not smaller compressed)
        // take their payload; compressed ones what the totals counted.
        let wire = |compressed_payload: u64, compressed_wire: u64| {
            (payload_bytes.saturating_sub(compressed_payload) + compressed_wire) as f64 / n
        };
        let wire_up = wire(
            after.sent_payload_bytes - totals.sent_payload_bytes,
            after.sent_wire_bytes - totals.sent_wire_bytes,
        );
        let wire_down = wire(
            after.received_payload_bytes - totals.received_payload_bytes,
            after.received_wire_bytes - totals.received_wire_bytes,
        );
        Ok(Cell {
            messages: echoed.0,
            server_us_per_message: cpu.as_secs_f64() * 1e6 / n,
            payload_per_message: payload_bytes as f64 / n,
            wire_up,
            wire_down,
        })
    })
}

fn spawn(exe: &Path, mode: Mode, cpu: Option<usize>) -> anyhow::Result<ServerProcess> {
    ServerProcess::spawn_with_env(
        exe,
        ServerKind::WspeerAsync,
        cpu,
        &[],
        &[("WSPEER_BENCH_DEFLATE", mode.name())],
    )
}

/// Every client echoes messages in turn until `duration` has passed; returns
/// the messages echoed and their payload bytes. Fails on a wrong echo.
async fn echo_all(
    clients: &mut [WebSocket],
    messages: &[Message],
    duration: Duration,
) -> anyhow::Result<(u64, u64)> {
    let deadline = Instant::now() + duration;
    let runs = clients.iter_mut().enumerate().map(|(i, ws)| async move {
        let mut count = 0u64;
        let mut bytes = 0u64;
        let mut next = i * 37;
        while Instant::now() < deadline {
            let message = &messages[next % messages.len()];
            next += 1;
            ws.send(message.clone()).await?;
            match ws.recv().await {
                Some(echo) if echo == *message => {}
                other => bail!("wrong echo: {:?}", other.map(|m| m.len())),
            }
            count += 1;
            bytes += message.len() as u64;
        }
        Ok((count, bytes))
    });
    let results = futures_util::future::join_all(runs).await;
    let mut total = (0, 0);
    for result in results {
        let (count, bytes) = result?;
        total.0 += count;
        total.1 += bytes;
    }
    Ok(total)
}

/// Server RSS per connection after each sent one chat message and got it
/// back, then stayed idle.
fn idle_memory(exe: &Path, mode: Mode, count: usize, cpu: Option<usize>) -> anyhow::Result<f64> {
    let server = spawn(exe, mode, cpu)?;
    std::thread::sleep(Duration::from_secs(1));
    let before = server.rss_kib()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let line = Message::text(corpus::chat_text(1).remove(0));
    let held = runtime.block_on(open_idle(server.addr, mode, count, &line))?;
    std::thread::sleep(Duration::from_secs(1));
    let after = server.rss_kib()?;
    drop(held);
    Ok(after.saturating_sub(before) as f64 / count as f64)
}

async fn open_idle(
    addr: SocketAddr,
    mode: Mode,
    count: usize,
    line: &Message,
) -> anyhow::Result<Vec<WebSocket>> {
    let url = format!("ws://{addr}/");
    let opened: Vec<anyhow::Result<WebSocket>> = stream::iter(0..count)
        .map(|_| async {
            let mut ws = wspeer_core::connect_with(&url, mode.client_config()).await?;
            ws.send(line.clone()).await?;
            ensure!(ws.recv().await.as_ref() == Some(line), "no echo");
            Ok(ws)
        })
        .buffer_unordered(32)
        .collect()
        .await;
    opened.into_iter().collect()
}

fn median_and_range(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn render(
    bench: &DeflateBench,
    payloads: &[Payload],
    cells: &[Vec<Vec<Cell>>],
    memory: &[f64],
) -> String {
    let mut out = format!(
        "{} echo connections, one message in flight each, {} s per cell, {} alternating rounds; \
         median (range) over the rounds. Wire bytes are payload bytes per message as framed \
         (headers left out), client to server / server to client.\n\n\
         | messages | mode | server µs per message | vs off | wire bytes per message (up / down) | payload bytes | ratio |\n\
         |---|---|---|---|---|---|---|\n",
        bench.connections,
        bench.duration.as_secs_f64(),
        bench.rounds
    );
    for (p, payload) in payloads.iter().enumerate() {
        let (off, _, _) = median_and_range(cells[p][0].iter().map(|c| c.server_us_per_message));
        for (m, mode) in Mode::ALL.iter().enumerate() {
            let runs = &cells[p][m];
            let (cpu, low, high) = median_and_range(runs.iter().map(|c| c.server_us_per_message));
            let (up, _, _) = median_and_range(runs.iter().map(|c| c.wire_up));
            let (down, _, _) = median_and_range(runs.iter().map(|c| c.wire_down));
            let (size, _, _) = median_and_range(runs.iter().map(|c| c.payload_per_message));
            out.push_str(&format!(
                "| {} | {} | {cpu:.1} ({low:.1}–{high:.1}) | {:.2}× | {up:.0} / {down:.0} | {size:.0} | {:.2} |\n",
                payload.label(),
                mode.name(),
                cpu / off,
                size / down.max(1.0),
            ));
        }
    }
    out.push_str(&format!(
        "\nServer RSS per idle connection ({} connections, each after one chat message each way):\n\n\
         | mode | KiB per connection |\n|---|---|\n",
        bench.idle
    ));
    for (mode, kib) in Mode::ALL.iter().zip(memory) {
        out.push_str(&format!("| {} | {kib:.2} |\n", mode.name()));
    }
    out
}
