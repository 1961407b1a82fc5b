//! Hostile frames after the handshake: a never-ending message made of
//! tiny fragments, reserved opcodes, oversized and fragmented control frames.
//! Each gets its close code, and the same server keeps serving a normal client.
//!
//! Already covered elsewhere: oversized messages in one frame or in fragments
//! (1009, `core_limits.rs`); bad UTF-8 (1007), unmasked frames, reserved bits and
//! forbidden close codes (1002, `core_protocol_errors.rs`).

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use tokio::{io::AsyncWriteExt, net::TcpStream};
use wspeer_core::{CloseStatus, Config, Message, WebSocket};
use wspeer_tests::{
    frames::{
        BINARY, CLOSE, CONTINUATION, Frame, PING, TEXT, client_frame, close_payload, read_frame,
    },
    raw_http::raw_client_handshake,
    server::TestServer,
    within,
};

/// A raw client connected to a server: (raw socket, the server's side of it).
async fn raw_client(server: &mut TestServer) -> (TcpStream, WebSocket) {
    let (raw, _) = raw_client_handshake(server.addr()).await;
    let ws = server.accept().await;
    assert_eq!(ws.peer_addr(), raw.local_addr().ok());
    (raw, ws)
}

/// Reads frames until a close frame, which it returns. Panics on EOF first or on
/// a data frame (the server sent nothing but control frames).
async fn read_close<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Frame {
    loop {
        let frame = within("the server's close frame", read_frame(stream))
            .await
            .expect("read a frame")
            .expect("a close frame before EOF");
        match frame.opcode {
            CLOSE => return frame,
            opcode if opcode >= 8 => {}
            _ => panic!("unexpected data frame from the server: {frame:?}"),
        }
    }
}

fn status(code: u16, reason: &str) -> CloseStatus {
    CloseStatus {
        code: i32::from(code),
        reason: reason.to_owned(),
    }
}

/// The most fragments a message may have: max(1024, inbound_buffer_size / 16).
fn fragment_limit(config: &Config) -> usize {
    1024.max(config.inbound_buffer_size / 16)
}

/// A text message of `count` fragments: "a", then empty continuations, then
/// "z" in the last one.
fn fragmented_message(count: usize) -> Vec<u8> {
    assert!(count >= 2);
    let mut bytes = client_frame(false, TEXT, b"a");
    for _ in 1..count - 1 {
        bytes.extend(client_frame(false, CONTINUATION, b""));
    }
    bytes.extend(client_frame(true, CONTINUATION, b"z"));
    bytes
}

/// A message of exactly the limit's fragments is delivered; one more fragment
/// fails the connection with 1008, though the message is complete and tiny.
async fn fragment_limit_is_exact(config: Config) {
    let limit = fragment_limit(&config);
    let mut server = TestServer::start(config).await;
    let (mut raw, mut ws) = raw_client(&mut server).await;

    raw.write_all(&fragmented_message(limit))
        .await
        .expect("write a message of the limit's fragments");
    assert_eq!(
        within("the message of the limit's fragments", ws.recv()).await,
        Some(Message::text("az"))
    );

    raw.write_all(&fragmented_message(limit + 1))
        .await
        .expect("write a message of one fragment more");
    let close = read_close(&mut raw).await;
    assert_eq!(close.close_code(), Some(1008), "{close:?}");
    assert_eq!(close.close_reason(), "Too many fragments");
    assert_eq!(
        within("the server to close", ws.closed()).await,
        status(1008, "Too many fragments")
    );
    assert_eq!(within("the end of messages", ws.recv()).await, None);
    server.assert_serves().await;
}

#[tokio::test]
async fn fragment_limit_is_1024_for_small_inbound_buffers() {
    let config = Config::default().inbound_buffer_size(1024);
    assert_eq!(fragment_limit(&config), 1024);
    fragment_limit_is_exact(config).await;
}

#[tokio::test]
async fn fragment_limit_is_a_sixteenth_of_a_large_inbound_buffer() {
    let config = Config::default().inbound_buffer_size(40_000);
    assert_eq!(fragment_limit(&config), 2500);
    fragment_limit_is_exact(config).await;
}

