//! The load generator's I/O: one thread, one epoll set (mio), no async
//! runtime. A connection is read when the kernel says it is readable and
//! written as soon as it has something to send, so the generator spends its
//! time in the system calls it must make and in checking echoes, not in task
//! scheduling or timers.

use std::{
    io::{self, Read, Write},
    time::{Duration, Instant},
};

use anyhow::bail;
use mio::{Events, Interest, Poll, Token, net::TcpStream};

use super::closed_loop::{ClosedLoop, Tally, Window};

/// How long a connection may wait for an echo before the run fails.
const STALL: Duration = Duration::from_secs(5);
/// How often stalls are looked for, at most.
const STALL_CHECK: Duration = Duration::from_millis(100);

/// A connection that is still running.
struct Running {
    stream: TcpStream,
    state: ClosedLoop,
}

/// What the loop found.
pub(crate) struct Outcome {
    /// Connections that failed.
    pub(crate) errors: u64,
    /// The first error seen.
    pub(crate) first_error: Option<String>,
}

/// Runs every connection until the window has ended and every message in
/// flight came back (or its connection failed). `on_window` is called once at
/// the window's start and once at its end, for the CPU samples.
pub(crate) fn run(
    connections: Vec<(TcpStream, ClosedLoop)>,
    window: Window,
    tally: &mut Tally,
    mut on_window: impl FnMut(),
) -> anyhow::Result<Outcome> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut slots: Vec<Option<Running>> = Vec::with_capacity(connections.len());
    for (i, (mut stream, state)) in connections.into_iter().enumerate() {
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        slots.push(Some(Running { stream, state }));
    }
    let mut outcome = Outcome {
        errors: 0,
        first_error: None,
    };
    for (id, slot) in slots.iter_mut().enumerate() {
        if let Some(conn) = slot
            && let Err(error) = flush(conn)
        {
            outcome.fail(id, slot, error);
        }
    }
    let mut boundaries = [window.from, window.to].into_iter().peekable();
    let mut last_stall_check = Instant::now();
    loop {
        let now = Instant::now();
        while boundaries.next_if(|at| *at <= now).is_some() {
            on_window();
        }
        if boundaries.peek().is_none() && slots.iter().flatten().all(|c| c.state.is_done()) {
            return Ok(outcome);
        }
        if now.duration_since(last_stall_check) >= STALL_CHECK {
            last_stall_check = now;
            for (id, slot) in slots.iter_mut().enumerate() {
                if let Some(conn) = slot
                    && let Some(error) = stalled(conn, now)
                {
                    outcome.fail(id, slot, error);
                }
            }
        }
        let next_boundary = boundaries
            .peek()
            .map(|at| at.saturating_duration_since(now));
        let wait = next_boundary.map_or(STALL_CHECK, |b| b.min(STALL_CHECK));
        poll.poll(&mut events, Some(wait))?;
        let now = Instant::now();
        for event in &events {
            let id = event.token().0;
            let slot = &mut slots[id];
            let Some(conn) = slot else { continue };
            let result = if event.is_readable() || event.is_read_closed() {
                read_all(conn, now, window, tally).and_then(|()| flush(conn))
            } else {
                flush(conn)
            };
            if let Err(error) = result {
                outcome.fail(id, slot, error);
            }
        }
    }
}

/// Reads until the socket has nothing more, checking echoes as they come. A
/// read shorter than the space offered drained the socket: mio's readiness is
/// edge-triggered, and bytes that arrive later raise a new event, so that read
/// need not be followed by one that fails with `WouldBlock`.
fn read_all(
    conn: &mut Running,
    now: Instant,
    window: Window,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    loop {
        let space = conn.state.read_space();
        let offered = space.len();
        match conn.stream.read(space) {
            Ok(0) => bail!("the server closed the connection"),
            Ok(n) => {
                conn.state.on_read(n, now, window, tally)?;
                if n < offered {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes what the connection has to send, as far as the socket takes it; the
/// rest goes when the socket is writable again.
fn flush(conn: &mut Running) -> anyhow::Result<()> {
    while !conn.state.unwritten().is_empty() {
        match conn.stream.write(conn.state.unwritten()) {
            Ok(0) => bail!("the socket took no bytes"),
            Ok(n) => conn.state.on_written(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

impl Outcome {
    /// Ends connection `id` with `error`.
    fn fail(&mut self, id: usize, slot: &mut Option<Running>, error: anyhow::Error) {
        *slot = None;
        self.errors += 1;
        self.first_error
            .get_or_insert_with(|| format!("connection {id}: {error:#}"));
    }
}

fn stalled(conn: &Running, now: Instant) -> Option<anyhow::Error> {
    let oldest = conn.state.oldest_in_flight()?;
    (now.duration_since(oldest) > STALL).then(|| {
        let (count, expect) = conn.state.in_flight();
        anyhow::anyhow!("no echo for {STALL:?} with {count} in flight (#{expect} is lost)")
    })
}
