//! The chat server gives memory back after a spike: 10,000 clients join and
//! vanish, and its RSS is within 8 MiB of where it started within 10 s.

#![allow(clippy::unwrap_used)] // test code

use std::{net::SocketAddr, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    process::Command,
    time::timeout,
};
use wspeer_testkit::wait::eventually_async_for;
use wspeer_tests::wave::{assert_memory_returns, connect_and_vanish, rss_kib_of};

const WAVE: usize = 10_000;
const PROTOCOL: (&str, &str) = ("Sec-WebSocket-Protocol", "demo-chat");

#[tokio::test]
async fn the_chat_gives_memory_back_after_ten_thousand_clients() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wspeer-chat"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--log", "info"])
        .args(["--max-connections", "20000"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("the chat to say where it listens");
        if let Some(rest) = line.split("chat on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Drained to the end: a full pipe would stall the server's logging.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let addr: SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("no address in {url:?}"));
    let pid = child.id().unwrap();

    connect_and_vanish(addr, "/test/", &[PROTOCOL], 10).await;
    // A settling time, not a wait for an event: no event says when the
    // allocator is done with the warm-up, and settling less only raises the
    // baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = rss_kib_of(pid);
    connect_and_vanish(addr, "/test/", &[PROTOCOL], WAVE).await;
    let peak = rss_kib_of(pid);
    eprintln!("wspeer-chat: {baseline} KiB before, {peak} KiB just after {WAVE} clients");
    // The wave has closed once the server has let every client go (each one
    // is announced to the room as it leaves, which takes a while).
    eventually_async_for(
        Duration::from_secs(120),
        "the clients to leave",
        async || match open_connections(addr).await {
            0 => Ok(()),
            n => Err(format!("{n} still open")),
        },
    )
    .await;
    assert_memory_returns(pid, baseline, 8 * 1024, Duration::from_secs(10)).await;
}

/// `wspeer_chat_connections` from the server's `/metrics`.
async fn open_connections(addr: SocketAddr) -> u64 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    body.lines()
        .find_map(|line| line.strip_prefix("wspeer_chat_connections "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wspeer_chat_connections in {body:?}"))
}
