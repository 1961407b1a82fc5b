//! A game loop at 60 frames per second that talks to a server every frame and
//! shows that a frame never waits on the network: it prints how long `poll()`
//! and the game's WebSocket work took, at worst, per frame.
//!
//! ```text
//! cargo run --release -p wspeer-examples --example game_loop
//! cargo run --release -p wspeer-examples --example game_loop -- ws://localhost:9080
//! ```
//!
//! Without a URL it starts an echo server of its own (the async core, on a
//! thread of its own) so that it runs anywhere.
#![allow(clippy::print_stdout)]

use std::{
    thread,
    time::{Duration, Instant},
};

use wspeer::{ReadyState, WebSocketPeer};

const FRAME: Duration = Duration::from_micros(16_667);
const FRAMES: u32 = 180;

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(start_echo_server);
    let mut socket = WebSocketPeer::new();
    socket.connect_to_url(&url).expect("valid URL");

    let (mut sent, mut received) = (0u32, 0u32);
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    for frame in 0..FRAMES {
        let start = Instant::now();
        // Everything the game does with the network this frame:
        socket.poll();
        if socket.ready_state() == ReadyState::Open {
            while socket.get_packet().is_ok() {
                received += 1;
            }
            let state = format!("player at frame {frame}");
            if socket.send_text(&state).is_ok() {
                sent += 1;
            }
        }
        let spent = start.elapsed();
        worst = worst.max(spent);
        total += spent;
        // The rest of the frame: simulation and rendering would go here.
        thread::sleep(FRAME.saturating_sub(spent));
    }
    socket.close_normal();
    while socket.ready_state() != ReadyState::Closed {
        thread::sleep(FRAME);
        socket.poll();
    }
    println!("frames: {FRAMES}, messages sent: {sent}, echoes received: {received}");
    println!(
        "network work per frame: average {:?}, worst {:?} (a frame is {:?})",
        total / FRAMES,
        worst,
        FRAME
    );
    println!("closed with code {}", socket.close_code());
}

/// Starts an async-core echo server on a thread of its own; returns its URL.
fn start_echo_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let config = wspeer_core::Config::default();
            let mut listener = wspeer_core::Listener::bind("127.0.0.1:0", config)
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            tx.send(format!("ws://{addr}")).expect("send URL");
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
    });
    rx.recv().expect("echo server URL")
}
