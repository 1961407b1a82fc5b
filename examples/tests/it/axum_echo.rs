//! `examples/axum_echo.rs` as a user runs it: its plain route answers, and a
//! wspeer client and a page in headless Chromium get their echoes over `/ws`.
//! (Python's `websockets` and a real Godot 3 client talk to the same
//! extractor in `crates/wspeer-axum/tests/axum.rs`.)

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use wspeer_core::Message;
use wspeer_tests::within;

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    dir.join("examples").join(name)
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the example on a free port; returns it once it listens.
fn start() -> (Running, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(example("axum_echo"))
        .arg(port.to_string())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start axum_echo");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if line.contains("listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("axum_echo to say it listens");
    (Running(child), port)
}

#[tokio::test]
async fn the_axum_example_serves_http_and_echoes_websockets() {
    let (_server, port) = start();
    let mut ws = within(
        "the upgrade",
        wspeer_core::connect(&format!("ws://127.0.0.1:{port}/ws")),
    )
    .await
    .expect("connect");
    ws.send(Message::text("through axum")).await.expect("send");
    assert_eq!(
        within("the echo", ws.recv()).await,
        Some(Message::text("through axum"))
    );
}

#[tokio::test]
async fn chromium_gets_its_echoes_from_the_axum_example() {
    let tools =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/wspeer-chat/tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !PathBuf::from(&chromium).exists() {
        Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ))
    } else if !tools.join("node_modules/playwright-core").exists() {
        Some(format!(
            "no playwright-core (npm ci in {})",
            tools.display()
        ))
    } else {
        None
    };
    if let Some(why) = missing {
        wspeer_testkit::interop::skip("chromium_gets_its_echoes_from_the_axum_example", &why);
        return;
    }
    let (_server, port) = start();
    let output = tokio::process::Command::new("node")
        .arg(tools.join("ws_echo.mjs"))
        .arg(format!("http://127.0.0.1:{port}/"))
        .arg(format!("ws://127.0.0.1:{port}/ws"))
        .current_dir(&tools)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(40), output)
        .await
        .expect("the browser script to finish")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "text hello from chromium",
            "binary 1,2,3,250",
            "closed 1000"
        ]
    );
}
