//! Hostile clients during the opening handshake: hundreds of requests
//! that never finish, garbage, plain HTTP, heads over the size or header-count
//! limit. Each is dropped or refused with a clear HTTP status and a text body,
//! then the socket is closed, and the same server keeps serving a normal client.
//!
//! The single refusals with their exact bodies are in `core_connect_errors.rs`;
//! these tests add the limits' exact boundaries, many clients at once, and that
//! the server keeps serving.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use wspeer_core::Config;
use wspeer_tests::{
    probe::raise_fd_limit,
    raw_http::{Ending, Response, read_head, read_response, upgrade_request},
    server::TestServer,
    within,
};

/// Clients that trickle their request at once against one listener.
const SLOW_CLIENTS: usize = 500;

/// Sends an endless request head, one byte a second, until the server drops the
/// connection (EOF, or a reset when a byte crossed the server's close). Reports
/// on `ready` once connected and the first byte is out. Panics if the server
/// answers anything: a handshake that never finished must not get a response.
async fn trickle(addr: SocketAddr, ready: mpsc::UnboundedSender<()>) {
    let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut buf = [0u8; 256];
    for (written, byte) in request.iter().cycle().enumerate() {
        if stream.write_all(&[*byte]).await.is_err() {
            // Broken pipe or reset: the server is gone.
            return;
        }
        if written == 0 {
            let _ = ready.send(());
        }
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0)) => return,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Ok(Ok(n)) => panic!(
                "the server answered an unfinished handshake: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Ok(Err(e)) => panic!("unexpected read error: {e}"),
        }
    }
    unreachable!("the request never ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_never_ending_handshakes_are_dropped_at_the_timeout_while_others_are_served() {
    // Both ends of every connection live in this process.
    raise_fd_limit(2 * SLOW_CLIENTS as u64 + 512);
    let mut server =
        TestServer::start(Config::default().handshake_timeout(Duration::from_secs(1))).await;
    let addr = server.addr();

    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| tokio::spawn(trickle(addr, ready_tx.clone())))
        .collect();
    drop(ready_tx);
    within(
        "every slow client to connect and start its request",
        async {
            for _ in 0..SLOW_CLIENTS {
                ready
                    .recv()
                    .await
                    .expect("a slow client failed before it started");
            }
        },
    )
    .await;

    // All 500 handshakes are pending now (or being dropped): a normal client
    // connects and talks meanwhile.
    server.assert_serves().await;

    // Every slow client is dropped: the timeout counts from the start of the
    // connection, so a byte a second does not keep it alive.
    for (i, task) in slow.into_iter().enumerate() {
        let what = format!("slow client {i} to be dropped");
        within(&what, task).await.expect("slow client task");
    }
    // None of them was ever handed to the application, and the server still
    // serves.
    assert!(
        server.try_accept().is_none(),
        "an unfinished handshake was accepted"
    );
    server.assert_serves().await;
}

/// Checks a refusal: the status line, a `text/plain` body containing `body`, and
/// the connection closed with `ending` after it.
fn assert_refused(what: &str, response: &Response, status: &str, body: &str, ending: Ending) {
    assert_eq!(
        response.head.first_line(),
        format!("HTTP/1.1 {status}"),
        "{what}: {response:?}"
    );
    assert_eq!(
        response.head.header("content-type"),
        ["text/plain; charset=utf-8"],
        "{what}: {response:?}"
    );
    assert!(response.body.contains(body), "{what}: {response:?}");
    assert_eq!(response.ending, ending, "{what}: {response:?}");
}

/// Sends `request` on a new connection and reads the whole answer.
async fn send_raw(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
    // The server may refuse (and close) before it has read everything.
    let _ = stream.write_all(request).await;
    within("the server's answer", read_response(&mut stream)).await
}

