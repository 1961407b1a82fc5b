//! A client on the async core: connects, sends a text and a binary message,
//! prints what comes back, then closes cleanly.
//!
//! ```text
//! cargo run -p wspeer-examples --example client_async -- ws://127.0.0.1:9080
//! ```

use wspeer_core::Message;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9080".to_owned());
    let mut ws = wspeer_core::connect(&url).await?;
    let info = ws.info();
    eprintln!("connected to {url} ({:?})", info.peer_addr);

    ws.send(Message::text("Test packet")).await?;
    ws.send(Message::binary(vec![1u8, 2, 3, 4])).await?;
    for _ in 0..2 {
        match ws.recv().await {
            Some(message) => match message.as_text() {
                Some(text) => eprintln!("< Got text data from server: {text}"),
                None => eprintln!("< Got binary data from server: {} bytes", message.len()),
            },
            None => break,
        }
    }
    ws.close(1000, "bye")?;
    let status = ws.closed().await;
    eprintln!(
        "closed with code: {}, reason: {:?}. Clean: {}",
        status.code,
        status.reason,
        status.was_clean()
    );
    Ok(())
}
