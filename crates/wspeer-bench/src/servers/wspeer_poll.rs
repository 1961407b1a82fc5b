//! wspeer's poll facade as an echo server, written as a Godot game-loop server
//! is: a `TcpServer` and a list of `WebSocketPeer`s, all polled in one loop on the
//! main thread, with `get_packet` and `put_packet`. The I/O runs on the facade's
//! background runtime thread; both threads share the one CPU the server is
//! pinned to.
//!
//! A game runs such a loop at its frame rate; a server that wants throughput runs
//! it as fast as it can, checks for new connections once a millisecond (as a game
//! does once a frame), and sleeps briefly whenever a pass over every peer found
//! nothing to do, so the background thread can do the I/O.

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
    /// `std::thread::yield_now()`: offer the CPU to the background I/O thread.
    Yield,
    /// Sleep this long (the OS rounds it up to its timer slack, ~50 µs).
    Sleep(Duration),
}

/// The default: sleep 50 µs. With both threads on one CPU, `yield_now` left the
/// loop spinning in `sched_yield` and starved the I/O thread: 15.7 k msg/s for
/// 10 × 1 KiB (63 µs of CPU per message) against 29–33 k msg/s (19–20 µs) with
/// a sleep of 1 or 50 µs, in one run (`WSPEER_BENCH_IDLE` to compare).
pub const DEFAULT_IDLE: Idle = Idle::Sleep(Duration::from_micros(50));

impl Idle {
    /// From `WSPEER_BENCH_IDLE` (`yield`, or `sleep:<µs>`); default [`DEFAULT_IDLE`].
    pub fn from_env() -> Self {
        let value = std::env::var("WSPEER_BENCH_IDLE").unwrap_or_default();
        if value == "yield" {
            return Idle::Yield;
        }
        match value.strip_prefix("sleep:").map(str::parse::<u64>) {
            Some(Ok(us)) => Idle::Sleep(Duration::from_micros(us)),
            _ => DEFAULT_IDLE,
        }
    }
}

/// Runs the echo loop on `addr`.
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    let addr: SocketAddr = addr.parse().context("facade server needs an IP:port")?;
    let idle = Idle::from_env();
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
            match idle {
                Idle::Yield => std::thread::yield_now(),
                Idle::Sleep(time) => std::thread::sleep(time),
            }
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
