//! The chat server gives memory back after a spike: 10,000 clients join and
//! vanish, and its RSS is within 8 MiB of where it started within 10 s.

#![allow(clippy::unwrap_used)] // test code

use std::{net::SocketAddr, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    time::timeout,
};
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = rss_kib_of(pid);
    connect_and_vanish(addr, "/test/", &[PROTOCOL], WAVE).await;
    let peak = rss_kib_of(pid);
    eprintln!("wspeer-chat: {baseline} KiB before, {peak} KiB just after {WAVE} clients");
    assert_memory_returns(pid, baseline, 8 * 1024, Duration::from_secs(10)).await;
}
