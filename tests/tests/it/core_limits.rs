//! Godot's bounded queues over real sockets: a full inbound queue stops reading
//! (nothing lost), an oversized message closes with 1009, and a send that does not
//! fit fails at once and gives the message back.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use wspeer_core::{CloseStatus, Config, Message, ReadyState, SendError, connect_with};
use wspeer_tests::{
    eventually,
    frames::{CLOSE, CONTINUATION, TEXT, client_frame, read_frame},
    raw_http::raw_client_handshake,
    raw_server::client_of_raw_server,
    server::{TestServer, connected},
    within,
};

fn numbered(i: usize, size: usize) -> Message {
    let mut text = format!("{i:06}:");
    text.extend(std::iter::repeat_n('.', size - text.len()));
    if i.is_multiple_of(3) {
        Message::binary(text.into_bytes())
    } else {
        Message::text(text)
    }
}

/// A client sends `count` messages of `size` bytes to a server that does not
/// read. The server's `available()` must climb to exactly `expected_max` and never
/// past it; then every message must be read back, in order.
async fn inbound_queue_is_bounded(
    server_config: Config,
    count: usize,
    size: usize,
    expected_max: usize,
) {
    let (mut ws, client) = connected(server_config, Config::default()).await;

    let sender = client.sender();
    let sending = tokio::spawn(async move {
        for i in 0..count {
            sender.send(numbered(i, size)).await.expect("send");
        }
    });

    // Watch the server's queue while the client sends and the application does
    // not read: it must fill up to the limit and stay there.
    let mut most = 0;
    eventually("the inbound queue to fill up", || {
        let available = ws.available();
        assert!(
            available <= expected_max,
            "{available} messages queued, limit {expected_max}"
        );
        most = most.max(available);
        if most == expected_max && sending.is_finished() {
            Ok(())
        } else {
            Err(format!(
                "at most {most} queued, sending done: {}",
                sending.is_finished()
            ))
        }
    })
    .await;
    // The client is done and its bytes wait in the server's socket. A server
    // that stopped reading gives no event to wait for, so watching the queue
    // stay full for a stretch is the check itself.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(
            ws.available(),
            expected_max,
            "the full queue must not change"
        );
    }

    for i in 0..count {
        assert!(ws.available() <= expected_max);
        let message = within("the next message", ws.recv())
            .await
            .expect("a message before the connection ends");
        assert_eq!(message, numbered(i, size), "message {i}");
    }
    assert_eq!(ws.available(), 0);
    assert_eq!(ws.ready_state(), ReadyState::Open);
    drop(client);
}

#[tokio::test]
async fn full_inbound_queue_by_count_stops_reading_and_loses_nothing() {
    let config = Config::default()
        .max_queued_packets(4)
        .inbound_buffer_size(1024);
    // 100-byte messages: the count limit (4) binds before the byte limit (10).
    inbound_queue_is_bounded(config, 200, 100, 4).await;
}

#[tokio::test]
async fn full_inbound_queue_by_bytes_stops_reading_and_loses_nothing() {
    let config = Config::default()
        .max_queued_packets(16)
        .inbound_buffer_size(1024);
    // 300-byte messages: 3 fit in 1024 bytes, a 4th would not.
    inbound_queue_is_bounded(config, 200, 300, 3).await;
}

fn too_big() -> CloseStatus {
    CloseStatus {
        code: 1009,
        reason: "Message too big".to_owned(),
    }
}

#[tokio::test]
async fn oversize_single_frame_closes_with_1009() {
    let mut server = TestServer::start(Config::default().inbound_buffer_size(1024)).await;
    // The client itself may send anything: no outbound byte limit.
    let client = within(
        "the client to connect",
        connect_with(&server.url("/"), Config::default().outbound_buffer_size(0)),
    )
    .await
    .expect("connect");
    let mut ws = server.accept().await;

    // Exactly inbound_buffer_size is accepted (as in Godot).
    client.send(vec![7u8; 1024]).await.expect("send 1024 bytes");
    let message = within("the 1024-byte message", ws.recv())
        .await
        .expect("a message");
    assert_eq!(message, Message::binary(vec![7u8; 1024]));

    client.send(vec![8u8; 1025]).await.expect("send 1025 bytes");
    assert_eq!(within("the server to close", ws.closed()).await, too_big());
    assert_eq!(
        within("the client to close", client.closed()).await,
        too_big()
    );
    // Nothing of the oversized message was delivered.
    assert_eq!(within("the end of messages", ws.recv()).await, None);
}

