//! wspeer's async core as an echo server on a current-thread runtime, two ways:
//! as `examples/echo_async.rs` writes it (`Listener::accept`, then `recv` and
//! `send` in a task per connection), and with `WebSocket::serve` (the echo runs
//! inside the connection's own task).

use wspeer_core::{Config, Listener, WebSocket};

use super::OnBound;

/// Runs the echo server on `addr` with the default [`Config`], or with the
/// read buffer size in `WSPEER_BENCH_READ_BUFFER` (bytes) to see what that
/// setting costs; the reports always use the default. `WSPEER_BENCH_TRIM=1`
/// runs it as the server binaries do, with `trim_memory_periodically`.
/// `WSPEER_BENCH_DEFLATE` turns permessage-deflate on
/// ([`crate::deflate_echo::Mode`]).
pub fn run(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    serve_each(addr, on_bound, |mut ws| async move {
        while let Some(message) = ws.recv().await {
            if ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

/// The same server with `WebSocket::serve`. A reply that does not fit the
/// outbound queue would be lost, and the load generator would report it; with
/// one message in flight per connection it always fits.
pub fn run_handler(addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
    serve_each(addr, on_bound, |ws| async move {
        ws.serve(|message, out| {
            let _ = out.try_send(message);
        })
        .await;
    })
}

/// Accepts connections forever, spawning `serve(ws)` for each.
fn serve_each<F, Fut>(addr: &str, on_bound: OnBound<'_>, serve: F) -> anyhow::Result<()>
where
    F: Fn(WebSocket) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut config = Config::default();
    if let Ok(bytes) = std::env::var("WSPEER_BENCH_READ_BUFFER") {
        config = config.read_buffer_size(bytes.parse()?);
    }
    if let Ok(mode) = std::env::var("WSPEER_BENCH_DEFLATE") {
        config.permessage_deflate = crate::deflate_echo::Mode::parse(&mode)?.settings();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        if std::env::var_os("WSPEER_BENCH_TRIM").is_some() {
            wspeer_core::trim_memory_periodically();
        }
        let mut listener = Listener::bind(addr, config).await?;
        on_bound(listener.local_addr()?.port());
        loop {
            tokio::spawn(serve(listener.accept().await));
        }
    })
}
