//! Godot 3's minimal WebSocket client, signal style: `WebSocketClient`, its
//! events handled as Godot 3's signal handlers would. Sends "Test packet" once
//! connected, prints the answer, then disconnects and exits.
//!
//! ```text
//! cargo run -p wspeer-examples --example client_signals -- ws://localhost:8080
//! ```
#![allow(clippy::print_stdout)]

use std::{thread, time::Duration};

use wspeer::godot3::{ClientEvent, WebSocketClient};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://localhost:8080".to_owned());
    let mut client = WebSocketClient::new();
    if let Err(error) = client.connect_to_url(&url, &[]) {
        println!("Unable to connect: {error}");
        std::process::exit(1);
    }
    loop {
        let events: Vec<ClientEvent> = client.poll().collect();
        for event in events {
            match event {
                ClientEvent::ConnectionEstablished { protocol } => {
                    println!("Connected with protocol: {protocol}");
                    client.peer().put_packet(b"Test packet").expect("queued");
                }
                ClientEvent::DataReceived => {
                    if let Ok(packet) = client.peer().get_packet() {
                        println!("Got data from server: {}", String::from_utf8_lossy(&packet));
                    }
                    let _ = client.disconnect_from_host(1000, "Bye bye!");
                }
                ClientEvent::ServerCloseRequest { code, reason } => {
                    println!("Server close request, code: {code}, reason: {reason}");
                }
                ClientEvent::ConnectionClosed { was_clean } => {
                    println!("Closed, clean: {was_clean}");
                    return;
                }
                ClientEvent::ConnectionError => {
                    let why = client.peer().connect_error().map(|e| e.to_string());
                    println!("Closed, clean: false ({})", why.unwrap_or_default());
                    std::process::exit(1);
                }
                _ => {}
            }
        }
        thread::sleep(Duration::from_millis(16));
    }
}
