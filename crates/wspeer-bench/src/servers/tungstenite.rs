//! tokio-tungstenite as its own echo server example writes it: `#[tokio::main]`
//! (a multi-thread runtime: one worker when pinned to one CPU), `accept_async`
//! with the default `WebSocketConfig`, and the read half forwarded into the write
//! half. No setting is tuned: this is what a user gets by default.

use futures_util::{StreamExt, TryStreamExt, future};
use tokio::net::{TcpListener, TcpStream};

use super::OnBound;

/// Runs the echo server on `addr`.
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        on_bound(listener.local_addr()?.port());
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(accept_connection(stream));
        }
    })
}

async fn accept_connection(stream: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (write, read) = ws.split();
    // Echo data messages; tungstenite answers pings and closes by itself.
    let _ = read
        .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
        .forward(write)
        .await;
}
