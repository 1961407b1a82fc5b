//! A short smoke run of the harness against every server kind: it must finish
//! with zero errors and some messages. Not a timing test: no figure is checked.

use std::{path::Path, time::Duration};

use wspeer_bench::{
    handshakes,
    load::{self, LoadConfig},
    process::ServerProcess,
    servers::ServerKind,
};

fn harness() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wspeer-bench"))
}

#[test]
fn every_server_echoes_every_message() {
    for kind in ServerKind::ALL {
        let server = ServerProcess::spawn(harness(), kind, None, &[]).expect("server starts");
        let mut config = LoadConfig::new(4, 100, 4, Duration::from_millis(700));
        config.warmup = Duration::from_millis(200);
        config.websocket = kind.is_websocket();
        config.server_pid = Some(server.pid());
        let report = load::run(server.addr, &config).expect("load runs");
        assert_eq!(report.errors, 0, "{kind}: {:?}", report.first_error);
        assert!(report.messages > 0, "{kind}: no message measured");
    }
}

#[test]
fn large_messages_and_handshakes_complete() {
    for kind in [ServerKind::WspeerAsync, ServerKind::WspeerPoll] {
        let server = ServerProcess::spawn(harness(), kind, None, &[]).expect("server starts");
        let mut config = LoadConfig::new(3, 16 * 1024, 1, Duration::from_millis(500));
        config.warmup = Duration::from_millis(100);
        let report = load::run(server.addr, &config).expect("load runs");
        assert!(report.ok(), "{kind}: {report:?}");
        let cycles = handshakes::run(server.addr, 2, Duration::ZERO, Duration::from_millis(300))
            .expect("handshakes run");
        assert!(cycles.ok(), "{kind}: {cycles:?}");
    }
}
