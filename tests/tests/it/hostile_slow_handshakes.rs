//! Slow handshakes cannot lock anyone out: thousands of clients that trickle
//! their request a byte at a time, from one address or from fifty, while fresh
//! clients connect and echo throughout. The listener never stops accepting;
//! past its caps it drops the handshakes that have waited longest.
//!
//! Each attack runs past the caps (the handshake timeout is far longer than
//! the test, so only eviction makes room), and every fresh client must finish
//! within the tests' usual bound: a server that stopped accepting would hold
//! it until the attackers timed out.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
    sync::{mpsc, watch},
};
use wspeer_core::{Config, HandshakeLimiter, Listener, Message, connect};
use wspeer_tests::{eventually, probe::raise_fd_limit, within};

/// Trickling connections per attack: past the caps below, and past the
/// 1,024 at which an earlier listener stopped accepting.
const ATTACKERS: usize = 1_100;

fn config() -> Config {
    Config::default()
        .max_pending_handshakes(512)
        .max_pending_handshakes_per_ip(64)
        .handshake_timeout(Duration::from_secs(120))
}

/// A listener whose accepted connections echo, and its handshake count.
async fn echo_server() -> (SocketAddr, HandshakeLimiter) {
    let mut listener = Listener::bind("127.0.0.1:0", config()).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let limiter = listener.handshakes().clone();
    tokio::spawn(async move {
        loop {
            let mut ws = listener.accept().await;
            tokio::spawn(async move {
                while let Some(message) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, limiter)
}

/// Opens a connection from `source` and sends the request one byte every
/// 200 ms until the server drops it. Reports on `started` once the first byte
/// is out; panics if the server answers an unfinished request.
async fn trickle(server: SocketAddr, source: IpAddr, started: mpsc::UnboundedSender<()>) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .expect("bind the source address");
    let Ok(mut stream) = socket.connect(server).await else {
        // Refused or reset while connecting: counts as dropped.
        let _ = started.send(());
        return;
    };
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut buf = [0u8; 256];
    for (i, byte) in request.iter().cycle().enumerate() {
        let sent = stream.write_all(&[*byte]).await;
        if i == 0 {
            let _ = started.send(());
        }
        if sent.is_err() {
            return;
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => panic!(
                "the server answered an unfinished handshake: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
        }
    }
}

/// Fresh clients one after another until `stop`: each connects, echoes a
/// message and closes, within the tests' bound. Returns their times.
async fn fresh_clients(url: String, mut stop: watch::Receiver<bool>) -> Vec<Duration> {
    let mut times = Vec::new();
    while !*stop.borrow_and_update() {
        let start = Instant::now();
        let mut client = within("a fresh client to connect during the attack", connect(&url))
            .await
            .expect("a fresh client connects during the attack");
        client
            .send(Message::text("still served"))
            .await
            .expect("send");
        let echo = within("the fresh client's echo", client.recv()).await;
        assert_eq!(echo, Some(Message::text("still served")));
        times.push(start.elapsed());
        let _ = client.close(1000, "done");
        let _ = tokio::time::timeout(Duration::from_millis(20), stop.changed()).await;
    }
    times
}

/// Runs one attack from `sources` while fresh clients connect, and checks
/// that the server went past its caps and dropped the oldest to make room.
async fn attack_from(sources: &[IpAddr]) {
    raise_fd_limit(3 * ATTACKERS as u64 + 512);
    let (addr, limiter) = echo_server().await;
    let (stop_tx, stop) = watch::channel(false);
    let fresh = tokio::spawn(fresh_clients(format!("ws://{addr}/fresh"), stop));

    let (started_tx, mut started) = mpsc::unbounded_channel();
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let source = sources[i % sources.len()];
            tokio::spawn(trickle(addr, source, started_tx.clone()))
        })
        .collect();
    drop(started_tx);
    within("every attacker to start its request", async {
        for _ in 0..ATTACKERS {
            started.recv().await.expect("an attacker failed to start");
        }
    })
    .await;
    // The server has taken every attacker's connection: it went past its
    // caps and kept within them by dropping the oldest.
    eventually("the server to take every attacker's connection", || {
        let seen = limiter.pending() + limiter.evicted() as usize;
        if seen >= ATTACKERS {
            Ok(())
        } else {
            Err(format!("{seen} taken"))
        }
    })
    .await;
    let evicted = limiter.evicted();
    assert!(
        evicted as usize >= ATTACKERS - 512,
        "only {evicted} handshakes were dropped: the caps were not reached"
    );
    assert!(limiter.pending() <= 512, "{} pending", limiter.pending());
    // The attack is at its height: hold it while more fresh clients come
    // (a duration of the attack, not a wait for anything).
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).expect("stop the fresh clients");
    let mut times = within("the fresh clients to finish", fresh)
        .await
        .expect("fresh clients");
    for attacker in attackers {
        attacker.abort();
    }
    times.sort();
    assert!(!times.is_empty());
    eprintln!(
        "{} fresh clients during {ATTACKERS} slow handshakes from {} address(es), \
         {evicted} dropped: median {:?}, slowest {:?}",
        times.len(),
        sources.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshakes_from_one_address_lock_no_one_out() {
    attack_from(&[IpAddr::V4(Ipv4Addr::LOCALHOST)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshakes_from_fifty_addresses_lock_no_one_out() {
    let sources: Vec<IpAddr> = (2..52)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
        .collect();
    attack_from(&sources).await;
}
