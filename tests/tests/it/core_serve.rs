//! `WebSocket::serve`: a handler that runs inside the connection's task gets
//! every message once and in order (those that arrived before it too), its
//! replies obey the outbound limits, and however it ends, `serve` tells how the
//! connection closed.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use wspeer_core::{Config, Message, ReadyState, SendError};
use wspeer_tests::{
    eventually,
    frames::{CLOSE, TEXT, client_frame, close_payload, read_frame},
    raw_http::raw_client_handshake,
    server::{TestServer, connected},
    within,
};

#[tokio::test]
async fn the_handler_gets_every_message_in_order_including_those_already_queued() {
    let (server_side, mut client) = connected(Config::default(), Config::default()).await;
    // Received (and queued) before anyone handles them.
    for i in 0..3 {
        client
            .send(Message::text(format!("early {i}")))
            .await
            .unwrap();
    }
    eventually("the early messages to be queued", || {
        match server_side.available() {
            3 => Ok(()),
            n => Err(format!("{n} queued")),
        }
    })
    .await;

    let serving = tokio::spawn(server_side.serve(|message, out| {
        let text = message.as_text().expect("text").to_owned();
        out.try_send(Message::text(format!("re: {text}"))).unwrap();
    }));
    for i in 0..200 {
        client
            .send(Message::text(format!("late {i}")))
            .await
            .unwrap();
    }
    let expected = (0..3)
        .map(|i| format!("re: early {i}"))
        .chain((0..200).map(|i| format!("re: late {i}")));
    for want in expected {
        let got = within("a reply", client.recv()).await.expect("a reply");
        assert_eq!(got.as_text(), Some(want.as_str()));
    }

    client.close(1000, "done").unwrap();
    let status = within("serve to return", serving).await.unwrap();
    assert_eq!((status.code, status.reason.as_str()), (1000, "done"));
}

#[tokio::test]
async fn a_reply_that_does_not_fit_is_given_back_and_the_rest_go_out() {
    // Four messages fit; the handler tries ten before the task can write any.
    let server_config = Config::default().max_queued_packets(4);
    let (server_side, mut client) = connected(server_config, Config::default()).await;
    let refused = Arc::new(Mutex::new(Vec::new()));
    let seen = refused.clone();
    tokio::spawn(server_side.serve(move |_message, out| {
        for i in 0..10u8 {
            if let Err(error) = out.try_send(Message::binary(vec![i])) {
                match error {
                    SendError::Full(message) => seen.lock().unwrap().push(message),
                    other => panic!("expected Full, got {other:?}"),
                }
            }
        }
    }));

    client.send(Message::text("go")).await.unwrap();
    for i in 0..4u8 {
        let reply = within("a reply", client.recv()).await.expect("a reply");
        assert_eq!(reply, Message::binary(vec![i]));
    }
    let refused: Vec<Message> = refused.lock().unwrap().clone();
    let want: Vec<Message> = (4..10u8).map(|i| Message::binary(vec![i])).collect();
    assert_eq!(refused, want, "each refused reply comes back whole");

    // The queue is free again once written: the next message gets four more.
    client.send(Message::text("again")).await.unwrap();
    for i in 0..4u8 {
        let reply = within("a reply", client.recv()).await.expect("a reply");
        assert_eq!(reply, Message::binary(vec![i]));
    }
}

#[tokio::test]
async fn the_handler_can_close_the_connection() {
    let (server_side, mut client) = connected(Config::default(), Config::default()).await;
    let serving = tokio::spawn(server_side.serve(|message, out| {
        if message.as_text() == Some("quit") {
            out.close(4000, "asked to quit").unwrap();
        } else {
            out.try_send(message).unwrap();
        }
    }));
    client.send(Message::text("one")).await.unwrap();
    client.send(Message::text("quit")).await.unwrap();
    assert_eq!(
        within("the echo", client.recv()).await,
        Some(Message::text("one"))
    );
    let closed = within("the client to see the close", client.closed()).await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (4000, "asked to quit")
    );
    let status = within("serve to return", serving).await.unwrap();
    assert_eq!(status.code, 4000);
}

