//! The held connections' reading side: a task per connection that reads every
//! frame the server sends, always, into a small buffer (a chat room of 100
//! members broadcasts every join and every line to all of them; a connection
//! left unread would fill its queue on the server and be closed as too slow).
//! Lines of the workload are timed and counted per line for the loss check;
//! a connection the server closes while held is an error.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use hdrhistogram::Histogram;
use tokio::{io::AsyncReadExt, net::tcp::OwnedReadHalf};

use super::line::{Said, server_payload};
use crate::{frame, load};

/// What every reader shares: one clock and one tally (the load side is one
/// thread, so the lock is never contended).
#[derive(Debug)]
pub(crate) struct Shared {
    /// The run's start: send instants are nanoseconds since it.
    pub(crate) start: Instant,
    tally: Mutex<Tally>,
}

/// What the readers counted.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Workload lines received.
    pub(crate) deliveries: u64,
    /// Their delivery times (send to read), in nanoseconds.
    pub(crate) latency: Histogram<u64>,
    /// Deliveries of each line, by its number.
    pub(crate) received: Vec<u32>,
    /// Deliveries expected of each line: its room's other members.
    pub(crate) expected: Vec<u32>,
    /// Lines delivered to a member of another room, or never sent.
    pub(crate) misdelivered: u64,
    /// Held connections the server closed (or that failed).
    pub(crate) closed: u64,
    /// The first thing that went wrong.
    pub(crate) first_error: Option<String>,
}

impl Shared {
    /// A fresh tally, with the clock starting now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            tally: Mutex::new(Tally {
                deliveries: 0,
                latency: load::new_histogram(),
                received: Vec::new(),
                expected: Vec::new(),
                misdelivered: 0,
                closed: 0,
                first_error: None,
            }),
        })
    }

    /// Nanoseconds since the run's start.
    pub(crate) fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The tally, to read or to register a line about to be sent.
    pub(crate) fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, error: String) {
        let mut tally = self.tally();
        tally.closed += 1;
        tally.first_error.get_or_insert(error);
    }

    fn on_text(&self, text: &str, room: u32) {
        let Some(said) = Said::parse(text) else {
            return;
        };
        let latency = self.now_ns().saturating_sub(said.sent_ns);
        let mut tally = self.tally();
        tally.deliveries += 1;
        let _ = tally.latency.record(latency.max(1));
        match tally.received.get_mut(said.seq as usize) {
            Some(count) if said.room == room => *count += 1,
            _ => tally.misdelivered += 1,
        }
    }
}

/// Reads connection `index` (a member of `room`) until it ends; `pending`
/// holds the bytes read past its handshake.
pub(crate) async fn read_forever(
    mut read: OwnedReadHalf,
    mut pending: Vec<u8>,
    index: usize,
    room: u32,
    shared: Arc<Shared>,
) {
    let mut chunk = [0u8; 256];
    loop {
        let mut at = 0;
        while let Some((opcode, len)) = frame::server_frame(&pending[at..]) {
            let frame = &pending[at..at + len];
            at += len;
            match opcode {
                // A text frame that is one whole message: the chat sends no other.
                0x1 => match std::str::from_utf8(server_payload(frame)) {
                    Ok(text) => shared.on_text(text, room),
                    Err(_) => shared.error(format!("connection {index}: a text frame not UTF-8")),
                },
                0x8 => {
                    let payload = server_payload(frame);
                    let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default());
                    shared.error(format!(
                        "connection {index}: the server closed it ({code:?} {reason})"
                    ));
                    return;
                }
                _ => {}
            }
        }
        pending.drain(..at);
        if pending.is_empty() && pending.capacity() > 4096 {
            // A burst's buffer is not kept by an idle connection.
            pending = Vec::new();
        }
        match read.read(&mut chunk).await {
            Ok(0) => {
                shared.error(format!("connection {index}: the server closed the socket"));
                return;
            }
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(error) => {
                shared.error(format!("connection {index}: {error}"));
                return;
            }
        }
    }
}
