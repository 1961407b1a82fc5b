//! wspeer's poll facade as an echo server, written as a Godot game-loop server
//! is: a `TcpServer` and a list of `WebSocketPeer`s, all polled in one loop on the
//! main thread, with `get_packet` and `put_packet`. Two ways to run it:
//!
//! - `run`: the I/O runs on the facade's background runtime thread; both threads
//!   share the one CPU the server is pinned to;
//! - `run_this_thread`: `runtime::use_this_thread`, so the I/O runs inside
//!   `poll()` on the loop's thread, as in Godot.
//!
//! A game runs such a loop at its frame rate; a server that wants throughput runs
//! it as fast as it can, checks for new connections once a millisecond (as a game
//! does once a frame), and when a pass over every peer found nothing to do,
//! waits: for the next message (`runtime::wait_for_activity`) on this thread, or
//! 50 µs with a background thread (see [`DEFAULT_IDLE_BACKGROUND`]).

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;
use wspeer::{ReadyState, TcpServer, WebSocketPeer};

use super::OnBound;

/// How often the loop asks the `TcpServer` for new connections. Each
/// `take_connection()` with nothing waiting is a non-blocking `accept4()`, and
/// Linux allocates (and frees) a socket inode before it finds the queue empty:
/// asked on every pass, it took more CPU than the echoing itself.
const ACCEPT_INTERVAL: Duration = Duration::from_millis(1);

/// What the loop does after a pass that found nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// `runtime::wait_for_activity` until the next accept check: returns as
    /// soon as a message arrives.
    Wait,
    /// `std::thread::yield_now()`: offer the CPU to the background I/O thread.
    Yield,
    /// Sleep this long (the OS rounds it up to its timer slack, ~50 µs).
    Sleep(Duration),
}

/// The default with the I/O on this thread: wait for activity. A fixed sleep
/// would put its length into every round trip.
pub const DEFAULT_IDLE_THIS_THREAD: Idle = Idle::Wait;

/// The default with the I/O on the background thread: sleep 50 µs. Both
/// threads share one CPU, so waiting for activity wakes the loop (a context
/// switch) for every message, where a short sleep lets several arrive: 28.6 k
/// against 28–38 k msg/s for 10 × 1 KiB in single runs. `yield_now` spun in
/// `sched_yield` and starved the I/O thread: 15.7 k msg/s against 29–33 k with
/// a sleep of 1 or 50 µs in an earlier run (`WSPEER_BENCH_IDLE` to compare).
pub const DEFAULT_IDLE_BACKGROUND: Idle = Idle::Sleep(Duration::from_micros(50));

impl Idle {
    /// From `WSPEER_BENCH_IDLE` (`wait`, `yield`, or `sleep:<µs>`), or `default`.
    pub fn from_env(default: Idle) -> Self {
        let value = std::env::var("WSPEER_BENCH_IDLE").unwrap_or_default();
        match value.as_str() {
            "yield" => return Idle::Yield,
            "wait" => return Idle::Wait,
            _ => {}
        }
        match value.strip_prefix("sleep:").map(str::parse::<u64>) {
            Some(Ok(us)) => Idle::Sleep(Duration::from_micros(us)),
            _ => default,
        }
    }

    fn idle(self) {
        match self {
            Idle::Wait => {
                wspeer::runtime::wait_for_activity(ACCEPT_INTERVAL);
            }
            Idle::Yield => std::thread::yield_now(),
            Idle::Sleep(time) => std::thread::sleep(time),
        }
    }
}

/// Runs the echo loop on `addr`, the I/O on the background thread.
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    serve(addr, on_bound, Idle::from_env(DEFAULT_IDLE_BACKGROUND))
}

/// Runs the echo loop on `addr`, the I/O on this thread inside `poll()`.
pub fn run_this_thread(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    wspeer::runtime::use_this_thread()?;
    serve(addr, on_bound, Idle::from_env(DEFAULT_IDLE_THIS_THREAD))
}

fn serve(addr: &str, on_bound: OnBound<'_>, idle: Idle) -> anyhow::Result<()> {
    let addr: SocketAddr = addr.parse().context("facade server needs an IP:port")?;
    let mut server = TcpServer::new();
    server.listen(addr.port(), &addr.ip().to_string())?;
    on_bound(server.local_port());
    let mut peers: Vec<WebSocketPeer> = Vec::new();
    let mut next_accept = Instant::now();
    loop {
        let mut busy = false;
        if Instant::now() >= next_accept {
            busy |= accept(&mut server, &mut peers);
            next_accept = Instant::now() + ACCEPT_INTERVAL;
        }
        busy |= echo_pass(&mut peers);
        if !busy {
            idle.idle();
        }
    }
}

/// Takes every waiting connection; returns whether there was one.
pub fn accept(server: &mut TcpServer, peers: &mut Vec<WebSocketPeer>) -> bool {
    let mut any = false;
    while let Some(stream) = server.take_connection() {
        let mut peer = WebSocketPeer::new();
        if peer.accept_stream(stream).is_ok() {
            peers.push(peer);
        }
        any = true;
    }
    any
}

/// One pass of the game loop: poll every peer, echo what arrived, drop closed
/// peers. Returns whether it did anything.
pub fn echo_pass(peers: &mut Vec<WebSocketPeer>) -> bool {
    let mut busy = false;
    let mut closed = false;
    for peer in peers.iter_mut() {
        peer.poll();
        while let Ok(packet) = peer.get_packet() {
            busy = true;
            if peer.put_packet(&packet).is_err() {
                // A full outbound queue: the client sees the loss and fails the run.
                peer.close_normal();
                break;
            }
        }
        closed |= peer.ready_state() == ReadyState::Closed;
    }
    if closed {
        peers.retain(|p| p.ready_state() != ReadyState::Closed);
    }
    busy
}
