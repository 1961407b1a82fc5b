//! Godot 4's minimal WebSocket client ("Using WebSockets"), in Rust: connect,
//! send "Test packet", print what comes back, poll every frame.
//!
//! ```text
//! cargo run -p wspeer-examples --example minimal_client -- ws://localhost:9080
//! cargo run -p wspeer-examples --example minimal_client -- wss://localhost:9080 --ca ca.pem
//! cargo run -p wspeer-examples --example minimal_client -- --tls --insecure
//! ```
//!
//! `--tls` turns a `ws://` URL into `wss://`; `--ca FILE` trusts a private CA
//! (PEM) instead of the system's; `--insecure` checks no certificate at all
//! (`TlsOptions::client_unsafe`, for development only).
//!
//! Unlike the GDScript original, which runs for ever, it closes cleanly once the
//! server has answered both packets, and exits with the close code printed.
#![allow(clippy::print_stdout)]

use std::{thread, time::Duration};

use wspeer::{ReadyState, TlsOptions, WebSocketPeer};

/// One frame at 60 frames per second.
const FRAME: Duration = Duration::from_micros(16_667);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mut url = args
        .iter()
        .find(|a| a.contains("://"))
        .cloned()
        .unwrap_or_else(|| "ws://localhost:9080".to_owned());
    if flag("--tls") {
        url = url.replacen("ws://", "wss://", 1);
    }
    let tls = if flag("--insecure") {
        Some(TlsOptions::client_unsafe(None))
    } else {
        value("--ca").map(|path| {
            let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            TlsOptions::client(Some(&pem), None)
        })
    };
    let mut socket = WebSocketPeer::new();
    let started = match tls {
        Some(Ok(tls)) => socket.connect_to_url_with_tls(&url, tls),
        Some(Err(error)) => {
            println!("Bad TLS options: {error}");
            std::process::exit(1);
        }
        None => socket.connect_to_url(&url),
    };
    if let Err(error) = started {
        println!("Unable to connect: {error}");
        std::process::exit(1);
    }
    let mut sent = false;
    let mut replies = 0;
    loop {
        socket.poll();
        match socket.ready_state() {
            ReadyState::Open => {
                if !sent {
                    socket.send_text("Test packet").expect("queue text");
                    socket.put_packet(&[0, 1, 2, 3]).expect("queue binary");
                    sent = true;
                }
                while socket.available_packet_count() > 0 {
                    let Ok(packet) = socket.get_packet() else {
                        break;
                    };
                    if socket.was_string_packet() {
                        println!(
                            "< Got text data from server: {}",
                            String::from_utf8_lossy(&packet)
                        );
                    } else {
                        println!("< Got binary data from server: {} bytes", packet.len());
                    }
                    replies += 1;
                }
                if replies >= 2 {
                    socket.close_normal();
                }
            }
            ReadyState::Connecting | ReadyState::Closing => {}
            ReadyState::Closed => {
                let code = socket.close_code();
                if let Some(error) = socket.connect_error() {
                    println!("Could not connect: {error}");
                }
                println!(
                    "WebSocket closed with code: {code}, reason {:?}. Clean: {}",
                    socket.close_reason(),
                    code != -1
                );
                std::process::exit(if code == -1 { 1 } else { 0 });
            }
        }
        thread::sleep(FRAME);
    }
}
