//! The client the Autobahn conformance cases run against: it asks a fuzzing
//! server how many cases there are, connects to each and echoes until the case
//! closes, then asks for the reports. The async core by default, the poll facade
//! with `--facade`.
//!
//! ```text
//! kosoku -m fuzzingserver 127.0.0.1:9001 &
//! cargo run --release -p wspeer-examples --example autobahn_client -- ws://127.0.0.1:9001
//! cargo run --release -p wspeer-examples --example autobahn_client -- ws://127.0.0.1:9001 --facade
//! ```
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use wspeer::{ReadyState, WebSocketPeer};
use wspeer_core::{Config, DeflateConfig, Message};

const LIMIT: usize = 32 * 1024 * 1024;
/// Longest a case may take before the client gives up on it.
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// permessage-deflate with its defaults (no context takeover either way:
/// the server is asked for `server_no_context_takeover`), except that every
/// message is compressed (threshold 0, even when that makes it larger): the
/// suite's checker fails on uncompressed text in a compression case (it
/// hashes a `str`).
fn config() -> Config {
    Config::default()
        .inbound_buffer_size(LIMIT)
        .outbound_buffer_size(LIMIT)
        .permessage_deflate(
            DeflateConfig::default()
                .threshold(0)
                .plain_when_larger(false),
        )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args
        .iter()
        .find(|a| a.contains("://"))
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let facade = args.iter().any(|a| a == "--facade");
    let agent = if facade {
        "wspeer-facade"
    } else {
        "wspeer-core"
    };
    let run: fn(&str) -> Vec<Message> = if facade { run_facade } else { run_core };

    let count: usize = run(&format!("{base}/getCaseCount"))
        .first()
        .and_then(|m| m.as_text().map(str::to_owned))
        .and_then(|t| t.trim().parse().ok())
        .expect("the fuzzing server's case count");
    println!("{count} cases");
    for case in 1..=count {
        run(&format!("{base}/runCase?case={case}&agent={agent}"));
    }
    run(&format!("{base}/updateReports?agent={agent}"));
    println!("done");
}

/// Connects with the async core, echoes until closed; returns what it received.
fn run_core(url: &str) -> Vec<Message> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut received = Vec::new();
        let Ok(mut ws) = wspeer_core::connect_with(url, config()).await else {
            return received;
        };
        let echo = async {
            while let Some(message) = ws.recv().await {
                received.push(message.clone());
                if ws.send(message).await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CASE_LIMIT, echo).await;
        received
    })
}

/// Connects with the poll facade, echoes until closed; returns what it received.
fn run_facade(url: &str) -> Vec<Message> {
    let mut peer = WebSocketPeer::new();
    peer.set_config(config());
    let mut received = Vec::new();
    if peer.connect_to_url(url).is_err() {
        return received;
    }
    let mut waiting: Option<Message> = None;
    let deadline = Instant::now() + CASE_LIMIT;
    while Instant::now() < deadline {
        peer.poll();
        loop {
            let message = match waiting.take() {
                Some(message) => message,
                None => match peer.get_message() {
                    Ok(message) => {
                        received.push(message.clone());
                        message
                    }
                    Err(_) => break,
                },
            };
            if let Err(wspeer::SendError::Full) = peer.send_message(message.clone()) {
                waiting = Some(message);
                break;
            }
        }
        if peer.ready_state() == ReadyState::Closed && peer.available_packet_count() == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    received
}
