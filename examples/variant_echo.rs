//! A server that speaks Godot's `put_var` / `get_var`: it decodes each binary
//! message as a Variant (Godot 3's encoding, or Godot 4's with `--godot4`),
//! logs what it decoded, and answers with the value re-encoded by wspeer (not
//! the bytes it got). A message that is not a valid Variant is logged and
//! answered with nothing.
//!
//! ```text
//! cargo run -p wspeer-examples --example variant_echo -- 9080
//! cargo run -p wspeer-examples --example variant_echo -- 9080 --godot4
//! ```
//!
//! From Godot 3: `peer.put_var({"hello": [1, 2.5, Vector2(3, 4)]})`, then
//! `peer.get_var()` on the answer.
#![allow(clippy::print_stdout)]

use std::{collections::BTreeMap, io::Write, thread, time::Duration};

use wspeer::{ReadyState, TcpServer, WebSocketPeer, variant::Encoding};

const FRAME: Duration = Duration::from_millis(5);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(9080);
    let encoding = if args.iter().any(|a| a == "--godot4") {
        Encoding::Godot4
    } else {
        Encoding::Godot3
    };
    let mut server = TcpServer::new();
    if let Err(error) = server.listen(port, "*") {
        println!("Unable to listen on port {port}: {error}");
        std::process::exit(1);
    }
    println!(
        "Listening on port {} ({encoding} encoding)",
        server.local_port()
    );
    flush();

    let mut peers: BTreeMap<u32, WebSocketPeer> = BTreeMap::new();
    let mut next_id = 2;
    loop {
        while let Some(stream) = server.take_connection() {
            let mut peer = WebSocketPeer::new();
            if peer.accept_stream(stream).is_ok() {
                peers.insert(next_id, peer);
                next_id += 1;
            }
        }
        peers.retain(|&id, peer| {
            peer.poll();
            while peer.available_packet_count() > 0 {
                match peer.get_var(encoding) {
                    Ok(value) => {
                        println!("Peer {id} sent {value:?}");
                        if let Err(error) = peer.put_var(&value, encoding) {
                            println!("Peer {id}: cannot answer: {error}");
                        }
                    }
                    Err(error) => println!("Peer {id} sent no Variant: {error}"),
                }
            }
            flush();
            peer.ready_state() != ReadyState::Closed
        });
        thread::sleep(FRAME);
    }
}

fn flush() {
    std::io::stdout().flush().ok();
}
