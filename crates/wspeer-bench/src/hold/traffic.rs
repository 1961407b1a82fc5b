//! The chat's traffic at scale: lines said at a low steady rate by held
//! clients drawn at random (so over random rooms), each timed at every other
//! member of its room, then a drain and the loss check: every line must reach
//! each of its room's other members exactly once.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::{io::AsyncWriteExt, net::tcp::OwnedWriteHalf};

use super::{
    held::Shared,
    line::{Said, encode_text},
};
use crate::chat_soak::rng::Rng;

/// Longest the drain waits for the last deliveries.
const DRAIN: Duration = Duration::from_secs(10);

/// A held connection's writing side, and its room.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) write: OwnedWriteHalf,
    pub(crate) room: u32,
}

/// What the traffic measured.
#[derive(Debug, Clone)]
pub struct TrafficReport {
    /// Lines said.
    pub lines: u64,
    /// Time spent saying them.
    pub window: Duration,
    /// Deliveries expected: for each line, its room's members but the sender.
    pub expected: u64,
    /// Deliveries read (of lines said in this run).
    pub delivered: u64,
    /// Expected deliveries that never came.
    pub missing: u64,
    /// Deliveries beyond the expected (duplicates, or to another room).
    pub extra: u64,
    /// Send-to-read times of every delivery, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Writes that failed (the sender's connection was gone).
    pub send_errors: u64,
}

/// Says `rate` lines a second for `duration` from random open connections
/// among `writers` (`None`: did not open); `members[room]` counts a room's
/// open connections.
pub(crate) async fn run(
    writers: &mut [Option<Writer>],
    members: &[u32],
    shared: &Shared,
    rate: f64,
    duration: Duration,
    seed: u64,
) -> anyhow::Result<TrafficReport> {
    anyhow::ensure!(rate > 0.0, "--rate must be above 0");
    let open: Vec<usize> = (0..writers.len())
        .filter(|&i| writers[i].is_some())
        .collect();
    anyhow::ensure!(!open.is_empty(), "no connection to talk on");
    let mut rng = Rng::new(seed, 0);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut lines, mut send_errors) = (0u64, 0u64);
    let mut frame = Vec::new();
    let started = Instant::now();
    while started.elapsed() < duration {
        ticks.tick().await;
        let pick = open[((rng.unit() * open.len() as f64) as usize).min(open.len() - 1)];
        let Some(writer) = writers[pick].as_mut() else {
            continue;
        };
        let others = members[writer.room as usize].saturating_sub(1);
        let said = Said {
            seq: lines,
            room: writer.room,
            sent_ns: shared.now_ns(),
        };
        {
            let mut tally = shared.tally();
            tally.expected.push(others);
            tally.received.push(0);
        }
        lines += 1;
        frame.clear();
        encode_text(&said.text(), &mut frame);
        if writer.write.write_all(&frame).await.is_err() {
            send_errors += 1;
            shared.tally().expected[said.seq as usize] = 0;
            writers[pick] = None;
        }
    }
    let window = started.elapsed();
    let deadline = Instant::now() + DRAIN;
    loop {
        let (expected, got) = {
            let tally = shared.tally();
            let expected: u64 = tally.expected.iter().map(|&n| u64::from(n)).sum();
            let got: u64 = tally.received.iter().map(|&n| u64::from(n)).sum();
            (expected, got)
        };
        if got >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Half a second more, so that duplicates have time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tally = shared.tally();
    let (mut missing, mut extra) = (0, tally.misdelivered);
    for (&want, &got) in tally.expected.iter().zip(&tally.received) {
        missing += u64::from(want.saturating_sub(got));
        extra += u64::from(got.saturating_sub(want));
    }
    Ok(TrafficReport {
        lines,
        window,
        expected: tally.expected.iter().map(|&n| u64::from(n)).sum(),
        delivered: tally.deliveries,
        missing,
        extra,
        latency: tally.latency.clone(),
        send_errors,
    })
}

impl TrafficReport {
    /// Lines said per second.
    pub fn lines_per_second(&self) -> f64 {
        self.lines as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Deliveries per second over the sending window.
    pub fn deliveries_per_second(&self) -> f64 {
        self.delivered as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Whether every line reached every member exactly once.
    pub fn ok(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.send_errors == 0 && self.lines > 0
    }
}
