//! The same game-loop clients on the async core: each client sends once a frame
//! at a random moment of the frame, and sees its echo the moment `recv()`
//! returns. This is the round trip without any frame in the way.

use std::time::Duration;

use tokio::{task::JoinSet, time::Instant};
use wspeer_core::Message;

use super::{GameLoopConfig, GameLoopReport, Rng, check, payload};

/// Runs `config.clients` async-core clients on a current-thread runtime.
pub(super) fn run(url: &str, config: &GameLoopConfig) -> anyhow::Result<GameLoopReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut sockets = Vec::with_capacity(config.clients);
        for _ in 0..config.clients {
            sockets.push(wspeer_core::connect(url).await?);
        }
        let start = Instant::now();
        let warm_end = start + config.warmup;
        let end = warm_end + config.duration;
        let mut tasks = JoinSet::new();
        for (i, ws) in sockets.into_iter().enumerate() {
            let frame = config.frame;
            tasks.spawn(client(ws, i as u64, frame, start, warm_end, end));
        }
        let mut report = GameLoopReport::new();
        while let Some(joined) = tasks.join_next().await {
            let one = joined?;
            report.messages += one.messages;
            report
                .latency
                .add(&one.latency)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if let Some(error) = one.first_error {
                report.fail(error);
            }
        }
        Ok(report)
    })
}

/// One client: a task that sends once a frame, and this task receiving.
async fn client(
    ws: wspeer_core::WebSocket,
    id: u64,
    frame: Duration,
    start: Instant,
    warm_end: Instant,
    end: Instant,
) -> GameLoopReport {
    let (tx, mut rx) = ws.split();
    let sender = tokio::spawn(async move {
        let mut rng = Rng::new(id + 1000);
        let mut seq = 0u64;
        let mut frame_start = start;
        while frame_start < end {
            tokio::time::sleep_until(frame_start + rng.below(frame)).await;
            let sent_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let message = Message::binary(payload(seq, sent_ns, id).to_vec());
            if tx.try_send(message).is_err() {
                return (seq, Some(format!("async client {id}: send failed")));
            }
            seq += 1;
            frame_start += frame;
        }
        (seq, None)
    });
    let mut report = GameLoopReport::new();
    let mut expect = 0u64;
    let mut sent_total: Option<u64> = None;
    let mut sender = Some(sender);
    let give_up = end + Duration::from_secs(2);
    while sent_total.is_none_or(|total| expect < total) {
        if Instant::now() > give_up {
            report.fail(format!("async client {id}: echoes lost"));
            break;
        }
        match tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            Ok(Some(message)) => match check(message.payload(), expect, id) {
                Ok(sent_ns) => {
                    let now = Instant::now();
                    expect += 1;
                    let sent = start + Duration::from_nanos(sent_ns);
                    if sent >= warm_end && sent < end {
                        report.messages += 1;
                        let ns = u64::try_from((now - sent).as_nanos()).unwrap_or(u64::MAX);
                        report.latency.saturating_record(ns.max(1));
                    }
                }
                Err(error) => {
                    report.fail(format!("async client {id}: {error:#}"));
                    break;
                }
            },
            Ok(None) => {
                report.fail(format!("async client {id}: connection closed"));
                break;
            }
            Err(_) => {}
        }
        if let Some(handle) = sender.take_if(|h| h.is_finished()) {
            match handle.await {
                Ok((total, error)) => {
                    sent_total = Some(total);
                    if let Some(error) = error {
                        report.fail(error);
                    }
                }
                Err(_) => report.fail(format!("async client {id}: sender panicked")),
            }
        }
    }
    report
}
