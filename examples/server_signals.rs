//! Godot 3's minimal WebSocket server, signal style: `WebSocketServer` on port
//! 8080 (or the port given), every event of `poll()` handled as Godot 3's
//! signal handlers would, every message echoed.
//!
//! ```text
//! cargo run -p wspeer-examples --example server_signals -- 8080
//! ```
#![allow(clippy::print_stdout)]

use std::{io::Write, thread, time::Duration};

use wspeer::godot3::{ServerEvent, WebSocketServer};

fn main() {
    // Memory freed after a wave of connections goes back to the system.
    wspeer_core::trim_memory_periodically();
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8080);
    let mut server = WebSocketServer::new();
    if let Err(error) = server.listen(port, &[]) {
        println!("Unable to start server: {error}");
        std::process::exit(1);
    }
    println!("Listening on port {}", server.local_port());
    loop {
        let events: Vec<ServerEvent> = server.poll().collect();
        for event in events {
            match event {
                ServerEvent::ClientConnected { id, protocol } => {
                    println!("Client {id} connected with protocol: {protocol}");
                }
                ServerEvent::ClientCloseRequest { id, code, reason } => {
                    println!("Client {id} disconnecting with code: {code}, reason: {reason}");
                }
                ServerEvent::ClientDisconnected { id, was_clean } => {
                    println!("Client {id} disconnected, clean: {was_clean}");
                }
                ServerEvent::DataReceived { id } => {
                    let Some(peer) = server.peer(id) else {
                        continue;
                    };
                    let Ok(packet) = peer.get_packet() else {
                        continue;
                    };
                    println!(
                        "Got data from client {id}: {} ... echoing",
                        String::from_utf8_lossy(&packet)
                    );
                    let _ = peer.put_packet(&packet);
                }
                _ => {}
            }
        }
        let _ = std::io::stdout().flush();
        thread::sleep(Duration::from_millis(16));
    }
}
