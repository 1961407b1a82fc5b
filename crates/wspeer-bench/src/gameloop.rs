//! The 60 Hz game-loop run: N clients send one message a frame to an async-core
//! echo server, at a random moment of the frame (as game logic does, between
//! the frame's start and its end), and measure how long until the echo is seen.
//!
//! With the poll facade the echo is seen by the first `poll()` after it arrived,
//! which happens at the start of a frame; with the async core it is seen the
//! moment `recv()` returns. The difference is the latency the facade adds:
//! about half a frame, since the sends are spread evenly over the frame.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use hdrhistogram::Histogram;
use wspeer::{ReadyState, WebSocketPeer};

use crate::load::new_histogram;

mod async_clients;

/// Payload: sequence number, send time (ns since the run's start), client id.
const PAYLOAD: usize = 24;

/// What to run.
#[derive(Debug, Clone)]
pub struct GameLoopConfig {
    /// Clients in the loop.
    pub clients: usize,
    /// Frame length (16.667 ms for 60 Hz).
    pub frame: Duration,
    /// Time run before measuring.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
}

/// Latencies seen by one kind of client.
#[derive(Debug, Clone)]
pub struct GameLoopReport {
    /// Echoes measured.
    pub messages: u64,
    /// Time from send to the moment the echo was visible, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Lost, reordered or corrupted echoes, and failed connections.
    pub errors: u64,
    /// The first error.
    pub first_error: Option<String>,
}

impl GameLoopReport {
    fn new() -> Self {
        Self {
            messages: 0,
            latency: new_histogram(),
            errors: 0,
            first_error: None,
        }
    }

    /// Latency at quantile `q`, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1e6
    }

    /// Mean latency, in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.latency.mean() / 1e6
    }

    fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

/// A small deterministic random source (xorshift64*), enough for send offsets.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A duration uniform in `[0, max)`.
    pub(crate) fn below(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        max.mul_f64(r as f64 / (1u64 << 53) as f64)
    }
}

pub(crate) fn payload(seq: u64, sent_ns: u64, client: u64) -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    p[..8].copy_from_slice(&seq.to_le_bytes());
    p[8..16].copy_from_slice(&sent_ns.to_le_bytes());
    p[16..].copy_from_slice(&client.to_le_bytes());
    p
}

/// Checks an echo; returns its send time (ns since the start).
pub(crate) fn check(packet: &[u8], seq: u64, client: u64) -> anyhow::Result<u64> {
    ensure!(packet.len() == PAYLOAD, "echo of {} bytes", packet.len());
    let word = |i: usize| -> anyhow::Result<u64> {
        Ok(u64::from_le_bytes(
            packet[i..i + 8].try_into().context("word")?,
        ))
    };
    ensure!(word(16)? == client, "echo for another client");
    ensure!(word(0)? == seq, "expected echo #{seq}, got #{}", word(0)?);
    word(8)
}

/// Runs the game loop with facade clients, then with async-core clients, both
/// against the echo server at `url`. Returns (facade, async core).
pub fn run(url: &str, config: &GameLoopConfig) -> anyhow::Result<(GameLoopReport, GameLoopReport)> {
    let facade = run_facade(url, config)?;
    let core = async_clients::run(url, config)?;
    Ok((facade, core))
}

/// N `WebSocketPeer`s polled once a frame from this thread.
pub fn run_facade(url: &str, config: &GameLoopConfig) -> anyhow::Result<GameLoopReport> {
    let mut peers: Vec<WebSocketPeer> = Vec::with_capacity(config.clients);
    for _ in 0..config.clients {
        let mut peer = WebSocketPeer::new();
        peer.connect_to_url(url)?;
        peers.push(peer);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        peers.iter_mut().for_each(WebSocketPeer::poll);
        if peers.iter().all(|p| p.ready_state() == ReadyState::Open) {
            break;
        }
        if Instant::now() > deadline || peers.iter().any(|p| p.ready_state() == ReadyState::Closed)
        {
            bail!("facade clients did not all open");
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    let mut report = GameLoopReport::new();
    let start = Instant::now();
    let warm_end = start + config.warmup;
    let end = warm_end + config.duration;
    let mut next_seq = vec![0u64; peers.len()];
    let mut expect = vec![0u64; peers.len()];
    let mut rng = Rng::new(42);
    let mut order: Vec<(Duration, usize)> = Vec::with_capacity(peers.len());
    let mut frame_start = start;
    // Sending stops at `end`; polling goes on (up to a second) for the last echoes.
    while frame_start < end + Duration::from_secs(1) {
        sleep_until(frame_start);
        for (i, peer) in peers.iter_mut().enumerate() {
            peer.poll();
            let now = Instant::now();
            while let Ok(packet) = peer.get_packet() {
                match check(&packet, expect[i], i as u64) {
                    Ok(sent_ns) => {
                        expect[i] += 1;
                        let sent = start + Duration::from_nanos(sent_ns);
                        if sent >= warm_end && sent < end {
                            report.messages += 1;
                            let ns = u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX);
                            report.latency.saturating_record(ns.max(1));
                        }
                    }
                    Err(error) => report.fail(format!("facade client {i}: {error:#}")),
                }
            }
        }
        if frame_start >= end && next_seq == expect {
            break;
        }
        if frame_start < end {
            order.clear();
            order.extend((0..peers.len()).map(|i| (rng.below(config.frame), i)));
            order.sort_unstable();
            for &(offset, i) in &order {
                sleep_until(frame_start + offset);
                let sent_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let packet = payload(next_seq[i], sent_ns, i as u64);
                match peers[i].put_packet(&packet) {
                    Ok(()) => next_seq[i] += 1,
                    Err(error) => report.fail(format!("facade client {i}: send: {error}")),
                }
            }
        }
        frame_start += config.frame;
    }
    let lost: u64 = next_seq.iter().zip(&expect).map(|(n, e)| n - e).sum();
    if lost > 0 {
        report.fail(format!(
            "{lost} echoes never came back to the facade clients"
        ));
    }
    for peer in &mut peers {
        peer.close_normal();
    }
    Ok(report)
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}
