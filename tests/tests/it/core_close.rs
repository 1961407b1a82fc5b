//! Closing: codes and reasons both ways, abrupt ends (-1), `close(-1)`, refused
//! close requests, and what dropping the handles does.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wspeer_core::{
    CloseError, CloseStatus, Config, ConnectError, Message, ReadyState, TryRecvError, start_client,
};
use wspeer_tests::{
    eventually,
    frames::{BINARY, CLOSE, client_frame, close_payload, read_frame},
    raw_http::raw_client_handshake,
    raw_server::client_of_raw_server,
    server::{TestServer, connected},
    within,
};

fn status(code: i32, reason: &str) -> CloseStatus {
    CloseStatus {
        code,
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn client_close_code_and_reason_reach_the_server() {
    let (mut ws, client) = connected(Config::default(), Config::default()).await;
    client.close(4001, "client done").expect("close");
    assert_eq!(client.ready_state(), ReadyState::Closing);
    assert_eq!(within("the server to see the close", ws.recv()).await, None);
    assert_eq!(ws.close_status(), status(4001, "client done"));
    assert_eq!(
        within("server closed", ws.closed()).await,
        status(4001, "client done")
    );
    // The server echoes the code and reason, as Godot's wslay does.
    assert_eq!(
        within("client closed", client.closed()).await,
        status(4001, "client done")
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
}

#[tokio::test]
async fn server_close_code_and_reason_reach_the_client() {
    let (ws, mut client) = connected(Config::default(), Config::default()).await;
    ws.close(4002, "server done").expect("close");
    assert_eq!(
        within("the client to see the close", client.recv()).await,
        None
    );
    assert_eq!(
        within("client closed", client.closed()).await,
        status(4002, "server done")
    );
    assert_eq!(
        within("server closed", ws.closed()).await,
        status(4002, "server done")
    );
}

#[tokio::test]
async fn longest_allowed_reason_travels_whole() {
    let (ws, client) = connected(Config::default(), Config::default()).await;
    let reason = "é".repeat(61) + "x"; // 123 bytes of UTF-8, the most a frame holds
    assert_eq!(reason.len(), 123);
    client.close(3000, &reason).expect("close");
    assert_eq!(
        within("server closed", ws.closed()).await,
        status(3000, &reason)
    );
}

#[tokio::test]
async fn peer_dropping_tcp_after_the_handshake_is_code_minus_one() {
    let mut server = TestServer::start(Config::default()).await;
    let (raw, _) = raw_client_handshake(server.addr()).await;
    let ws = server.accept().await;
    drop(raw);
    let closed = within("the server to notice", ws.closed()).await;
    assert_eq!(closed, status(-1, ""));
    assert!(!closed.was_clean());
}

#[tokio::test]
async fn server_dropping_tcp_after_the_handshake_is_code_minus_one() {
    let (client, raw) = client_of_raw_server(Config::default()).await;
    drop(raw);
    assert_eq!(
        within("the client to notice", client.closed()).await,
        status(-1, "")
    );
}

#[tokio::test]
async fn close_minus_one_drops_tcp_without_a_close_frame() {
    let (client, mut raw) = client_of_raw_server(Config::default()).await;

    client
        .close(-1, "ignored")
        .expect("close(-1) is always accepted");
    // At once, as in Godot: no closing handshake to wait for.
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(within("closed", client.closed()).await, status(-1, ""));
    // The peer sees the TCP connection end and not a single byte: no close frame.
    let mut buf = Vec::new();
    let read = within("EOF at the raw server", raw.read_to_end(&mut buf)).await;
    assert!(
        buf.is_empty(),
        "expected no bytes after close(-1), got {buf:?} ({read:?})"
    );
}

#[tokio::test]
async fn invalid_close_requests_are_refused_and_the_connection_stays_open() {
    let (mut ws, client) = connected(Config::default(), Config::default()).await;

    for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 70000] {
        assert_eq!(
            client.close(code, ""),
            Err(CloseError::InvalidCode(code)),
            "code {code}"
        );
    }
    let long = "x".repeat(124);
    assert_eq!(
        client.close(1000, &long),
        Err(CloseError::ReasonTooLong(124))
    );
    assert_eq!(client.ready_state(), ReadyState::Open);

    // Still open both ways.
    client.send("still here").await.expect("send");
    let message = within("the message", ws.recv()).await.expect("a message");
    assert_eq!(message, Message::text("still here"));
    assert_eq!(ws.ready_state(), ReadyState::Open);
    client.close(1000, "").expect("a valid close");
    assert_eq!(within("server closed", ws.closed()).await, status(1000, ""));
}

#[tokio::test]
async fn dropping_every_handle_closes_with_1001() {
    let (ws, mut client) = connected(Config::default(), Config::default()).await;
    drop(ws);
    assert_eq!(
        within("the client to see the close", client.recv()).await,
        None
    );
    assert_eq!(client.close_status(), status(1001, ""));
}

#[tokio::test]
async fn the_connection_lives_while_one_half_does() {
    let (ws, mut client) = connected(Config::default(), Config::default()).await;
    let (sender, receiver) = ws.split();
    drop(receiver);
    sender.send("sender alone").await.expect("send");
    let message = within("the message", client.recv())
        .await
        .expect("a message");
    assert_eq!(message, Message::text("sender alone"));
    assert_eq!(client.ready_state(), ReadyState::Open);

    drop(sender);
    assert_eq!(
        within("client closed", client.closed()).await,
        status(1001, "")
    );
}

#[tokio::test]
async fn messages_received_before_a_close_stay_readable() {
    let (ws, mut client) = connected(Config::default(), Config::default()).await;
    for i in 0..3 {
        ws.send(format!("before close {i}")).await.expect("send");
    }
    ws.close(1000, "bye").expect("close");
    // Read nothing until the connection is closed (Godot loses these messages:
    // godotengine/godot#107442).
    assert_eq!(
        within("client closed", client.closed()).await,
        status(1000, "bye")
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
    for i in 0..3 {
        assert_eq!(
            client.try_recv(),
            Ok(Message::text(format!("before close {i}")))
        );
    }
    assert_eq!(client.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(within("the end", client.recv()).await, None);
}

#[tokio::test]
async fn close_frame_without_a_code_is_1005() {
    let mut server = TestServer::start(Config::default()).await;
    let (mut raw, _) = raw_client_handshake(server.addr()).await;
    let ws = server.accept().await;
    raw.write_all(&client_frame(true, CLOSE, &[]))
        .await
        .expect("send an empty close frame");
    let echo = within("the echo", read_frame(&mut raw))
        .await
        .expect("read")
        .expect("a close frame");
    assert_eq!((echo.opcode, echo.payload.len()), (CLOSE, 0));
    drop(raw);
    // RFC 6455 §7.1.5 (Godot reports 0 here; wspeer documents 1005).
    assert_eq!(within("server closed", ws.closed()).await, status(1005, ""));
}

#[tokio::test]
async fn close_while_connecting_aborts_the_attempt() {
    let server = TestServer::start(Config::default()).await;
    let (client, task) = start_client(&server.url("/"), Config::default()).expect("a valid URL");
    client.close(1000, "").expect("close");
    assert_eq!(client.ready_state(), ReadyState::Closed);
    tokio::spawn(task);
    let opened = within("the attempt to end", client.opened()).await;
    assert!(matches!(opened, Err(ConnectError::Aborted)), "{opened:?}");
}

/// Nobody can read a connection whose handles are all gone, so a full inbound
/// queue must not keep it from reading the peer's close echo: the closing
/// handshake has to finish without waiting for `close_timeout`.
#[tokio::test]
async fn dropping_every_handle_with_a_full_inbound_queue_still_closes_cleanly() {
    // Close timeouts far longer than the test's bounded waits: if the close only
    // ends through them, the test fails.
    let long = Duration::from_secs(60);
    let config = Config::default().max_queued_packets(1).close_timeout(long);
    let mut server = TestServer::start(config).await;
    let (mut raw, _) = raw_client_handshake(server.addr()).await;
    let ws = server.accept().await;

    // Three messages for a queue of one: the server reads one, holds one in hand,
    // and stops reading.
    for i in 0..3u8 {
        raw.write_all(&client_frame(true, BINARY, &[i]))
            .await
            .expect("send");
    }
    eventually("the server's queue to fill", || match ws.available() {
        0 => Err("nothing queued".to_owned()),
        _ => Ok(()),
    })
    .await;
    drop(ws);

    let close = within("the server's close frame", read_frame(&mut raw))
        .await
        .expect("read")
        .expect("a close frame");
    assert_eq!(close.close_code(), Some(1001));
    raw.write_all(&client_frame(true, CLOSE, &close_payload(1001, "")))
        .await
        .expect("echo the close");
    // The server must read our echo and end the TCP connection.
    let mut rest = Vec::new();
    within(
        "the server to end TCP after the closing handshake",
        raw.read_to_end(&mut rest),
    )
    .await
    .expect("read until EOF");
    assert!(
        rest.is_empty(),
        "unexpected bytes after the close: {rest:?}"
    );
}