#[tokio::test]
async fn oversize_fragmented_message_closes_with_1009() {
    let mut server = TestServer::start(Config::default().inbound_buffer_size(1024)).await;
    let (mut raw, _) = raw_client_handshake(server.addr()).await;
    let mut ws = server.accept().await;

    // Ten 100-byte fragments (1000 bytes in all) fit ...
    let fragments = |count: usize| {
        let mut bytes = Vec::new();
        for i in 0..count {
            let opcode = if i == 0 { TEXT } else { CONTINUATION };
            bytes.extend(client_frame(i == count - 1, opcode, &[b'a' + i as u8; 100]));
        }
        bytes
    };
    raw.write_all(&fragments(10))
        .await
        .expect("write fragments");
    let message = within("the fragmented message", ws.recv())
        .await
        .expect("a message");
    assert_eq!(message.len(), 1000);
    assert_eq!(message.as_text().map(|t| &t[..3]), Some("aaa"));

    // ... eleven do not, though every frame alone is small.
    raw.write_all(&fragments(11))
        .await
        .expect("write fragments");
    let close = within("the server's close frame", read_frame(&mut raw))
        .await
        .expect("read a frame")
        .expect("a close frame before EOF");
    assert_eq!(close.opcode, CLOSE);
    assert_eq!(close.close_code(), Some(1009));
    assert_eq!(close.close_reason(), "Message too big");
    assert_eq!(within("the server to close", ws.closed()).await, too_big());
    assert_eq!(within("the end of messages", ws.recv()).await, None);
}

// These two run on the current-thread runtime of #[tokio::test]: the connection
// task cannot run between two `try_send` calls that have no await between them,
// so the queue is exactly as full as the calls made it.
#[tokio::test]
async fn try_send_is_full_at_max_queued_packets() {
    let config = Config::default()
        .max_queued_packets(3)
        .outbound_buffer_size(0);
    let (client, _peer) = client_of_raw_server(config).await;

    for i in 0..3 {
        assert_eq!(client.try_send(format!("m{i}")), Ok(()));
    }
    let refused = Message::text("one too many");
    assert_eq!(
        client.try_send(refused.clone()),
        Err(SendError::Full(refused))
    );
    assert_eq!(client.buffered_amount(), 6);
}

#[tokio::test]
async fn try_send_is_full_at_outbound_buffer_size_and_too_large_past_it() {
    let config = Config::default()
        .max_queued_packets(100)
        .outbound_buffer_size(100);
    let (client, _peer) = client_of_raw_server(config).await;

    assert_eq!(client.try_send(vec![1u8; 60]), Ok(()));
    let refused = Message::binary(vec![2u8; 50]);
    assert_eq!(
        client.try_send(refused.clone()),
        Err(SendError::Full(refused))
    );
    // Exactly up to the budget is fine, zero-length too.
    assert_eq!(client.try_send(vec![3u8; 40]), Ok(()));
    assert_eq!(client.try_send(Vec::<u8>::new()), Ok(()));
    assert_eq!(client.buffered_amount(), 100);
    let refused = Message::text("x");
    assert_eq!(
        client.try_send(refused.clone()),
        Err(SendError::Full(refused))
    );
    // Larger than the whole budget: can never be sent, whatever is queued.
    let huge = Message::binary(vec![4u8; 101]);
    assert_eq!(
        client.try_send(huge.clone()),
        Err(SendError::TooLarge(huge))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_that_does_not_read_fills_the_outbound_queue_then_not_open_after_close() {
    let config = Config::default()
        .max_queued_packets(64)
        .outbound_buffer_size(64 * 1024);
    let (client, _peer) = client_of_raw_server(config).await;
    let chunk = Message::binary(vec![0x5a; 16 * 1024]);

    // Send until the socket's buffers are full too and `send` finds no room for a
    // while; then the queue stays full, because the peer never reads.
    within("the outbound queue to stay full", async {
        loop {
            let send = client.send(chunk.clone());
            match tokio::time::timeout(Duration::from_millis(300), send).await {
                Ok(result) => result.expect("send while open"),
                Err(_) => match client.try_send(chunk.clone()) {
                    Err(SendError::Full(back)) => {
                        assert_eq!(back, chunk);
                        break;
                    }
                    // The socket took more after all: keep filling.
                    other => other.expect("try_send while open"),
                },
            }
        }
    })
    .await;
    assert!(
        client.buffered_amount() > 48 * 1024,
        "{}",
        client.buffered_amount()
    );
    assert_eq!(client.ready_state(), ReadyState::Open);

    client.close(1000, "").expect("close");
    assert_eq!(client.ready_state(), ReadyState::Closing);
    let late = Message::text("late");
    assert_eq!(
        client.try_send(late.clone()),
        Err(SendError::NotOpen(late.clone()))
    );
    assert_eq!(
        client.send(late.clone()).await,
        Err(SendError::NotOpen(late.clone()))
    );

    // The peer will never answer: abort, and sending stays refused.
    client.close(-1, "").expect("abort");
    assert_eq!(within("the abort", client.closed()).await.code, -1);
    assert_eq!(client.try_send(late.clone()), Err(SendError::NotOpen(late)));
    assert_eq!(client.buffered_amount(), 0);
}
