//! The echo server the Autobahn conformance cases run against, on the async core
//! or, with `--facade`, on the poll facade (`TcpServer` + `WebSocketPeer`s polled
//! in one loop). Prints `listening on PORT` once ready.
//!
//! ```text
//! cargo run --release -p wspeer-examples --example autobahn_server -- 127.0.0.1:9001
//! cargo run --release -p wspeer-examples --example autobahn_server -- 127.0.0.1:9001 --facade
//! kosoku -m fuzzingclient 127.0.0.1:9001
//! ```
//!
//! The limits are raised so that the suite's largest messages (16 MiB in 9.x) fit;
//! permessage-deflate is on, accepting context takeover both ways;
//! everything else is the default configuration.
#![allow(clippy::print_stdout)]

use std::{io::Write, time::Duration};

use wspeer::{ReadyState, TcpServer, WebSocketPeer};
use wspeer_core::{Config, DeflateConfig, Listener, Message};

/// Room for the suite's 16 MiB messages.
const LIMIT: usize = 32 * 1024 * 1024;

/// Compression as permissive as RFC 7692 lets a server be, so that every
/// offer of the 12.* and 13.* cases is taken up, context takeover included.
/// Every message is compressed (threshold 0, even when that makes it
/// larger): the suite's checker fails on uncompressed text in a compression
/// case (it hashes a `str`), so its small messages must go compressed too.
fn config() -> Config {
    let deflate = DeflateConfig::default()
        .send_context_takeover(true)
        .receive_context_takeover(true)
        .threshold(0)
        .plain_when_larger(false);
    Config::default()
        .inbound_buffer_size(LIMIT)
        .outbound_buffer_size(LIMIT)
        .permessage_deflate(deflate)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    if args.iter().any(|a| a == "--facade") {
        facade(&addr);
    } else {
        core(&addr);
    }
}

fn announce(port: u16) {
    println!("listening on {port}");
    let _ = std::io::stdout().flush();
}

/// The async core on a current-thread runtime: each connection echoes as it reads.
fn core(addr: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut listener = Listener::bind(addr, config()).await.expect("bind");
        announce(listener.local_addr().expect("address").port());
        loop {
            let mut ws = listener.accept().await;
            tokio::spawn(async move {
                while let Some(message) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// A peer of the facade and the echo it could not queue yet.
struct Echoing {
    peer: WebSocketPeer,
    waiting: Option<Message>,
}

/// The poll facade: one loop accepts, polls and echoes for every peer.
fn facade(addr: &str) {
    let (host, port) = addr.rsplit_once(':').expect("HOST:PORT");
    let mut server = TcpServer::new();
    server
        .listen(port.parse().expect("port"), host)
        .expect("listen");
    announce(server.local_port());
    let mut peers: Vec<Echoing> = Vec::new();
    loop {
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            peer.set_config(config());
            if peer.accept_stream(stream).is_ok() {
                peers.push(Echoing {
                    peer,
                    waiting: None,
                });
            }
        }
        for echoing in &mut peers {
            echoing.peer.poll();
            loop {
                let message = match echoing.waiting.take() {
                    Some(message) => message,
                    None => match echoing.peer.get_message() {
                        Ok(message) => message,
                        Err(_) => break,
                    },
                };
                // A full queue keeps the message for the next frame: nothing lost.
                if let Err(wspeer::SendError::Full) = echoing.peer.send_message(message.clone()) {
                    echoing.waiting = Some(message);
                    break;
                }
            }
        }
        peers.retain(|e| e.peer.ready_state() != ReadyState::Closed);
        std::thread::sleep(Duration::from_millis(1));
    }
}
