//! The Autobahn conformance cases, through `kosoku` (a Python implementation of
//! the Autobahn fuzzing client and server), against wspeer in both roles and
//! both APIs: the async core and the poll facade. Strict: every case, the
//! compression cases 12.* and 13.* (permessage-deflate) included, must be OK
//! or INFORMATIONAL, for `behavior` and `behaviorClose`; a failure lists each
//! failing case and why.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    time::timeout,
};
use wspeer_testkit::wait::AUTOBAHN_WAIT;

/// Cases in the suite: 301, and 216 of compression.
const CASES: usize = 517;

/// An example binary, built by `cargo test` next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    dir.join("examples").join(name)
}

/// The `kosoku` command, next to `$WSPEER_PYTHON` or on the PATH; `None` (after a
/// loud message) when missing, a panic instead when `WSPEER_REQUIRE_INTEROP=1`.
fn kosoku(test: &str) -> Option<PathBuf> {
    let beside_python = std::env::var("WSPEER_PYTHON")
        .ok()
        .and_then(|python| Path::new(&python).parent().map(|dir| dir.join("kosoku")));
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kosoku"))
            .find(|candidate| candidate.exists())
    });
    let found = beside_python.filter(|p| p.exists()).or(on_path);
    if found.is_none() {
        wspeer_testkit::interop::skip(
            test,
            "kosoku (Autobahn conformance) is not installed (pip install kosoku next to $WSPEER_PYTHON)",
        );
    }
    found
}

fn report_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wspeer-autobahn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every case whose result is not OK or INFORMATIONAL, with its reasons.
fn failures(report: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(report.join("index.json")).expect("kosoku's index.json");
    let index: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut total = 0;
    let mut failed = Vec::new();
    for cases in index.as_object().expect("agents").values() {
        for (id, case) in cases.as_object().expect("cases") {
            total += 1;
            let behavior = case["behavior"].as_str().unwrap_or("?");
            let close = case["behaviorClose"].as_str().unwrap_or("?");
            let fine = |b: &str| b == "OK" || b == "INFORMATIONAL";
            if !fine(behavior) || !fine(close) {
                failed.push(format!(
                    "{id}: behavior={behavior} behaviorClose={close}: {} / {}",
                    case["result"].as_str().unwrap_or(""),
                    case["resultClose"].as_str().unwrap_or("")
                ));
            }
        }
    }
    (total, failed)
}

fn assert_strict(report: &Path, what: &str) {
    let (total, failed) = failures(report);
    assert_eq!(total, CASES, "{what}: cases in the report");
    assert!(
        failed.is_empty(),
        "{what}: {} of {total} Autobahn cases not OK:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Starts an example that prints `listening on PORT`; returns it and the port.
async fn start_server(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(example("autobahn_server"))
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start autobahn_server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the server did not start")
        .expect("read")
        .expect("the server exited");
    let port = line
        .strip_prefix("listening on ")
        .and_then(|p| p.trim().parse().ok())
        .expect("a port");
    (child, port)
}

async fn server_role(name: &str, extra: &[&str]) {
    let Some(kosoku) = kosoku(name) else { return };
    let mut args = vec!["127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (_server, port) = start_server(&args).await;
    let report = report_dir(name);
    let mut command = Command::new(kosoku);
    command
        .args(["-m", "fuzzingclient", "-p", "2", "-o"])
        .arg(&report);
    let run = command
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .status();
    timeout(AUTOBAHN_WAIT, run)
        .await
        .expect("kosoku ran too long")
        .expect("run kosoku");
    assert_strict(&report, name);
}

async fn client_role(name: &str, extra: &[&str]) {
    let Some(kosoku) = kosoku(name) else { return };
    let report = report_dir(name);
    let mut command = Command::new(kosoku);
    command.args(["-m", "fuzzingserver", "-o"]).arg(&report);
    let mut fuzzer = command
        .arg("127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start kosoku");
    let mut lines = BufReader::new(fuzzer.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("kosoku did not start")
            .expect("read")
            .expect("kosoku exited");
        if let Some(url) = line.strip_prefix("fuzzingserver listening on ") {
            break url.trim().to_owned();
        }
    };
    let mut client = Command::new(example("autobahn_client"));
    client
        .arg(&url)
        .args(extra)
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let status = timeout(AUTOBAHN_WAIT, client.status())
        .await
        .expect("the client ran too long")
        .expect("run autobahn_client");
    assert!(status.success(), "autobahn_client failed");
    // kosoku writes its reports once the client asked for them, then exits.
    timeout(Duration::from_secs(60), fuzzer.wait())
        .await
        .expect("kosoku did not finish")
        .expect("kosoku");
    assert_strict(&report, name);
}

#[tokio::test]
async fn core_server_is_strictly_conformant() {
    server_role("core_server", &[]).await;
}

#[tokio::test]
async fn facade_server_is_strictly_conformant() {
    server_role("facade_server", &["--facade"]).await;
}

#[tokio::test]
async fn core_client_is_strictly_conformant() {
    client_role("core_client", &[]).await;
}

#[tokio::test]
async fn facade_client_is_strictly_conformant() {
    client_role("facade_client", &["--facade"]).await;
}
