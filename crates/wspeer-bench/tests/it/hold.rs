//! `hold` at small scale against the async-core echo server: the whole path
//! (raised descriptor limit, connections from several source addresses, the
//! readers, the probe, the report) must finish without an error. No figure
//! is checked: it is not a timing test.

use std::{path::Path, time::Duration};

use wspeer_bench::hold::{HoldConfig, Server, run};

#[test]
fn the_echo_server_holds_connections_from_several_addresses() {
    let exe = Path::new(env!("CARGO_BIN_EXE_wspeer-bench")).to_path_buf();
    let mut config = HoldConfig::new(Server::Echo, exe, 200);
    config.sources = 3;
    config.per_source = 8;
    config.probes = 50;
    config.duration = Duration::from_millis(100);
    let report = run(&config).expect("the hold run");
    let text = report.render();
    assert!(report.ok(), "{text}");
    assert_eq!(report.opened, 200, "{text}");
    assert!(
        report.probe.as_ref().is_some_and(|p| p.len() == 50),
        "{text}"
    );
    assert!(
        text.contains("| wspeer async-core echo | 200 | 200 | 0 | 0 |"),
        "{text}"
    );
}