/// Sends `request`, expects `101 Switching Protocols`, and takes the accepted
/// connection off the server.
async fn assert_upgraded(server: &mut TestServer, request: &[u8]) {
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(request).await.expect("send the request");
    let head = within("the 101 response", read_head(&mut stream)).await;
    assert_eq!(head.first_line(), "HTTP/1.1 101 Switching Protocols");
    let ws = server.accept().await;
    assert_eq!(ws.peer_addr(), stream.local_addr().ok());
}

/// A valid upgrade request with `extra` headers: five headers of its own.
fn request_with(extra: &[(String, String)]) -> Vec<u8> {
    let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    upgrade_request("127.0.0.1", "/", &extra).into_bytes()
}

/// `count` headers in all (the request's own five included).
fn request_with_headers(count: usize) -> Vec<u8> {
    let extra: Vec<_> = (5..count)
        .map(|i| (format!("H{i}"), "v".to_owned()))
        .collect();
    let request = request_with(&extra);
    let lines = String::from_utf8_lossy(&request).matches("\r\n").count();
    // Request line, headers, blank line.
    assert_eq!(lines, count + 2, "the request has {count} headers");
    request
}

/// A valid upgrade request whose head is exactly `size` bytes, blank line
/// included.
fn request_of_size(size: usize) -> Vec<u8> {
    let base = request_with(&[("X-Pad".to_owned(), String::new())]).len();
    let pad = "p".repeat(size - base);
    let request = request_with(&[("X-Pad".to_owned(), pad)]);
    assert_eq!(request.len(), size);
    request
}

#[tokio::test]
async fn sixty_four_headers_are_accepted_and_sixty_five_get_431() {
    let mut server = TestServer::start(Config::default()).await;
    assert_upgraded(&mut server, &request_with_headers(64)).await;
    let response = send_raw(server.addr(), &request_with_headers(65)).await;
    assert_refused(
        "65 headers",
        &response,
        "431 Request Header Fields Too Large",
        "more than 64 headers",
        Ending::Eof,
    );
    // Far more headers than the limit, still under the byte limit.
    let response = send_raw(server.addr(), &request_with_headers(500)).await;
    assert!(request_with_headers(500).len() < 8192);
    assert_refused(
        "500 headers",
        &response,
        "431 Request Header Fields Too Large",
        "more than 64 headers",
        Ending::Eof,
    );
    server.assert_serves().await;
}

#[tokio::test]
async fn head_of_exactly_the_limit_is_accepted_and_one_byte_more_gets_431() {
    let mut server = TestServer::start(Config::default()).await;
    assert_eq!(Config::default().max_handshake_head_size, 8192);
    assert_upgraded(&mut server, &request_of_size(8192)).await;
    let response = send_raw(server.addr(), &request_of_size(8193)).await;
    // The server read the whole head before refusing it: a clean EOF follows.
    assert_refused(
        "8193 bytes",
        &response,
        "431 Request Header Fields Too Large",
        "the request head is over 8192 bytes",
        Ending::Eof,
    );
    // The same with a limit of our own.
    let mut server = TestServer::start(Config::default().max_handshake_head_size(1000)).await;
    assert_upgraded(&mut server, &request_of_size(1000)).await;
    let response = send_raw(server.addr(), &request_of_size(1001)).await;
    assert_refused(
        "1001 bytes",
        &response,
        "431 Request Header Fields Too Large",
        "the request head is over 1000 bytes",
        Ending::Eof,
    );
    server.assert_serves().await;
}