/// Most frames the flooding client sends: the server must close long before.
const MAX_FLOOD_FRAMES: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_tiny_fragments_of_a_never_ending_message_is_closed_with_1008() {
    let config = Config::default();
    let mut server = TestServer::start(config).await;
    let (raw, ws) = raw_client(&mut server).await;
    let (mut reader, mut writer) = raw.into_split();

    // The flood: a text frame that opens a message, then continuations that never
    // finish it, as fast as the socket takes them. Mostly empty, one byte in every
    // sixteenth: the payload (6 KB for 100,000 frames) stays far below
    // inbound_buffer_size, so 1009 cannot end it; only a fragment count can. It
    // stops when the server's close frame arrives, or after 100,000 frames.
    let closed = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let flood = tokio::spawn({
        let (closed, sent) = (closed.clone(), sent.clone());
        async move {
            let mut batch = Vec::new();
            for i in 0..256 {
                let payload: &[u8] = if i % 16 == 15 { b"x" } else { b"" };
                batch.extend(client_frame(false, CONTINUATION, payload));
            }
            if writer
                .write_all(&client_frame(false, TEXT, b"start"))
                .await
                .is_err()
            {
                return;
            }
            sent.store(1, Ordering::SeqCst);
            while sent.load(Ordering::SeqCst) + 256 <= MAX_FLOOD_FRAMES
                && !closed.load(Ordering::SeqCst)
            {
                if writer.write_all(&batch).await.is_err() {
                    return; // The server closed and reset the connection.
                }
                sent.fetch_add(256, Ordering::SeqCst);
            }
        }
    });

    // Meanwhile a normal client is served.
    server.assert_serves().await;

    let close = read_close(&mut reader).await;
    closed.store(true, Ordering::SeqCst);
    assert_eq!(close.close_code(), Some(1008), "{close:?}");
    assert_eq!(close.close_reason(), "Too many fragments");
    assert_eq!(
        within("the server to close", ws.closed()).await,
        status(1008, "Too many fragments")
    );
    within("the flood to stop", flood)
        .await
        .expect("flood task");
    // The close came before the client had sent MAX_FLOOD_FRAMES frames, the
    // most it ever sends: without a fragment limit no close would come at all.
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent <= MAX_FLOOD_FRAMES, "{sent} frames sent");
    server.assert_serves().await;
}

/// Sends `bytes` on a fresh raw connection and checks the server answers with a
/// close frame with `code` and ends with `code` and `reason`; then checks a
/// normal client is served.
async fn violation_closes_with(bytes: &[u8], code: u16, reason: &str) {
    let mut server = TestServer::start(Config::default()).await;
    let (mut raw, mut ws) = raw_client(&mut server).await;
    // A valid message first: what came before the violation is delivered.
    raw.write_all(&client_frame(true, BINARY, b"before"))
        .await
        .expect("send");
    raw.write_all(bytes).await.expect("send the violation");
    assert_eq!(
        within("the message before the violation", ws.recv()).await,
        Some(Message::binary(b"before".to_vec()))
    );
    let close = read_close(&mut raw).await;
    assert_eq!(close.close_code(), Some(code), "{close:?}");
    assert_eq!(
        within("the server to close", ws.closed()).await,
        status(code, reason)
    );
    assert_eq!(within("the end of messages", ws.recv()).await, None);
    server.assert_serves().await;
}

#[tokio::test]
async fn reserved_data_opcode_is_1002() {
    violation_closes_with(
        &client_frame(true, 0x3, b"opcode 3"),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn reserved_control_opcode_is_1002() {
    violation_closes_with(
        &client_frame(true, 0xB, b"opcode 11"),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn close_reason_over_123_bytes_is_1002() {
    // 2 bytes of code + 124 of reason: a 126-byte control frame, over the 125
    // that RFC 6455 §5.5 allows.
    let payload = close_payload(1000, &"r".repeat(124));
    assert_eq!(payload.len(), 126);
    violation_closes_with(&client_frame(true, CLOSE, &payload), 1002, "Protocol error").await;
}

#[tokio::test]
async fn oversized_ping_is_1002() {
    violation_closes_with(
        &client_frame(true, PING, &[7u8; 126]),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn fragmented_ping_is_1002() {
    // Control frames must not be fragmented (RFC 6455 §5.5): FIN clear on a ping.
    let mut bytes = client_frame(false, PING, b"frag");
    bytes.extend(client_frame(true, CONTINUATION, b"mented"));
    violation_closes_with(&bytes, 1002, "Protocol error").await;
}
