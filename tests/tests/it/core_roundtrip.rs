//! Messages between wspeer's client and server: every kind and size arrives
//! intact, once, and in order, and fragmented messages are reassembled.

use tokio::io::AsyncWriteExt;
use wspeer_core::{Bytes, Config, Message, MessageKind, ReadyState, TryRecvError, connect_with};
use wspeer_tests::{
    frames::{self, BINARY, CONTINUATION, PING, PONG, TEXT, client_frame, read_frame},
    raw_http::raw_client_handshake,
    server::{TestServer, connected, spawn_echo_server},
    within,
};

/// A 65535-byte payload (Godot's default buffer size) with a pattern that shows
/// any reordered or lost byte.
fn big_payload() -> Vec<u8> {
    (0..65535u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn every_kind_and_size_round_trips_with_its_kind() {
    let addr = spawn_echo_server(Config::default()).await;
    let mut client = within(
        "the client to connect",
        connect_with(&format!("ws://{addr}/echo"), Config::default()),
    )
    .await
    .expect("connect to the echo server");

    let messages = [
        Message::text("hello"),
        Message::text(""),
        Message::binary(Bytes::new()),
        Message::binary(vec![0u8, 1, 2, 254, 255]),
        Message::text("héllo wörld ✓ 🦀"),
        Message::binary(big_payload()),
        Message::text("x".repeat(65535)),
    ];
    for message in messages {
        client
            .send(message.clone())
            .await
            .expect("send to the echo server");
        let echo = within("an echo", client.recv())
            .await
            .expect("an echo before the connection ends");
        assert_eq!(echo.kind(), message.kind(), "kind of {message:?}");
        assert_eq!(echo.len(), message.len(), "length of {message:?}");
        assert_eq!(echo, message);
    }
    assert_eq!(client.try_recv(), Err(TryRecvError::Empty));
}

#[tokio::test]
async fn many_messages_arrive_once_and_in_order() {
    const COUNT: usize = 2000;
    let addr = spawn_echo_server(Config::default()).await;
    let client = within(
        "the client to connect",
        connect_with(&format!("ws://{addr}/"), Config::default()),
    )
    .await
    .expect("connect to the echo server");
    let expected = |i: usize| {
        if i.is_multiple_of(2) {
            Message::text(format!("message {i}"))
        } else {
            Message::binary(format!("binary {i}").into_bytes())
        }
    };

    // Send from one task while this one reads: the queues are bounded, so
    // sending everything before reading could stall on purpose.
    let (sender, mut receiver) = client.split();
    let sending = tokio::spawn(async move {
        for i in 0..COUNT {
            sender.send(expected(i)).await.expect("send");
        }
        sender
    });
    for i in 0..COUNT {
        let message = within("the next echo", receiver.recv())
            .await
            .expect("an echo before the connection ends");
        assert_eq!(message, expected(i), "message {i}");
    }
    let sender = within("the sender task", sending)
        .await
        .expect("sender task");

    // Nothing is delivered twice: after a clean close, the queue is empty.
    sender.close(1000, "done").expect("close");
    let status = within("the close", sender.closed()).await;
    assert_eq!((status.code, status.reason.as_str()), (1000, "done"));
    assert_eq!(within("the end of messages", receiver.recv()).await, None);
}

#[tokio::test]
async fn fragmented_message_is_reassembled_and_pings_inside_it_are_answered() {
    let mut server = TestServer::start(Config::default()).await;
    let (mut raw, _) = raw_client_handshake(server.addr()).await;
    let mut ws = server.accept().await;

    // A text message in three fragments with a ping between two of them (RFC 6455
    // §5.4 allows control frames there; Godot once appended their payload to the
    // message), then a binary message in two.
    let mut bytes = client_frame(false, TEXT, b"frag");
    bytes.extend(client_frame(false, CONTINUATION, b"ment"));
    bytes.extend(client_frame(true, PING, b"inside"));
    bytes.extend(client_frame(true, CONTINUATION, b"ed"));
    bytes.extend(client_frame(false, BINARY, &[1, 2]));
    bytes.extend(client_frame(true, CONTINUATION, &[3]));
    raw.write_all(&bytes).await.expect("write frames");

    let first = within("the text message", ws.recv())
        .await
        .expect("a message");
    assert_eq!(first, Message::text("fragmented"));
    let second = within("the binary message", ws.recv())
        .await
        .expect("a message");
    assert_eq!(second.kind(), MessageKind::Binary);
    assert_eq!(second, Message::binary(vec![1u8, 2, 3]));

    let pong = within("the pong", read_frame(&mut raw))
        .await
        .expect("read a frame")
        .expect("a frame before EOF");
    assert_eq!(
        pong,
        frames::Frame {
            fin: true,
            opcode: PONG,
            masked: false,
            payload: b"inside".to_vec()
        }
    );
    assert_eq!(ws.ready_state(), ReadyState::Open);
}

/// A batch written in one go stops at 64 KiB; what is queued behind it must
/// still go out without any further wake-up, in both roles (a bug of the first
/// version of our own writer, found by the Godot interop test). The receiving
/// side sends nothing back, so nothing else wakes the sender.
#[tokio::test]
async fn messages_queued_behind_a_large_batch_all_go_out() {
    let config = Config::default()
        .inbound_buffer_size(1 << 20)
        .outbound_buffer_size(0);
    let sent = [
        // Exactly the batch size: the socket takes it in one write.
        Message::binary(vec![1u8; 65_536]),
        Message::text("after the big one"),
        Message::binary(vec![2u8; 65_536]),
        Message::text("last"),
    ];
    let mut server = TestServer::start(config.clone()).await;
    let mut client = within(
        "the client to connect",
        connect_with(&server.url("/"), config),
    )
    .await
    .expect("connect to the server");
    let mut accepted = server.accept().await;
    // Client to server (masked frames), then server to client.
    for message in &sent {
        client.try_send(message.clone()).expect("queue");
    }
    for message in &sent {
        let got = within("a message", accepted.recv())
            .await
            .expect("a message");
        assert_eq!(&got, message);
    }
    for message in &sent {
        accepted.try_send(message.clone()).expect("queue");
    }
    for message in &sent {
        let got = within("a message", client.recv()).await.expect("a message");
        assert_eq!(&got, message);
    }
}

/// Both ends queue far more than the sockets hold, at the same time, then
/// read: neither may stop reading because its own writes wait (a deadlock of
/// the first version of our writer, found in review).
#[tokio::test]
async fn both_ends_flooding_each_other_do_not_deadlock() {
    const COUNT: usize = 200;
    const SIZE: usize = 60_000;
    // No outbound byte budget: all 12 MB are queued at once on each side.
    let config = Config::default().outbound_buffer_size(0);
    let (accepted, client) = connected(config.clone(), config).await;
    let flood = |mut ws: wspeer_core::WebSocket| async move {
        for i in 0..COUNT {
            ws.try_send(Message::binary(vec![i as u8; SIZE]))
                .expect("queue");
        }
        for i in 0..COUNT {
            let got = ws.recv().await.expect("a message");
            assert_eq!(got.len(), SIZE);
            assert_eq!(got.payload()[0], i as u8);
        }
        ws
    };
    let (a, b) = within("both floods to arrive", async {
        tokio::join!(tokio::spawn(flood(client)), tokio::spawn(flood(accepted)))
    })
    .await;
    a.expect("client side");
    b.expect("server side");
}

#[tokio::test]
async fn deferred_sends_go_out_once_the_task_is_woken() {
    let (mut server_side, client) = connected(Config::default(), Config::default()).await;
    // The first message finds the queue empty: the task needs a wake-up.
    let wake = client
        .try_send_deferred(Message::text("one"))
        .expect("queued")
        .expect("the queue was empty, so a wake-up is needed");
    // The second joins a queue the task will drain anyway.
    assert!(
        client
            .try_send_deferred(Message::text("two"))
            .expect("queued")
            .is_none()
    );
    // Nothing is written before the wake-up: on this one thread the task has
    // had every chance to run, and both messages are still queued.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        client.buffered_amount(),
        6,
        "a deferred send went out unwoken"
    );
    wake.wake();
    for want in ["one", "two"] {
        let got = within("a deferred message", server_side.recv()).await;
        assert_eq!(got, Some(Message::text(want)));
    }
}
