//! A terminal client for the chat server, ported from Godot's `websocket_chat`
//! demo client: a frame loop on the poll facade, and a thread that reads what
//! you type (a line is a message; `/nick`, `/join`, `/who` are commands).
//!
//! ```text
//! cargo run -p wspeer-chat                       # the server, port 8000
//! cargo run -p wspeer-examples --example chat_client -- ws://localhost:8000/test/
//! ```
#![allow(clippy::print_stdout)]

use std::{io::BufRead, sync::mpsc, thread, time::Duration};

use wspeer::{ReadyState, WebSocketPeer};

fn main() {
    let host = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://localhost:8000/test/".to_owned());
    let mut socket = WebSocketPeer::new();
    socket.set_supported_protocols(["demo-chat"]);
    println!("Connecting to host: {host}.");
    if let Err(error) = socket.connect_to_url(&host) {
        println!("Error connecting to host: {host} ({error})");
        std::process::exit(1);
    }

    let (typed, lines) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if typed.send(line).is_err() {
                break;
            }
        }
    });

    let mut last_state = ReadyState::Connecting;
    loop {
        socket.poll();
        let state = socket.ready_state();
        if state != last_state {
            match state {
                ReadyState::Open => println!(
                    "Client just connected with protocol: {}",
                    socket.selected_protocol()
                ),
                ReadyState::Closed => {
                    println!(
                        "Client just disconnected with code: {}, reason: {}",
                        socket.close_code(),
                        socket.close_reason()
                    );
                    if let Some(error) = socket.connect_error() {
                        println!("({error})");
                    }
                    return;
                }
                _ => {}
            }
            last_state = state;
        }
        while let Ok(packet) = socket.get_packet() {
            println!("{}", String::from_utf8_lossy(&packet));
        }
        while let Ok(line) = lines.try_recv() {
            if !line.is_empty() && state == ReadyState::Open {
                println!("Sending message: {line}");
                if let Err(error) = socket.send_text(&line) {
                    println!("Not sent: {error}");
                }
            }
        }
        thread::sleep(Duration::from_millis(16));
    }
}
