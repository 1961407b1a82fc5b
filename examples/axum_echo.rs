//! wspeer inside an axum app: a normal HTTP route at `/` and a WebSocket echo
//! at `/ws`, upgraded by `wspeer_axum::WebSocketUpgrade` with wspeer's
//! `Config` (here: Godot's limits, and the `demo-chat` subprotocol accepted
//! when a client offers it).
//!
//! ```text
//! cargo run -p wspeer-examples --example axum_echo -- 9080
//! ```
//!
//! Then `cargo run -p wspeer-examples --example client_async -- ws://127.0.0.1:9080/ws`,
//! or `curl http://127.0.0.1:9080/`.

use axum::{Router, response::Response, routing::get};
use wspeer_axum::WebSocketUpgrade;
use wspeer_core::Config;

async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .config(Config::default())
        .on_upgrade(|mut ws| async move {
            while let Some(message) = ws.recv().await {
                if ws.send(message).await.is_err() {
                    break;
                }
            }
        })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(9080);
    let app = Router::new()
        .route(
            "/",
            get(|| async { "an axum app; its WebSocket echo is at /ws\n" }),
        )
        .route("/ws", get(echo));
    let listener = wspeer_core::bind_tcp(("127.0.0.1", port)).await?;
    tracing::info!(
        "axum echo listening on http://{}/ (WebSocket: /ws)",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
