//! A long-running server gives memory back after a spike: 10,000 clients
//! connect to `echo_async` and vanish, and the server's RSS is within 8 MiB
//! of where it started within 10 s (it stayed 30 MiB above: glibc kept what
//! was freed, and the log subscriber kept per-connection spans).

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use wspeer_tests::wave::{assert_memory_returns, connect_and_vanish, rss_kib_of};

const WAVE: usize = 10_000;

/// An example binary, built by `cargo test` next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    dir.join("examples").join(name)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn echo_async_gives_memory_back_after_ten_thousand_connections() {
    let mut child = Command::new(example("echo_async"))
        .arg("127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start echo_async");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Drained to the end: it logs every connection, and a full pipe would
    // stall it.
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ws://").nth(1) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let addr: SocketAddr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("echo_async to say where it listens")
        .parse()
        .expect("an address");
    let pid = server.0.id();

    // Warm up, so that the baseline includes what any first client costs.
    connect_and_vanish(addr, "/", &[], 10).await;
    // A settling time, not a wait for an event: no event says when the
    // allocator is done with the warm-up, and settling less only raises the
    // baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = rss_kib_of(pid);
    connect_and_vanish(addr, "/", &[], WAVE).await;
    let peak = rss_kib_of(pid);
    eprintln!("echo_async: {baseline} KiB before, {peak} KiB just after {WAVE} connections");
    assert_memory_returns(pid, baseline, 8 * 1024, Duration::from_secs(10)).await;
}
