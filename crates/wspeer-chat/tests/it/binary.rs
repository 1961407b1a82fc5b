//! The `wspeer-chat` binary itself: it serves, and SIGTERM closes every client
//! with 1001 and ends the process.

#![allow(clippy::unwrap_used)] // test code

use std::process::Stdio;

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    time::timeout,
};
use wspeer_core::Config;
use wspeer_testkit::wait::WAIT;

#[tokio::test]
async fn sigterm_closes_clients_with_1001_and_exits() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wspeer-chat"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--log", "info"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = timeout(WAIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Some(rest) = line.split("chat on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let config = Config::default().supported_protocols(["demo-chat"]);
    let client = wspeer_core::connect_with(&url, config).await.unwrap();

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = timeout(WAIT, client.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (1001, "server shutting down")
    );
    let exit = timeout(WAIT, child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
}
