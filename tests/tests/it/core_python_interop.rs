//! Interop with Python's `websockets`, a WebSocket implementation no one here
//! wrote: wspeer's client against its server, and its client against wspeer's
//! Listener. Skipped (loudly) when `websockets` is not installed, unless
//! `WSPEER_REQUIRE_INTEROP=1`; see `wspeer_tests::python`.

use wspeer_core::{CloseStatus, Config, DeflateConfig, Message, compression_totals, connect_with};
use wspeer_tests::{
    python::{PythonProcess, interpreter},
    server::TestServer,
    within,
};

fn bye() -> CloseStatus {
    CloseStatus {
        code: 4000,
        reason: "bye".to_owned(),
    }
}

#[tokio::test]
async fn wspeer_client_with_python_server() {
    let Some(python) = interpreter("wspeer_client_with_python_server").await else {
        return;
    };
    let mut py = PythonProcess::spawn(&python, "echo_server.py", &[]);
    let port: u16 = py
        .next_line("its port")
        .await
        .parse()
        .expect("the first line is the port");

    let mut client = within(
        "the client to connect",
        connect_with(&format!("ws://127.0.0.1:{port}/interop"), Config::default()),
    )
    .await
    .expect("connect to the Python server");
    let messages = [
        Message::text("hello from rust"),
        Message::text(""),
        Message::text("héllo ✓"),
        Message::binary(Vec::<u8>::new()),
        Message::binary(vec![0u8, 1, 2, 254, 255]),
        Message::binary((0..65535u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>()),
    ];
    for message in messages {
        client.send(message.clone()).await.expect("send");
        let echo = within("the Python echo", client.recv())
            .await
            .expect("an echo before the connection ends");
        assert_eq!(echo, message);
    }
    client.close(4000, "bye").expect("close");
    assert_eq!(within("the close echo", client.closed()).await, bye());

    assert_eq!(py.next_line("its close report").await, "closed 4000 bye");
    assert_eq!(py.finish().await, Vec::<String>::new());
}

#[tokio::test]
async fn python_client_with_wspeer_server() {
    let Some(python) = interpreter("python_client_with_wspeer_server").await else {
        return;
    };
    let mut server = TestServer::start(Config::default()).await;
    let url = server.url("/interop");
    let py = PythonProcess::spawn(&python, "echo_client.py", &[&url]);

    let mut ws = server.accept().await;
    let mut received = Vec::new();
    while let Some(message) = within("the next message from Python", ws.recv()).await {
        received.push(message.clone());
        ws.send(message).await.expect("echo");
    }
    // The script's own checks first: its stderr explains a failure best.
    assert_eq!(py.finish().await, ["ok"]);
    assert_eq!(ws.close_status(), bye());
    assert_eq!(received, echo_client_messages());
}

/// What `echo_client.py` sends, in order.
fn echo_client_messages() -> Vec<Message> {
    vec![
        Message::text("hello from python"),
        Message::text(""),
        Message::text("héllo ✓"),
        Message::binary(Vec::<u8>::new()),
        Message::binary(vec![0u8, 1, 2, 254, 255]),
        Message::binary((0..200).flat_map(|_| 0..=255u8).collect::<Vec<u8>>()),
        Message::text("alice: are we still meeting at the usual place tonight? ".repeat(300)),
    ]
}

/// Python's client offers permessage-deflate (`client_max_window_bits`, as
/// `websockets` does by default); wspeer's server takes it up as configured,
/// both ways compressed messages arrive whole.
async fn python_client_compressing(test: &str, settings: DeflateConfig, answer: &str) {
    let Some(python) = interpreter(test).await else {
        return;
    };
    let mut server = TestServer::start(Config::default().permessage_deflate(settings)).await;
    let url = server.url("/interop");
    let py = PythonProcess::spawn(&python, "echo_client.py", &[&url, "--deflate"]);

    let mut ws = server.accept().await;
    assert!(ws.info().compression.is_some(), "{:?}", ws.info());
    let before = compression_totals();
    let mut received = Vec::new();
    while let Some(message) = within("the next message from Python", ws.recv()).await {
        received.push(message.clone());
        ws.send(message).await.expect("echo");
    }
    assert_eq!(
        py.finish().await,
        [format!("extension: {answer}"), "ok".into()]
    );
    assert_eq!(received, echo_client_messages());
    let after = compression_totals();
    assert!(
        after.received_messages > before.received_messages,
        "Python compressed"
    );
    assert!(after.sent_messages > before.sent_messages, "we compressed");
}

#[tokio::test]
async fn python_client_with_compressing_wspeer_server() {
    python_client_compressing(
        "python_client_with_compressing_wspeer_server",
        DeflateConfig::default(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    )
    .await;
}

#[tokio::test]
async fn python_client_with_compressing_wspeer_server_keeping_context() {
    python_client_compressing(
        "python_client_with_compressing_wspeer_server_keeping_context",
        DeflateConfig::default()
            .send_context_takeover(true)
            .receive_context_takeover(true)
            .send_window_bits(12)
            .receive_window_bits(10),
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10",
    )
    .await;
}

/// wspeer's client offers permessage-deflate to Python's server (on by
/// default there): compressed messages both ways.
#[tokio::test]
async fn compressing_wspeer_client_with_python_server() {
    let Some(python) = interpreter("compressing_wspeer_client_with_python_server").await else {
        return;
    };
    let mut py = PythonProcess::spawn(&python, "echo_server.py", &[]);
    let port: u16 = py.next_line("its port").await.parse().expect("a port");
    let config = Config::default().permessage_deflate(DeflateConfig::default());
    let mut client = within(
        "the client to connect",
        connect_with(&format!("ws://127.0.0.1:{port}/interop"), config),
    )
    .await
    .expect("connect to the Python server");
    let params = client.info().compression.expect("compression agreed");
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    let before = compression_totals();
    let long = "bob: see you there, I'll bring the maps and the snacks. ".repeat(200);
    for message in [
        Message::text(long),
        Message::text("short"),
        Message::binary(vec![7u8; 5000]),
    ] {
        client.send(message.clone()).await.expect("send");
        let echo = within("the Python echo", client.recv())
            .await
            .expect("an echo");
        assert_eq!(echo, message);
    }
    let after = compression_totals();
    assert!(after.sent_messages >= before.sent_messages + 2);
    assert!(after.received_messages >= before.received_messages + 2);
    client.close(4000, "bye").expect("close");
    assert_eq!(within("the close echo", client.closed()).await, bye());
    assert_eq!(py.next_line("its close report").await, "closed 4000 bye");
    assert_eq!(py.finish().await, Vec::<String>::new());
}

#[tokio::test]
async fn python_client_sending_too_much_gets_1009() {
    let Some(python) = interpreter("python_client_sending_too_much_gets_1009").await else {
        return;
    };
    let mut server = TestServer::start(Config::default().inbound_buffer_size(1024)).await;
    let url = server.url("/");
    let py = PythonProcess::spawn(&python, "oversize_client.py", &[&url, "1025"]);

    let ws = server.accept().await;
    assert_eq!(py.finish().await, ["closed 1009 Message too big"]);
    let closed = within("the server to close", ws.closed()).await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (1009, "Message too big")
    );
}
