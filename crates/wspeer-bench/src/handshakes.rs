//! Handshakes per second: loops that each connect, do the opening handshake,
//! send a close frame, wait for the server's close frame and for the end of the
//! TCP stream, then start again, for a fixed time.

use std::{net::SocketAddr, time::Duration};

use anyhow::{bail, ensure};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    task::JoinSet,
    time::{Instant, timeout},
};

use crate::{frame, load};

/// Most time one connect–handshake–close cycle may take before the run fails.
const CYCLE_LIMIT: Duration = Duration::from_secs(5);

/// What a handshake run measured.
#[derive(Debug, Clone)]
pub struct HandshakeReport {
    /// Complete cycles in the measured window.
    pub completed: u64,
    /// Length of the window.
    pub window: Duration,
    /// Cycles that failed.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
}

impl HandshakeReport {
    /// Complete cycles per second.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64()
    }

    /// Whether the run counts: no error and at least one cycle.
    pub fn ok(&self) -> bool {
        self.errors == 0 && self.completed > 0
    }
}

/// Runs `concurrency` loops against `addr` for `warmup` + `duration`.
pub fn run(
    addr: SocketAddr,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<HandshakeReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let warm_end = Instant::now() + warmup;
        let end = warm_end + duration;
        let mut tasks = JoinSet::new();
        for id in 0..concurrency {
            tasks.spawn(worker(addr, id as u64, warm_end, end));
        }
        let mut report = HandshakeReport {
            completed: 0,
            window: duration,
            errors: 0,
            first_error: None,
        };
        while let Some(joined) = tasks.join_next().await {
            let (completed, error) = joined?;
            report.completed += completed;
            if let Some(error) = error {
                report.errors += 1;
                report.first_error.get_or_insert(error);
            }
        }
        Ok(report)
    })
}

async fn worker(
    addr: SocketAddr,
    id: u64,
    warm_end: Instant,
    end: Instant,
) -> (u64, Option<String>) {
    let codec = frame::Codec::new(id, frame::HEADER, false);
    let mut completed = 0;
    while Instant::now() < end {
        match timeout(CYCLE_LIMIT, cycle(addr, &codec)).await {
            Ok(Ok(())) => {
                let now = Instant::now();
                if now >= warm_end && now < end {
                    completed += 1;
                }
            }
            Ok(Err(error)) => return (completed, Some(format!("{error:#}"))),
            Err(_) => {
                return (
                    completed,
                    Some(format!("a cycle took over {CYCLE_LIMIT:?}")),
                );
            }
        }
    }
    (completed, None)
}

/// One connect, handshake, close.
async fn cycle(addr: SocketAddr, codec: &frame::Codec) -> anyhow::Result<()> {
    let (mut stream, mut buf) = load::open(addr, true).await?;
    let mut close = Vec::with_capacity(8);
    codec.encode_close(&mut close);
    stream.write_all(&close).await?;
    // The server's close frame, then the end of the stream.
    let mut chunk = [0u8; 256];
    let mut got_close = false;
    loop {
        while let Some((opcode, len)) = frame::server_frame(&buf) {
            ensure!(
                opcode == 0x8,
                "expected a close frame, got opcode {opcode:#x}"
            );
            got_close = true;
            buf.drain(..len);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if !got_close || !buf.is_empty() {
        bail!("the server ended the stream without a complete close frame");
    }
    Ok(())
}
