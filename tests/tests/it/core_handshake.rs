//! The opening handshake: subprotocol negotiation by Godot's rule, custom headers
//! both ways, and what each side learns about the other.

use tokio::{io::AsyncWriteExt, net::TcpListener, net::TcpStream};
use wspeer_core::{Config, ConnectError, connect_with};
use wspeer_tests::{
    raw_http::{SAMPLE_ACCEPT, raw_server_handshake, read_head, read_to_end_text, upgrade_request},
    server::TestServer,
    within,
};

#[tokio::test]
async fn subprotocol_follows_the_clients_order() {
    let mut server = TestServer::start(Config::default().supported_protocols(["b", "a"])).await;
    let client = within(
        "the client to connect",
        connect_with(
            &server.url("/"),
            Config::default().supported_protocols(["c", "a", "b"]),
        ),
    )
    .await
    .expect("connect");
    let ws = server.accept().await;
    assert_eq!(client.info().selected_protocol, "a");
    assert_eq!(ws.info().selected_protocol, "a");
}

#[tokio::test]
async fn subprotocol_mismatch_is_refused_with_http_400() {
    let server = TestServer::start(Config::default().supported_protocols(["x-chat"])).await;
    let result = within(
        "the attempt",
        connect_with(
            &server.url("/"),
            Config::default().supported_protocols(["y-chat"]),
        ),
    )
    .await;
    // The server refuses before any 101, so this is a rejection carrying the
    // status and the server's explanation, not a ProtocolMismatch.
    let Err(ConnectError::Rejected {
        status: 400, body, ..
    }) = result
    else {
        panic!("expected ConnectError::Rejected with 400, got {result:?}");
    };
    assert_eq!(
        body,
        "no supported subprotocol: the client offered [y-chat], the server accepts [x-chat]"
    );
}

#[tokio::test]
async fn client_without_subprotocol_is_refused_by_a_server_that_requires_one() {
    let server = TestServer::start(Config::default().supported_protocols(["x-chat"])).await;
    let result = within(
        "the attempt",
        connect_with(&server.url("/"), Config::default()),
    )
    .await;
    let Err(ConnectError::Rejected {
        status: 400, body, ..
    }) = result
    else {
        panic!("expected ConnectError::Rejected with 400, got {result:?}");
    };
    assert!(body.contains("the client offered []"), "{body}");
}

#[tokio::test]
async fn client_subprotocol_is_refused_by_a_server_that_has_none() {
    // Godot's rule: an offer the server cannot match is refused, even when the
    // server has no protocols at all.
    let server = TestServer::start(Config::default()).await;
    let result = within(
        "the attempt",
        connect_with(
            &server.url("/"),
            Config::default().supported_protocols(["x-chat"]),
        ),
    )
    .await;
    let Err(ConnectError::Rejected { status: 400, .. }) = result else {
        panic!("expected ConnectError::Rejected with 400, got {result:?}");
    };
}

/// A raw server that answers 101 with `extra` headers; returns the URL.
async fn raw_server_answering(extra: &'static [(&'static str, &'static str)]) -> String {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        raw_server_handshake(&mut stream, extra).await;
        // Hold the socket until the client gives up.
        let _ = read_to_end_text(&mut stream).await;
    });
    url
}

#[tokio::test]
async fn server_that_ignores_the_offered_subprotocol_is_a_protocol_mismatch() {
    let url = raw_server_answering(&[]).await;
    let result = within(
        "the attempt",
        connect_with(&url, Config::default().supported_protocols(["x-chat"])),
    )
    .await;
    let Err(error @ ConnectError::ProtocolMismatch(_)) = result else {
        panic!("expected ConnectError::ProtocolMismatch, got {result:?}");
    };
    assert_eq!(
        error.to_string(),
        "subprotocol mismatch: the server chose no subprotocol; we offered [x-chat]"
    );
}

