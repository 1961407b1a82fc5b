//! An echo server on the async core: every message comes back as it came, text
//! as text and binary as binary.
//!
//! ```text
//! cargo run -p wspeer-examples --example echo_async -- 127.0.0.1:9080
//! ```
//!
//! Try it with `cargo run -p wspeer-examples --example client_async -- ws://127.0.0.1:9080`.

use wspeer_core::{Config, Listener};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    // Memory freed after a wave of connections goes back to the system.
    wspeer_core::trim_memory_periodically();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9080".to_owned());
    let mut listener = Listener::bind(addr.as_str(), Config::default()).await?;
    tracing::info!("echo server listening on ws://{}", listener.local_addr()?);
    loop {
        let mut ws = listener.accept().await;
        tracing::info!(peer = ?ws.peer_addr(), "connected");
        tokio::spawn(async move {
            while let Some(message) = ws.recv().await {
                if ws.send(message).await.is_err() {
                    break;
                }
            }
            let status = ws.closed().await;
            tracing::info!(peer = ?ws.peer_addr(), code = status.code, reason = %status.reason, "closed");
        });
    }
}
