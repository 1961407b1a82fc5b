//! Why a connection does not open, from both sides: each failure has its own
//! `ConnectError` variant on a client, and a server answers bad requests with a
//! clear HTTP status.

use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
};
use wspeer_core::{Config, ConfigError, ConnectError, Listener, connect, connect_with};
use wspeer_tests::{
    raw_http::{read_head, read_to_end_text},
    server::TestServer,
    within,
};

#[tokio::test]
async fn malformed_urls_are_invalid() {
    for url in ["", "ws://[::1", "ws://host:99999/", "ws://", "ws://host:0/"] {
        let result = within("the attempt", connect(url)).await;
        match result {
            Err(ConnectError::InvalidUrl { url: given, .. }) => assert_eq!(given, url),
            other => panic!("{url:?}: expected InvalidUrl, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn other_schemes_are_unsupported() {
    for (url, scheme) in [
        ("http://127.0.0.1:1/", "http"),
        ("ftp://127.0.0.1:1/", "ftp"),
    ] {
        let result = within("the attempt", connect(url)).await;
        assert!(
            matches!(&result, Err(ConnectError::UnsupportedScheme(s)) if s == scheme),
            "{url}: {result:?}"
        );
    }
}

#[tokio::test]
async fn invalid_settings_are_refused_before_connecting() {
    let result = within(
        "the attempt",
        connect_with("ws://127.0.0.1:1/", Config::default().max_queued_packets(0)),
    )
    .await;
    assert!(
        matches!(result, Err(ConnectError::Config(ConfigError::ZeroQueue))),
        "{result:?}"
    );
    let bound = Listener::bind("127.0.0.1:0", Config::default().inbound_buffer_size(0)).await;
    let error = bound.expect_err("an invalid config cannot serve");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn closed_port_is_refused() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("address");
    drop(tcp);
    let result = within("the attempt", connect(&format!("ws://{addr}/"))).await;
    match result {
        Err(ConnectError::Refused {
            addr: tried,
            source,
        }) => {
            assert_eq!(tried, addr);
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Refused, got {other:?}"),
    }
}

/// A raw server that reads one request and answers with `response`.
async fn http_server(response: &'static str) -> String {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        read_head(&mut stream).await;
        stream.write_all(response.as_bytes()).await.expect("answer");
        let _ = stream.shutdown().await;
    });
    url
}

#[tokio::test]
async fn http_404_is_a_handshake_error_with_status_and_body() {
    let url = http_server(
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\
         Connection: close\r\n\r\nno such ws",
    )
    .await;
    let result = within("the attempt", connect(&url)).await;
    let Err(error @ ConnectError::Rejected { status: 404, .. }) = &result else {
        panic!("expected Rejected with 404, got {result:?}");
    };
    let ConnectError::Rejected { reason, body, .. } = error else {
        unreachable!()
    };
    assert_eq!(
        (reason.as_str(), body.as_str()),
        ("Not Found", "no such ws")
    );
    assert_eq!(
        error.to_string(),
        "WebSocket handshake failed: the server answered HTTP 404 Not Found instead of 101: no such ws"
    );
}

#[tokio::test]
async fn server_hanging_up_during_the_handshake_is_a_handshake_error() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        read_head(&mut stream).await;
    });
    let result = within("the attempt", connect(&url)).await;
    let Err(error @ ConnectError::ClosedDuringHandshake(wspeer_core::Side::Server)) = result else {
        panic!("expected ClosedDuringHandshake(Server), got {result:?}");
    };
    assert_eq!(
        error.to_string(),
        "WebSocket handshake failed: the server closed the connection during the handshake"
    );
}

/// Sends `request` to a wspeer listener and returns its whole answer.
async fn answer_to(request: &[u8]) -> String {
    let server = TestServer::start(Config::default().max_handshake_head_size(1024)).await;
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(request).await.expect("send");
    within("the server's answer", read_to_end_text(&mut stream)).await
}

/// Checks the status line and that the body is the text its Content-Length says.
fn assert_refusal(response: &str, status: &str, body: &str) {
    let (head, actual_body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no blank line in {response:?}"));
    assert_eq!(
        head.lines().next(),
        Some(format!("HTTP/1.1 {status}").as_str()),
        "{response}"
    );
    assert!(
        head.contains("\r\nContent-Type: text/plain; charset=utf-8"),
        "{response}"
    );
    assert!(
        head.contains(&format!("\r\nContent-Length: {}", actual_body.len())),
        "{response}"
    );
    assert_eq!(actual_body, body, "{response}");
}

#[tokio::test]
async fn plain_http_gets_426_with_a_text_body() {
    let response = answer_to(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert_refusal(
        &response,
        "426 Upgrade Required",
        "this is a WebSocket endpoint: send Upgrade: websocket\n",
    );
    assert!(
        response.contains("\r\nUpgrade: websocket\r\n"),
        "{response}"
    );
}

#[tokio::test]
async fn garbage_gets_400() {
    // Not starting with 0x16: that would look like a TLS ClientHello, which a
    // plain port treats apart.
    let response = answer_to(b"\x00\xff\x13garbage \x01\x02\r\n\r\n").await;
    let status = response.lines().next().unwrap_or_default();
    assert_eq!(status, "HTTP/1.1 400 Bad Request", "{response}");
    assert!(response.contains("malformed HTTP request"), "{response}");
}

#[tokio::test]
async fn post_gets_405() {
    let response = answer_to(b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert_refusal(
        &response,
        "405 Method Not Allowed",
        "a WebSocket upgrade must use GET\n",
    );
}

#[tokio::test]
async fn oversized_request_head_gets_431() {
    let mut request = b"GET / HTTP/1.1\r\nX-Padding: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 2048));
    let response = answer_to(&request).await;
    assert_refusal(
        &response,
        "431 Request Header Fields Too Large",
        "the request head is over 1024 bytes\n",
    );
}

#[tokio::test]
async fn a_client_task_dropped_while_connecting_fails_as_aborted() {
    // A server that takes the TCP connection and never answers the upgrade.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", silent.local_addr().unwrap());
    let (ws, task) = wspeer_core::start_client(&url, Config::default()).unwrap();
    let running = tokio::spawn(task);
    let _held = within("the TCP connection", silent.accept()).await.unwrap();
    running.abort();
    let _ = running.await;
    let result = within("opened() to give up", ws.opened()).await;
    assert!(matches!(result, Err(ConnectError::Aborted)), "{result:?}");
    assert!(
        matches!(ws.connect_error(), Some(ConnectError::Aborted)),
        "{:?}",
        ws.connect_error()
    );
}

#[tokio::test]
async fn a_server_whose_response_head_never_ends_is_refused_at_the_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        read_head(&mut stream).await;
        // A status line, then headers for ever: the client must stop reading.
        let mut head = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        loop {
            if let Err(e) = stream.write_all(&head).await {
                return e;
            }
            head = b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec();
        }
    });
    let config = Config::default().max_handshake_head_size(1024);
    let result = within("the attempt", connect_with(&url, config)).await;
    match result {
        Err(ConnectError::MalformedHead(reason)) => {
            assert_eq!(reason, "the server's response head is over 1024 bytes");
        }
        other => panic!("expected MalformedHead, got {other:?}"),
    }
    // The client hung up instead of reading on, so the endless writes fail.
    within("the server's writes to fail", server)
        .await
        .expect("join");
}
