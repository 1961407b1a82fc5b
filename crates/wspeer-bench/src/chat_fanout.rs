//! The chat fan-out workload: N clients in one room of the chat server, each
//! saying something at a steady rate; every message goes to the N − 1 others.
//! Measures deliveries per second and the latency from a message being sent to
//! each delivery, and checks that every delivery arrives once and in order.
//!
//! Each server runs in this process on a current-thread runtime of its own (one
//! thread, like the other servers on their core); the clients share another.
//! With more than one server they form a cluster on a `redis-server` started for
//! the run, and the clients are spread over them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use wspeer_chat::ChatConfig;
use wspeer_core::{Config, Message};

use crate::{load::new_histogram, redis_server::RedisServer};

/// What a fan-out run measured.
#[derive(Debug)]
pub struct FanoutReport {
    /// Clients in the room.
    pub clients: usize,
    /// Chat servers they are spread over.
    pub servers: usize,
    /// Whether the servers shared a Redis.
    pub redis: bool,
    /// Chat messages sent per second, all clients together.
    pub sent_per_second: f64,
    /// Deliveries per second (one per message and recipient).
    pub deliveries_per_second: f64,
    /// Delivery latency percentiles, microseconds: p50, p99, p99.9.
    pub latency_us: [f64; 3],
    /// Deliveries repeated, out of order, or not arrived 2 s after the run
    /// (a saturated server's backlog counts here): 0 below saturation.
    pub errors: u64,
}

/// Runs `clients` clients for `duration`, each sending `rate` messages a second,
/// spread over `servers` chat servers (a Redis cluster when more than one, or
/// when `redis` is set).
pub fn run(
    clients: usize,
    rate: f64,
    duration: Duration,
    servers: usize,
    redis: bool,
) -> anyhow::Result<FanoutReport> {
    let redis_server = if redis || servers > 1 {
        Some(RedisServer::start()?)
    } else {
        None
    };
    let mut stops = Vec::new();
    let mut threads = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..servers.max(1) {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut config = ChatConfig::default();
        config.rate_per_second = 1e9;
        config.rate_burst = 1e9;
        config.send_queue = 65_536;
        config.max_message_size = 1024;
        if let Some(redis) = &redis_server {
            config.backend = wspeer_chat::Backend::Redis { url: redis.url() };
        }
        threads.push(std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send(listener.local_addr()?)?;
                wspeer_chat::run(listener, config, async {
                    let _ = stop_rx.await;
                })
                .await?;
                Ok(())
            })
        }));
        addrs.push(addr_rx.recv().context("a chat server did not start")?);
        stops.push(stop_tx);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(clients_run(&addrs, clients, rate, duration));
    for stop in stops {
        let _ = stop.send(());
    }
    for thread in threads {
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("a chat server panicked"))??;
    }
    drop(redis_server);
    report.map(|r| FanoutReport {
        redis: redis_server_used(redis, servers),
        ..r
    })
}

fn redis_server_used(redis: bool, servers: usize) -> bool {
    redis || servers > 1
}

/// Per receiver: the next sequence number expected from each sender.
type Expected = HashMap<usize, u64>;

async fn clients_run(
    addrs: &[std::net::SocketAddr],
    clients: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<FanoutReport> {
    let mut sockets = Vec::new();
    for index in 0..clients {
        let url = format!("ws://{}/", addrs[index % addrs.len()]);
        let config = Config::default()
            .supported_protocols(["demo-chat"])
            .inbound_buffer_size(1024);
        sockets.push(wspeer_core::connect_with(&url, config).await?);
    }
    // Let the "[id] connected" lines settle before measuring.
    let settle = if addrs.len() > 1 { 1500 } else { 300 };
    tokio::time::sleep(Duration::from_millis(settle)).await;
    let start = Instant::now();
    let histogram = Arc::new(Mutex::new(new_histogram()));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    let period = Duration::from_secs_f64(1.0 / rate);
    for (index, ws) in sockets.into_iter().enumerate() {
        let (sender, mut receiver) = ws.split();
        let histogram = histogram.clone();
        let errors = errors.clone();
        // Receiver: check order and record latency until the run is over.
        let receive = tokio::spawn(async move {
            let mut expected = Expected::new();
            let mut received = 0u64;
            let deadline = start + duration + Duration::from_secs(2);
            while let Ok(Some(message)) =
                tokio::time::timeout_at(deadline.into(), receiver.recv()).await
            {
                let Some((from, seq, sent_ns)) = parse(&message) else {
                    continue;
                };
                let next = expected.entry(from).or_insert(0);
                if seq != *next || from == index {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                *next = seq + 1;
                let now_ns = start.elapsed().as_nanos() as u64;
                let latency_us = now_ns.saturating_sub(sent_ns) / 1000;
                if let Ok(mut h) = histogram.lock() {
                    let _ = h.record(latency_us.max(1));
                }
                received += 1;
            }
            (received, expected)
        });
        // Sender: one message every period, staggered across clients.
        let send = tokio::spawn(async move {
            tokio::time::sleep(period.mul_f64(index as f64 / clients as f64)).await;
            let mut ticker = tokio::time::interval(period);
            let mut seq = 0u64;
            while start.elapsed() < duration {
                ticker.tick().await;
                let sent_ns = start.elapsed().as_nanos() as u64;
                let text = format!("{index} {seq} {sent_ns}");
                if sender.send(Message::text(text)).await.is_err() {
                    break;
                }
                seq += 1;
            }
            seq
        });
        tasks.push((receive, send));
    }
    let mut sent_total = 0u64;
    let mut received_total = 0u64;
    let mut sent_by = Vec::new();
    let mut expectations = Vec::new();
    for (receive, send) in tasks {
        let sent = send.await?;
        sent_by.push(sent);
        sent_total += sent;
        let (received, expected) = receive.await?;
        received_total += received;
        expectations.push(expected);
    }
    // Every receiver must have got every other sender's every message.
    for (receiver, expected) in expectations.iter().enumerate() {
        for (sender, &count) in sent_by.iter().enumerate() {
            if sender != receiver && expected.get(&sender).copied().unwrap_or(0) != count {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let seconds = duration.as_secs_f64();
    let histogram = histogram.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let q = |p: f64| histogram.value_at_quantile(p) as f64;
    Ok(FanoutReport {
        clients,
        servers: addrs.len(),
        redis: false,
        sent_per_second: sent_total as f64 / seconds,
        deliveries_per_second: received_total as f64 / seconds,
        latency_us: [q(0.5), q(0.99), q(0.999)],
        errors: errors.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// `[id] Says: <from> <seq> <sent_ns>` → its three numbers.
fn parse(message: &Message) -> Option<(usize, u64, u64)> {
    let body = message.as_text()?.split_once("] Says: ")?.1;
    let mut parts = body.split(' ');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

/// The report as a markdown table row set.
pub fn markdown(reports: &[FanoutReport]) -> String {
    let mut out = String::from(
        "| servers | clients in the room | messages sent/s | deliveries/s | p50 µs | p99 µs | p99.9 µs | late, lost or out of order |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {}{} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n",
            r.servers,
            if r.redis { " (Redis)" } else { "" },
            r.clients,
            r.sent_per_second,
            r.deliveries_per_second,
            r.latency_us[0],
            r.latency_us[1],
            r.latency_us[2],
            r.errors
        ));
    }
    out
}
