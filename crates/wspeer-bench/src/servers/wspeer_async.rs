//! wspeer's async core as an echo server, written as `examples/echo_async.rs`
//! writes it (`Listener::accept`, then `recv` and `send` in a task per
//! connection), on a current-thread runtime.

use wspeer_core::{Config, Listener};

use super::OnBound;

/// Runs the echo server on `addr` with the default [`Config`], or with the
/// read buffer size in `WSPEER_BENCH_READ_BUFFER` (bytes) to see what that
/// setting costs; the reports always use the default.
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    let mut config = Config::default();
    if let Ok(bytes) = std::env::var("WSPEER_BENCH_READ_BUFFER") {
        config = config.read_buffer_size(bytes.parse()?);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut listener = Listener::bind(addr, config).await?;
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
