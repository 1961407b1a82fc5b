//! Connections over streams wspeer did not open: an in-memory pair, a stream
//! upgraded by someone else, a client through an HTTP `CONNECT` proxy (plain
//! and TLS); and the `futures` traits on every connection.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wspeer_core::{Config, Message, ReadyState, SendError, Side, TlsOptions};
use wspeer_testkit::TestCa;
use wspeer_tests::{
    WAIT,
    raw_http::{raw_server_handshake, read_head},
    server::spawn_echo_server,
    within,
};

#[tokio::test]
async fn an_in_memory_pair_has_the_real_codec_and_limits() {
    let (mut server, mut client) = within(
        "the pair to open",
        wspeer_core::pair(
            Config::default().inbound_buffer_size(1000),
            Config::default(),
        ),
    )
    .await
    .expect("a pair");
    client.send(Message::text("hello")).await.expect("send");
    assert_eq!(
        within("the message", server.recv()).await,
        Some(Message::text("hello"))
    );
    server
        .send(Message::binary(vec![7; 900]))
        .await
        .expect("send");
    assert_eq!(
        within("the reply", client.recv()).await,
        Some(Message::binary(vec![7; 900]))
    );
    // Past the server's inbound limit: closed with 1009, as over TCP.
    client
        .send(Message::binary(vec![0; 1001]))
        .await
        .expect("send");
    assert_eq!(
        within("the server to close", server.closed()).await.code,
        1009
    );
    assert_eq!(
        within("the client to close", client.closed()).await.code,
        1009
    );
}

#[tokio::test]
async fn a_stream_upgraded_by_someone_else_carries_a_websocket() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        // The "HTTP server": it answers the upgrade itself, then hands over.
        raw_server_handshake(&mut stream, &[("Sec-WebSocket-Protocol", "chat")]).await;
        wspeer_core::from_upgraded(stream, Side::Server, "chat", Config::default())
            .expect("from_upgraded")
    });
    let mut client =
        wspeer_core::connect_with(&url, Config::default().supported_protocols(["chat"]))
            .await
            .expect("connect");
    let mut server = within("the server side", server).await.expect("task");
    assert_eq!(server.info().selected_protocol, "chat");
    assert_eq!(server.ready_state(), ReadyState::Open);
    client.send(Message::text("ping")).await.expect("send");
    let got = within("the message", server.recv())
        .await
        .expect("a message");
    server.send(got).await.expect("echo");
    assert_eq!(
        within("the echo", client.recv()).await,
        Some(Message::text("ping"))
    );
    client.close(1000, "done").expect("close");
    assert_eq!(
        within("the server to close", server.closed()).await.code,
        1000
    );
}

/// A minimal HTTP `CONNECT` proxy: one tunnel per connection.
async fn connect_proxy() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let (mut client, _) = listener.accept().await.expect("accept");
            tokio::spawn(async move {
                let head = read_head(&mut client).await;
                let target = head
                    .first_line()
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                    .expect("a CONNECT request")
                    .to_owned();
                let mut upstream = TcpStream::connect(target).await.expect("reach the target");
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .expect("answer");
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    addr
}

/// A stream to `target` through the proxy at `proxy`.
async fn tunnel(proxy: SocketAddr, target: &str) -> TcpStream {
    let mut stream = TcpStream::connect(proxy).await.expect("reach the proxy");
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("CONNECT");
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .await
            .expect("the proxy's answer");
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

#[tokio::test]
async fn a_client_reaches_its_server_through_a_connect_proxy() {
    let proxy = connect_proxy().await;
    let echo = spawn_echo_server(Config::default()).await;
    let stream = tunnel(proxy, &echo.to_string()).await;
    let mut ws = within(
        "the tunnelled connection",
        wspeer_core::connect_on(stream, &format!("ws://{echo}/through"), Config::default()),
    )
    .await
    .expect("connect through the proxy");
    ws.send(Message::text("tunnelled")).await.expect("send");
    assert_eq!(
        within("the echo", ws.recv()).await,
        Some(Message::text("tunnelled"))
    );
}

#[tokio::test]
async fn wss_runs_over_the_tunnel_when_the_url_says_so() {
    let ca = TestCa::new("tunnel CA");
    let cert = ca.server_cert(&["localhost"]);
    let server_tls =
        TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).expect("server TLS");
    let echo = spawn_echo_server(Config::default().tls(server_tls)).await;
    let proxy = connect_proxy().await;
    let stream = tunnel(proxy, &echo.to_string()).await;
    let client_tls = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).expect("client TLS");
    let url = format!("wss://localhost:{}/secure", echo.port());
    let mut ws = within(
        "the TLS connection through the tunnel",
        wspeer_core::connect_on(stream, &url, Config::default().tls(client_tls)),
    )
    .await
    .expect("wss through the proxy");
    ws.send(Message::binary(vec![5; 20_000]))
        .await
        .expect("send");
    assert_eq!(
        within("the echo", ws.recv()).await,
        Some(Message::binary(vec![5; 20_000]))
    );
}