#[tokio::test]
async fn garbage_that_never_ends_its_head_gets_400_at_once() {
    // Bytes that cannot begin an HTTP request (a method is a token) and no blank
    // line. Nothing can turn them into a request, so the server can refuse at
    // once (httparse says so on a partial head). A server that waits for the end
    // of the head instead holds the connection until the handshake timeout and
    // then drops it without a word. The timeout here is longer than the test's
    // bounded wait, so only an answer at once passes.
    let mut server =
        TestServer::start(Config::default().handshake_timeout(Duration::from_secs(60))).await;
    let response = send_raw(server.addr(), b"\x00\xff\x13garbage \x01\x02 more garbage").await;
    assert_refused(
        "garbage",
        &response,
        "400 Bad Request",
        "malformed HTTP request",
        Ending::Eof,
    );
    server.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_side_by_side_are_refused_and_the_server_keeps_serving() {
    let mut server = TestServer::start(Config::default()).await;
    let addr = server.addr();
    let mut oversized = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    oversized.extend(std::iter::repeat_n(b'a', 16 * 1024));
    oversized.extend_from_slice(b"\r\n\r\n");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "garbage",
            b"\x00\xff\x13garbage \x01\x02\r\n\r\n".to_vec(),
            "400 Bad Request",
            "malformed HTTP request",
        ),
        (
            "plain HTTP",
            b"GET /index.html HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n".to_vec(),
            "426 Upgrade Required",
            "send Upgrade: websocket",
        ),
        (
            "HTTP/1.0",
            b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            "400 Bad Request",
            "HTTP/1.1",
        ),
        (
            "oversized head",
            oversized,
            "431 Request Header Fields Too Large",
            "over 8192 bytes",
        ),
        (
            "too many headers",
            request_with_headers(100),
            "431 Request Header Fields Too Large",
            "more than 64 headers",
        ),
    ];
    // Ten of each at once.
    let mut tasks = Vec::new();
    for round in 0..10 {
        for (name, request, status, body) in &cases {
            let (name, request, status, body) = (*name, request.clone(), *status, *body);
            tasks.push(tokio::spawn(async move {
                let response = send_raw(addr, &request).await;
                // The server stops reading at its limit and closes with the rest
                // of an oversized head unread, which the kernel turns into a
                // reset after the response; every other request is read whole.
                let ending = if name == "oversized head" && response.ending == Ending::Reset {
                    Ending::Reset
                } else {
                    Ending::Eof
                };
                let what = format!("{name} (round {round})");
                assert_refused(&what, &response, status, body, ending);
            }));
        }
    }
    server.assert_serves().await;
    for task in tasks {
        within("a refused client", task)
            .await
            .expect("refused client task");
    }
    assert!(
        server.try_accept().is_none(),
        "a refused request was accepted"
    );
    server.assert_serves().await;
}

#[tokio::test]
async fn an_upgrade_without_host_gets_400() {
    let mut server = TestServer::start(Config::default()).await;
    let request = upgrade_request("127.0.0.1", "/", &[]).replace("Host: 127.0.0.1\r\n", "");
    let response = send_raw(server.addr(), request.as_bytes()).await;
    assert_refused(
        "no Host",
        &response,
        "400 Bad Request",
        "missing Host header",
        Ending::Eof,
    );
    let twice = upgrade_request("127.0.0.1", "/", &[("Host", "evil.example")]);
    let response = send_raw(server.addr(), twice.as_bytes()).await;
    assert_refused(
        "two Hosts",
        &response,
        "400 Bad Request",
        "more than one Host header",
        Ending::Eof,
    );
    server.assert_serves().await;
}

#[tokio::test]
async fn a_page_from_another_site_gets_403_and_the_servers_own_pages_are_upgraded() {
    let config = Config::default().allowed_origins(["https://app.example"]);
    let mut server = TestServer::start(config).await;
    let host = server.addr().to_string();
    let cross_site = upgrade_request(&host, "/", &[("Origin", "https://evil.example")]);
    let response = send_raw(server.addr(), cross_site.as_bytes()).await;
    assert_refused(
        "cross-site page",
        &response,
        "403 Forbidden",
        "origin \"https://evil.example\" may not open a WebSocket here",
        Ending::Eof,
    );
    let own_page = format!("http://{host}");
    for origin in [own_page.as_str(), "https://app.example"] {
        let request = upgrade_request(&host, "/", &[("Origin", origin)]);
        assert_upgraded(&mut server, request.as_bytes()).await;
    }
    // Programs that send no Origin (Godot, Python) are not pages.
    assert_upgraded(&mut server, upgrade_request(&host, "/", &[]).as_bytes()).await;
    assert!(
        server.try_accept().is_none(),
        "the refused page got through"
    );
}
