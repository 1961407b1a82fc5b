//! The ports of Godot's minimal client and server, run as the programs they are,
//! against Python's `websockets`: the client against a Python echo server, the
//! server against a Python client.

use std::{path::PathBuf, process::Stdio};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    time::timeout,
};
use wspeer_testkit::wait::PROGRAM_WAIT;
use wspeer_tests::python::{self, PythonProcess};

/// An example binary, built by `cargo test` next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds the examples",
        path.display()
    );
    path
}

#[tokio::test]
async fn minimal_client_against_a_python_echo_server() {
    let Some(python) = python::interpreter("minimal_client_against_a_python_echo_server").await
    else {
        return;
    };
    let mut server = PythonProcess::spawn(&python, "echo_server.py", &[]);
    let port = server.next_line("the port").await;
    let run = Command::new(example("minimal_client"))
        .arg(format!("ws://127.0.0.1:{port}"))
        .kill_on_drop(true)
        .output();
    let output = timeout(PROGRAM_WAIT, run)
        .await
        .expect("the client ran too long")
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "minimal_client failed:\n{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "< Got text data from server: Test packet",
            "< Got binary data from server: 4 bytes",
            "WebSocket closed with code: 1000, reason \"\". Clean: true",
        ]
    );
    assert_eq!(server.finish().await, ["closed 1000 "]);
}

#[tokio::test]
async fn minimal_server_against_a_python_client() {
    minimal_server_serves_python("minimal_server_against_a_python_client", &[]).await;
}

/// The same with the connections on the server loop's own thread.
#[tokio::test]
async fn minimal_server_on_this_thread_against_a_python_client() {
    minimal_server_serves_python(
        "minimal_server_on_this_thread_against_a_python_client",
        &["--this-thread"],
    )
    .await;
}

async fn minimal_server_serves_python(test: &str, flags: &[&str]) {
    let Some(python) = python::interpreter(test).await else {
        return;
    };
    let mut server = Command::new(example("minimal_server"))
        .arg("0")
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start minimal_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let mut next = async || {
        timeout(PROGRAM_WAIT, lines.next_line())
            .await
            .expect("minimal_server said nothing")
            .expect("read")
            .expect("minimal_server exited")
    };
    let listening = next().await;
    let port = listening
        .strip_prefix("Listening on port ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the port line");

    let client = PythonProcess::spawn(
        &python,
        "echo_client.py",
        &[&format!("ws://127.0.0.1:{port}/")],
    );
    assert_eq!(client.finish().await, ["ok"]);

    let mut seen = Vec::new();
    loop {
        let line = next().await;
        let done = line.starts_with("- Peer");
        seen.push(line);
        if done {
            break;
        }
    }
    assert_eq!(seen[0], "+ Peer 2 connected.");
    assert_eq!(
        seen[1],
        "< Got text data from peer 2: hello from python ... echoing"
    );
    assert!(
        seen.contains(&"< Got binary data from peer 2: 51200 ... echoing".to_owned()),
        "{seen:?}"
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("- Peer 2 closed with code: 4000, reason bye. Clean: true")
    );
}