#[tokio::test]
async fn the_stream_ends_when_the_connection_closes_and_the_status_stays() {
    let (server, mut client) = wspeer_core::pair(Config::default(), Config::default())
        .await
        .expect("a pair");
    for i in 0..3 {
        server
            .try_send(Message::text(format!("m{i}")))
            .expect("send");
    }
    server.close(4001, "bye").expect("close");
    let got: Vec<Message> = within("the stream to end", (&mut client).collect()).await;
    assert_eq!(got, ["m0", "m1", "m2"].map(Message::text));
    assert_eq!(client.close_status().code, 4001);
    assert_eq!(client.close_status().reason, "bye");
}

#[tokio::test]
async fn poll_ready_waits_for_room_and_loses_nothing() {
    // Two messages fit in the client's outbound queue; the server does not
    // read at first, so the queue and then the pipe fill up.
    let (mut server, client) = wspeer_core::pair(
        Config::default().max_queued_packets(2),
        Config::default().max_queued_packets(2),
    )
    .await
    .expect("a pair");
    let (mut sink, _rx) = client.split();
    let writer = tokio::spawn(async move {
        for i in 0..2_000u32 {
            // The sink's send (the inherent `send` would do the same).
            SinkExt::send(&mut sink, Message::binary(vec![i as u8; 1_000]))
                .await
                .expect("sink send");
        }
        sink
    });
    // The writer is held back: on this one thread it has had every chance to
    // run, and its 2 MB cannot fit in two queued messages and the pipe.
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    assert!(!writer.is_finished(), "the sink took everything unread");
    let mut received = 0u32;
    while let Some(message) = within("a message", server.recv()).await {
        assert_eq!(message, Message::binary(vec![received as u8; 1_000]));
        received += 1;
        if received == 2_000 {
            break;
        }
    }
    // ...and every message arrived, in order.
    let mut sink = within("the writer to finish", writer)
        .await
        .expect("writer");
    within("the sink to close", SinkExt::close(&mut sink))
        .await
        .expect("close");
    assert_eq!(sink.ready_state(), ReadyState::Closed);
    assert_eq!(
        within("the server to close", server.closed()).await.code,
        1000
    );
}

#[tokio::test]
async fn forward_between_two_connections_loses_nothing() {
    let (mut from_server, from_client) = wspeer_core::pair(Config::default(), Config::default())
        .await
        .expect("first pair");
    let (to_server, mut to_client) = wspeer_core::pair(Config::default(), Config::default())
        .await
        .expect("second pair");
    let relay = tokio::spawn(async move {
        let (sink, _) = to_server.split();
        from_server_stream(&mut from_server).forward(sink).await
    });
    fn from_server_stream(
        ws: &mut wspeer_core::WebSocket,
    ) -> impl futures_util::Stream<Item = Result<Message, SendError>> + '_ {
        ws.map(Ok)
    }
    let sender = tokio::spawn(async move {
        let from_client = from_client;
        for i in 0..5_000u32 {
            from_client
                .send(Message::text(i.to_string()))
                .await
                .expect("send");
        }
        from_client.close(1000, "all sent").expect("close");
        from_client
    });
    for i in 0..5_000u32 {
        assert_eq!(
            within("a forwarded message", to_client.recv()).await,
            Some(Message::text(i.to_string()))
        );
    }
    within("the sender", sender).await.expect("sender");
    // The source stream ended, so `forward` closed the sink: 1000 on the far side.
    within("the relay", relay)
        .await
        .expect("relay")
        .expect("forward");
    assert_eq!(
        within("the far side to close", to_client.closed())
            .await
            .code,
        1000
    );
}

#[tokio::test]
async fn split_and_select_work_on_a_websocket() {
    let echo = spawn_echo_server(Config::default()).await;
    let ws = wspeer_core::connect(&format!("ws://{echo}/"))
        .await
        .expect("connect");
    let (mut sink, mut stream) = StreamExt::split(ws);
    SinkExt::send(&mut sink, Message::text("one"))
        .await
        .expect("send");
    let next = tokio::select! {
        message = stream.next() => message,
        // The bound against a hang, in the form this test is about.
        () = tokio::time::sleep(WAIT) => panic!("no echo within {WAIT:?}"),
    };
    assert_eq!(next, Some(Message::text("one")));
}