#[tokio::test]
async fn server_that_picks_an_unoffered_subprotocol_is_a_protocol_mismatch() {
    let url = raw_server_answering(&[("Sec-WebSocket-Protocol", "other")]).await;
    let result = within(
        "the attempt",
        connect_with(&url, Config::default().supported_protocols(["x-chat"])),
    )
    .await;
    let Err(error @ ConnectError::ProtocolMismatch(_)) = result else {
        panic!("expected ConnectError::ProtocolMismatch, got {result:?}");
    };
    assert_eq!(
        error.to_string(),
        "subprotocol mismatch: the server chose \"other\"; we offered [x-chat]"
    );
}

#[tokio::test]
async fn server_that_picks_a_subprotocol_none_was_offered_is_a_protocol_mismatch() {
    let url = raw_server_answering(&[("Sec-WebSocket-Protocol", "other")]).await;
    let result = within("the attempt", connect_with(&url, Config::default())).await;
    let Err(error @ ConnectError::ProtocolMismatch(_)) = result else {
        panic!("expected ConnectError::ProtocolMismatch, got {result:?}");
    };
    assert_eq!(
        error.to_string(),
        "subprotocol mismatch: the server chose \"other\" but we offered none"
    );
}

#[tokio::test]
async fn client_sends_its_custom_headers_and_protocols() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("address");
    let config = Config::default()
        .handshake_header("X-Game-Token", "abc 123")
        .supported_protocols(["p1", "p2"]);
    let url = format!("ws://{addr}/lobby?room=7");
    let attempt = tokio::spawn(async move { connect_with(&url, config).await });

    let (mut stream, _) = within("the client's TCP connection", tcp.accept())
        .await
        .expect("accept");
    let request = within("the upgrade request", read_head(&mut stream)).await;
    assert_eq!(request.first_line(), "GET /lobby?room=7 HTTP/1.1");
    assert_eq!(request.header("host"), [addr.to_string()]);
    assert_eq!(request.header("x-game-token"), ["abc 123"]);
    // Joined with "," and no space, as Godot sends it.
    assert_eq!(request.header("sec-websocket-protocol"), ["p1,p2"]);
    assert_eq!(request.header("sec-websocket-version"), ["13"]);
    drop(stream);
    let result = within("the attempt to fail", attempt).await.expect("task");
    assert!(
        result.is_err(),
        "the request was never answered: {result:?}"
    );
}

#[tokio::test]
async fn server_sends_its_custom_headers() {
    let config = Config::default()
        .handshake_header("X-Server", "wspeer")
        .supported_protocols(["p2"]);
    let mut server = TestServer::start(config).await;
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let request = upgrade_request(
        "example.com:8080",
        "/chat?x=1",
        &[("Sec-WebSocket-Protocol", "p1, p2")],
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");

    let response = within("the 101 response", read_head(&mut stream)).await;
    assert_eq!(response.first_line(), "HTTP/1.1 101 Switching Protocols");
    assert_eq!(response.header("x-server"), ["wspeer"]);
    assert_eq!(response.header("sec-websocket-accept"), [SAMPLE_ACCEPT]);
    assert_eq!(response.header("sec-websocket-protocol"), ["p2"]);
    assert_eq!(response.header("upgrade"), ["websocket"]);
    assert_eq!(response.header("connection"), ["Upgrade"]);

    // Godot builds the server's requested URL from the Host header and target.
    let ws = server.accept().await;
    let info = ws.info();
    assert_eq!(info.requested_url, "ws://example.com:8080/chat?x=1");
    assert_eq!(info.selected_protocol, "p2");
    assert_eq!(info.peer_addr, Some(stream.local_addr().expect("address")));
    assert_eq!(info.local_addr, Some(server.addr()));
}

#[tokio::test]
async fn client_reports_the_url_as_given_and_both_addresses() {
    let mut server = TestServer::start(Config::default()).await;
    let url = format!("{}#fragment", server.url("/path?q=1"));
    let client = within(
        "the client to connect",
        connect_with(&url, Config::default()),
    )
    .await
    .expect("connect");
    let ws = server.accept().await;
    let info = client.info();
    assert_eq!(info.requested_url, url);
    assert_eq!(info.selected_protocol, "");
    assert_eq!(info.peer_addr, Some(server.addr()));
    assert_eq!(info.local_addr, ws.peer_addr());
    assert_eq!(ws.info().requested_url, server.url("/path?q=1"));
}
