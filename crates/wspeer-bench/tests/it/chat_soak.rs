//! The chat soak at small scale, so that every run of the tests goes through
//! its whole path: real `wspeer-chat` processes, clients dropping (abruptly
//! and politely) and resuming, the drain and the exactly-once check. The
//! minutes-long run with 1,000 clients is on demand (`wspeer-bench
//! chat-soak`, see docs/benchmarks.md). The cluster run needs `redis-server`:
//! skipped with a loud message without it, a failure when
//! `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::Duration,
};

use wspeer_bench::chat_soak::{SoakConfig, SoakReport, run};

/// The `wspeer-chat` binary of this profile, built (or found fresh) once.
fn chat_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let bench = Path::new(env!("CARGO_BIN_EXE_wspeer-bench"));
        let dir = bench.parent().unwrap();
        // Cargo builds only this package's binaries for its tests.
        let mut build = Command::new(env!("CARGO"));
        // With this package selected too, features resolve as for the harness and
        // its usual build (`cargo build -p wspeer-bench -p wspeer-chat`): no rebuild.
        build.args([
            "build",
            "-p",
            "wspeer-bench",
            "-p",
            "wspeer-chat",
            "--bin",
            "wspeer-chat",
        ]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        // What cargo set for this test (CARGO_PKG_NAME, CARGO_MANIFEST_DIR, …)
        // would count as a changed environment for build scripts that watch
        // it (ring's does), and rebuild them, here and again afterwards.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let keep = ["CARGO_HOME", "CARGO_TARGET_DIR"].contains(&name.as_ref());
            if (name.starts_with("CARGO_") && !keep) || name == "OUT_DIR" {
                build.env_remove(name.as_ref());
            }
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p wspeer-chat: {status}");
        dir.join("wspeer-chat")
    })
}

fn small(servers: usize) -> SoakConfig {
    let mut config = SoakConfig::new(chat_binary().to_owned());
    config.clients = 50;
    config.rooms = 5;
    config.duration = Duration::from_secs(8);
    // About one drop per client in the run, back within a second.
    config.disconnect_rate = 8.0;
    config.away_max = Duration::from_secs(1);
    config.line_rate = 1.0;
    config.servers = servers;
    config
}

fn assert_exactly_once(report: &SoakReport) {
    let text = report.render();
    assert!(report.ok(), "{text}");
    // The run did what it is for: drops both ways, resumes that brought
    // lines said while away, and deliveries checked.
    let s = &report.stats;
    assert!(s.abrupt_drops > 0 && s.polite_closes > 0, "{text}");
    assert!(s.resumes > 0 && s.recovered > 0, "{text}");
    assert!(report.verdict.expected >= s.deliveries, "{text}");
    assert_eq!(report.finished, report.config.clients, "{text}");
}

#[test]
fn fifty_clients_drop_and_resume_on_one_server_exactly_once() {
    let report = run(&small(1)).unwrap();
    assert_exactly_once(&report);
}

#[test]
fn resumes_cross_two_clustered_servers_exactly_once() {
    let test = "resumes_cross_two_clustered_servers_exactly_once";
    if wspeer_testkit::interop::find_program(test, "redis-server", "apt-get install redis-server")
        .is_none()
    {
        return;
    }
    let report = run(&small(2)).unwrap();
    assert_exactly_once(&report);
}