#[tokio::test]
async fn a_panicking_handler_ends_only_its_own_connection() {
    let (server_side, client) = connected(Config::default(), Config::default()).await;
    let (other_side, mut other_client) = connected(Config::default(), Config::default()).await;
    let serving = tokio::spawn(server_side.serve(|_message, _out| {
        panic!("the handler's own bug");
    }));
    tokio::spawn(other_side.serve(|message, out| {
        let _ = out.try_send(message);
    }));

    client.send(Message::text("boom")).await.unwrap();
    // `serve` returns (with the unclean code) instead of waiting forever.
    let status = within("serve to return", serving).await.unwrap();
    assert_eq!(status.code, wspeer_core::UNCLEAN_CLOSE_CODE);
    let closed = within("the client to see the end", client.closed()).await;
    assert_eq!(closed.code, wspeer_core::UNCLEAN_CLOSE_CODE);

    other_client
        .send(Message::text("still here"))
        .await
        .unwrap();
    assert_eq!(
        within("the other connection's echo", other_client.recv()).await,
        Some(Message::text("still here"))
    );
}

#[tokio::test]
async fn a_reply_to_a_message_that_came_with_the_close_goes_out_before_the_close() {
    let mut server = TestServer::start(Config::default()).await;
    let (mut raw, _head) = raw_client_handshake(server.addr()).await;
    let server_side = server.accept().await;
    let serving = tokio::spawn(server_side.serve(|message, out| {
        out.try_send(message).unwrap();
    }));
    // The first echo proves the handler is in place before the real test.
    raw.write_all(&client_frame(true, TEXT, b"ready"))
        .await
        .unwrap();
    let ready = within("the first echo", read_frame(&mut raw))
        .await
        .unwrap();
    assert_eq!(ready.map(|f| f.payload), Some(b"ready".to_vec()));

    // A message and the close in one write: the task decodes both in one read,
    // so the handler's reply is queued when the close arrives.
    let mut both = client_frame(true, TEXT, b"last words");
    both.extend(client_frame(true, CLOSE, &close_payload(1000, "bye")));
    raw.write_all(&both).await.unwrap();

    let reply = within("the reply", read_frame(&mut raw))
        .await
        .unwrap()
        .expect("a frame before the end");
    assert_eq!(
        (reply.opcode, reply.payload),
        (TEXT, b"last words".to_vec())
    );
    let close = within("the close", read_frame(&mut raw))
        .await
        .unwrap()
        .expect("the close echo");
    assert_eq!(
        (close.close_code(), close.close_reason()),
        (Some(1000), "bye".to_owned())
    );
    let status = within("serve to return", serving).await.unwrap();
    assert_eq!((status.code, status.reason.as_str()), (1000, "bye"));
}

#[tokio::test]
async fn serve_on_a_closed_connection_hands_over_what_was_received_then_drops_the_handler() {
    let (server_side, client) = connected(Config::default(), Config::default()).await;
    client.send(Message::text("a")).await.unwrap();
    client.send(Message::text("b")).await.unwrap();
    client.close(1000, "bye").unwrap();
    within("the server side to close", server_side.closed()).await;
    assert_eq!(server_side.ready_state(), ReadyState::Closed);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let status = within(
        "serve to return",
        server_side.serve(move |message, out| {
            let text = message.as_text().expect("text").to_owned();
            let refused = matches!(out.try_send(message), Err(SendError::NotOpen(_)));
            record.lock().unwrap().push((text, refused));
        }),
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (1000, "bye"));
    let seen_now: Vec<(String, bool)> = seen.lock().unwrap().clone();
    assert_eq!(
        seen_now,
        [("a".to_owned(), true), ("b".to_owned(), true)],
        "each message once, in order; sends refused as not open"
    );
    assert_eq!(Arc::strong_count(&seen), 1, "the handler was dropped");
}

#[tokio::test(flavor = "current_thread")]
async fn a_serve_dropped_before_the_task_took_its_handler_drops_the_handler() {
    let (server_side, _client) = connected(Config::default(), Config::default()).await;
    // A handler that holds the connection's own sender, and a token to see
    // whether it was dropped.
    let token = Arc::new(());
    let held = (token.clone(), server_side.sender());
    let serving = server_side.serve(move |_, _| {
        let _ = &held;
    });
    // Polled once, so the handler is installed; on this one thread the
    // connection task cannot take it before `serve` is dropped.
    let mut serving = Box::pin(serving);
    std::future::poll_fn(|cx| {
        assert!(serving.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    drop(serving);
    // Left in its slot, the handler would have kept its sender, and so the
    // connection, alive (for good, had the task already been finishing).
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the handler outlived the serve that installed it"
    );
}
