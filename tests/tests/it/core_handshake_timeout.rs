//! `handshake_timeout` on both sides: a server drops clients that never finish
//! their request (silent or trickling) while serving others, and a client gives up
//! on a server that never answers.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wspeer_core::{Config, ConnectError, Message, connect_with};
use wspeer_tests::{server::TestServer, within};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(300);

/// Connects and sends nothing; returns what the first read gives.
async fn silent_client(addr: std::net::SocketAddr) -> std::io::Result<usize> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 256];
    stream.read(&mut buf).await
}

/// Sends the start of a request one byte every 100 ms, more often than the
/// timeout: only a limit on the whole handshake, not an idle limit, stops it.
/// Returns once the server has dropped the connection.
async fn trickling_client(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut buf = [0u8; 256];
    for byte in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle() {
        if stream.write_all(&[*byte]).await.is_err() {
            return; // The server is gone (broken pipe or reset).
        }
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0)) => return,
            // Bytes we wrote after the server closed make its kernel answer
            // with a reset, which may overtake the EOF.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Ok(Ok(n)) => panic!(
                "unexpected answer: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Ok(Err(e)) => panic!("unexpected error: {e}"),
        }
    }
}

#[tokio::test]
async fn server_drops_silent_and_trickling_clients_and_serves_others() {
    let mut server =
        TestServer::start(Config::default().handshake_timeout(HANDSHAKE_TIMEOUT)).await;
    let addr = server.addr();
    let silent = tokio::spawn(silent_client(addr));
    let trickling = tokio::spawn(trickling_client(addr));

    // Meanwhile a normal client connects and talks.
    let client = within(
        "a normal client to connect",
        connect_with(&server.url("/"), Config::default()),
    )
    .await
    .expect("connect while others stall");
    let mut ws = server.accept().await;
    client.send("hello").await.expect("send");
    assert_eq!(
        within("the message", ws.recv()).await,
        Some(Message::text("hello"))
    );

    let silent = within("the silent client to be dropped", silent)
        .await
        .expect("task");
    assert_eq!(
        silent.expect("a clean EOF"),
        0,
        "the server must close without answering"
    );
    within("the trickling client to be dropped", trickling)
        .await
        .expect("task");
    // Neither of them was handed to the application.
    client.close(1000, "").expect("close");
    assert_eq!(within("close", ws.closed()).await.code, 1000);
}

#[tokio::test]
async fn client_gives_up_on_a_server_that_never_answers() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    // Accept and hold the connection, reading the request but never answering.
    let silent_server = tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    });
    let result = within(
        "the client to give up",
        connect_with(&url, Config::default().handshake_timeout(HANDSHAKE_TIMEOUT)),
    )
    .await;
    assert!(
        matches!(result, Err(ConnectError::Timeout(limit)) if limit == HANDSHAKE_TIMEOUT),
        "{result:?}"
    );
    // Giving up closed the TCP connection, which ends the silent server.
    within("the client to drop TCP", silent_server)
        .await
        .expect("task");
}
