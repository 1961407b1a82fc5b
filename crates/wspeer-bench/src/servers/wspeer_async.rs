//! wspeer's async core as an echo server, written as `examples/echo_async.rs`
//! writes it (`Listener::accept`, then `recv` and `send` in a task per
//! connection), on a current-thread runtime.

use wspeer_core::{Config, Listener};

use super::OnBound;

/// Runs the echo server on `addr` with the default [`Config`].
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut listener = Listener::bind(addr, Config::default()).await?;
        on_bound(listener.local_addr()?.port());
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
    })
}
