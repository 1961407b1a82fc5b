//! A peer that breaks RFC 6455 gets the close code Godot's wslay sends (spec
//! §1.9), and the application sees that code with Godot's fixed reason.

use tokio::{io::AsyncWriteExt, net::TcpStream};
use wspeer_core::{CloseStatus, Config, WebSocket};
use wspeer_tests::{
    frames::{CLOSE, TEXT, client_frame, close_payload, encode, read_frame},
    raw_http::raw_client_handshake,
    server::TestServer,
    within,
};

/// A raw client connected to a wspeer server: (raw socket, server side, server).
async fn raw_pair() -> (TcpStream, WebSocket, TestServer) {
    let mut server = TestServer::start(Config::default()).await;
    let (raw, _) = raw_client_handshake(server.addr()).await;
    let ws = server.accept().await;
    (raw, ws, server)
}

/// Sends `bytes`, then checks the server answers with a close frame carrying
/// `code` and ends with `code` and `reason`.
async fn violation_closes_with(bytes: &[u8], code: u16, reason: &str) {
    let (mut raw, ws, _server) = raw_pair().await;
    raw.write_all(bytes).await.expect("send");
    let close = within("the server's close frame", read_frame(&mut raw))
        .await
        .expect("read")
        .expect("a close frame before EOF");
    assert_eq!(close.opcode, CLOSE, "{close:?}");
    assert_eq!(close.close_code(), Some(code), "{close:?}");
    assert_eq!(
        within("the server to close", ws.closed()).await,
        CloseStatus {
            code: i32::from(code),
            reason: reason.to_owned()
        }
    );
}

#[tokio::test]
async fn unmasked_client_frame_is_1002() {
    violation_closes_with(
        &encode(true, TEXT, b"no mask", None),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn reserved_bits_are_1002() {
    let mut frame = client_frame(true, TEXT, b"rsv");
    frame[0] |= 0x40; // RSV1 without a negotiated extension
    violation_closes_with(&frame, 1002, "Protocol error").await;
}

#[tokio::test]
async fn invalid_utf8_text_is_1007() {
    let frame = client_frame(true, TEXT, &[b'o', b'k', 0xff, 0xfe]);
    violation_closes_with(&frame, 1007, "Invalid frame payload data").await;
}

#[tokio::test]
async fn close_frame_with_a_forbidden_code_is_1002() {
    // 1005 may never be sent on the wire (RFC 6455 §7.4.1); wslay answers 1002
    // and Godot reports 1002 "Protocol error".
    let frame = client_frame(true, CLOSE, &close_payload(1005, "bad"));
    violation_closes_with(&frame, 1002, "Protocol error").await;
}
