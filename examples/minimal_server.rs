//! Godot 4's minimal WebSocket server, in Rust: a `TcpServer` on port 9080 (or the
//! port given), `WebSocketPeer`s accepted from it, ids from 2 up, every message
//! echoed back as it came (text as text, binary as binary), all in one poll loop.
//!
//! ```text
//! cargo run -p wspeer-examples --example minimal_server -- 9080
//! cargo run -p wspeer-examples --example minimal_server -- 9080 --tls --cert cert.pem --key key.pem
//! cargo run -p wspeer-examples --example minimal_server -- 9080 --this-thread
//! ```
//!
//! With `--tls` it serves `wss://` only: each accepted connection is wrapped in a
//! `StreamPeerTls` with the PEM certificate chain and key given. With
//! `--this-thread` the connections run on the loop's own thread, inside
//! `poll()` as in Godot (`runtime::use_this_thread`), and the loop waits for
//! the next message instead of sleeping out each frame.
#![allow(clippy::print_stdout)]

use std::{collections::BTreeMap, io::Write, thread, time::Duration};

use wspeer::{ReadyState, StreamPeerTls, TcpServer, TlsOptions, WebSocketPeer, WriteMode, runtime};

const FRAME: Duration = Duration::from_micros(16_667);

fn main() {
    // Memory freed after a wave of connections goes back to the system.
    wspeer_core::trim_memory_periodically();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let port: u16 = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(9080);
    let tls = args.iter().any(|a| a == "--tls").then(|| {
        let cert = value("--cert").expect("--tls needs --cert FILE");
        let key = value("--key").expect("--tls needs --key FILE");
        TlsOptions::server_from_files(&key, &cert).unwrap_or_else(|e| {
            println!("Bad TLS certificate or key: {e}");
            std::process::exit(1);
        })
    });
    let this_thread = args.iter().any(|a| a == "--this-thread");
    if this_thread && let Err(error) = runtime::use_this_thread() {
        println!("Unable to run on this thread: {error}");
        std::process::exit(1);
    }
    let mut server = TcpServer::new();
    if let Err(error) = server.listen(port, "*") {
        println!("Unable to listen on port {port}: {error}");
        std::process::exit(1);
    }
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!("Listening on port {} ({scheme}://)", server.local_port());
    flush();

    let mut peers: BTreeMap<u32, WebSocketPeer> = BTreeMap::new();
    let mut next_id = 2;
    loop {
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            let accepted = match &tls {
                Some(options) => StreamPeerTls::accept_stream(stream, options.clone())
                    .map_err(|e| e.to_string())
                    .and_then(|s| peer.accept_stream(s).map_err(|e| e.to_string())),
                None => peer.accept_stream(stream).map_err(|e| e.to_string()),
            };
            if accepted.is_ok() {
                peers.insert(next_id, peer);
                next_id += 1;
            }
        }
        peers.retain(|&id, peer| {
            let before = peer.ready_state();
            peer.poll();
            let state = peer.ready_state();
            if before == ReadyState::Connecting && state == ReadyState::Open {
                println!("+ Peer {id} connected.");
            }
            while let Ok(packet) = peer.get_packet() {
                if peer.was_string_packet() {
                    let text = String::from_utf8_lossy(&packet);
                    println!("< Got text data from peer {id}: {text} ... echoing");
                    let _ = peer.send(&packet, WriteMode::Text);
                } else {
                    println!(
                        "< Got binary data from peer {id}: {} ... echoing",
                        packet.len()
                    );
                    let _ = peer.send(&packet, WriteMode::Binary);
                }
            }
            if state == ReadyState::Closed {
                let code = peer.close_code();
                println!(
                    "- Peer {id} closed with code: {code}, reason {}. Clean: {}",
                    peer.close_reason(),
                    code != -1
                );
                return false;
            }
            true
        });
        flush();
        if this_thread {
            // Does the I/O meanwhile, and returns as soon as something arrives.
            runtime::wait_for_activity(FRAME);
        } else {
            thread::sleep(FRAME);
        }
    }
}

fn flush() {
    let _ = std::io::stdout().flush();
}
