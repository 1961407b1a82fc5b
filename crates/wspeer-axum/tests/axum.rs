//! `wspeer_axum::WebSocketUpgrade` in a real axum app over real sockets:
//! accepted and refused upgrades, Godot's subprotocol rule, the limits, and
//! peers no one here wrote (Python's `websockets`, a real Godot 3 client).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use axum::{Router, response::Response, routing::get};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use wspeer_axum::WebSocketUpgrade;
use wspeer_core::{Config, ConnectError, Message, SendError};
use wspeer_testkit::godot::{Godot, godot};
use wspeer_tests::{
    python::{PythonProcess, interpreter},
    raw_http::upgrade_request,
    within,
};

/// An axum app on 127.0.0.1:0: `/` plain HTTP, `/ws` an echo with `config`,
/// `/flood` sending to a client that may not read; returns its address.
async fn app(config: Config) -> SocketAddr {
    let echo_config = config.clone();
    let app = Router::new()
        .route("/", get(|| async { "plain http\n" }))
        .route(
            "/ws",
            get(move |upgrade: WebSocketUpgrade| {
                let config = echo_config.clone();
                async move { echo(upgrade, config) }
            }),
        )
        .route(
            "/flood",
            get(move |upgrade: WebSocketUpgrade| {
                let config = config.clone();
                async move { flood(upgrade, config) }
            }),
        );
    let listener = wspeer_core::bind_tcp("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("axum serves") });
    addr
}

fn echo(upgrade: WebSocketUpgrade, config: Config) -> Response {
    upgrade.config(config).on_upgrade(|mut ws| async move {
        while let Some(message) = ws.recv().await {
            if ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

/// Sends 1 KiB messages until the queue is full, then says how many it took.
fn flood(upgrade: WebSocketUpgrade, config: Config) -> Response {
    upgrade.config(config).on_upgrade(|ws| async move {
        let mut queued = 0;
        loop {
            match ws.try_send(Message::binary(vec![0; 1024])) {
                Ok(()) => queued += 1,
                Err(SendError::Full(_)) => break,
                Err(other) => panic!("{other:?}"),
            }
        }
        ws.send(Message::text(format!("queued {queued}")))
            .await
            .expect("the last message, once there is room");
    })
}

async fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    // Refusals close the connection; a 200 keeps it: read what came.
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        stream.read_to_end(&mut response),
    )
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn an_axum_route_upgrades_into_a_wspeer_websocket() {
    let addr = app(Config::default()).await;
    assert!(
        http(
            addr,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .await
        .ends_with("plain http\n")
    );
    let mut ws = within(
        "the upgrade",
        wspeer_core::connect(&format!("ws://{addr}/ws")),
    )
    .await
    .expect("connect");
    for message in [
        Message::text("héllo"),
        Message::binary(vec![9; 100_000 / 2]),
    ] {
        ws.send(message.clone()).await.expect("send");
        assert_eq!(within("the echo", ws.recv()).await, Some(message));
    }
    ws.close(1000, "done").expect("close");
    assert_eq!(within("the close", ws.closed()).await.code, 1000);
}

#[tokio::test]
async fn a_request_that_is_not_a_valid_upgrade_gets_wspeers_status() {
    let addr = app(Config::default()).await;
    let plain = http(
        addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 426"), "{plain}");
    assert!(
        plain.to_ascii_lowercase().contains("upgrade: websocket"),
        "{plain}"
    );
    assert!(plain.contains("send Upgrade: websocket"), "{plain}");
    let host = addr.to_string();
    let old_version = upgrade_request(&host, "/ws", &[]).replace("Version: 13", "Version: 8");
    let refused = http(addr, &old_version).await;
    assert!(refused.starts_with("HTTP/1.1 426"), "{refused}");
    assert!(refused.contains("only WebSocket version 13"), "{refused}");
    let bad_key = upgrade_request(&host, "/ws", &[]).replace("dGhlIHNhbXBsZSBub25jZQ==", "short");
    let refused = http(addr, &bad_key).await;
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
}

#[tokio::test]
async fn the_subprotocol_is_chosen_by_godots_rule_and_the_origin_policy_holds() {
    let addr = app(Config::default()
        .supported_protocols(["b", "a"])
        .allowed_origins(["https://game.example"]))
    .await;
    // The first of the client's protocols that the server supports.
    let ws = wspeer_core::connect_with(
        &format!("ws://{addr}/ws"),
        Config::default().supported_protocols(["c", "a", "b"]),
    )
    .await
    .expect("connect");
    assert_eq!(ws.info().selected_protocol, "a");
    // None in common: 400 with the reason, as wspeer's own server says it.
    let err = wspeer_core::connect_with(
        &format!("ws://{addr}/ws"),
        Config::default().supported_protocols(["z"]),
    )
    .await
    .expect_err("refused");
    let ConnectError::Rejected {
        status: 400, body, ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert!(body.contains("no supported subprotocol"), "{body}");
    let cross_site = upgrade_request(
        &addr.to_string(),
        "/ws",
        &[
            ("Origin", "https://evil.example"),
            ("Sec-WebSocket-Protocol", "a"),
        ],
    );
    let refused = http(addr, &cross_site).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
}

#[tokio::test]
async fn the_limits_hold_on_an_axum_connection() {
    let addr = app(Config::default()
        .inbound_buffer_size(1000)
        .max_queued_packets(16))
    .await;
    // Too big: 1009, as over wspeer's own listener.
    let ws = wspeer_core::connect(&format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    ws.send(Message::binary(vec![0; 1001])).await.expect("send");
    assert_eq!(within("the 1009", ws.closed()).await.code, 1009);
    // A client that does not read: the server's queue stops at its limit.
    let mut slow = wspeer_core::connect(&format!("ws://{addr}/flood"))
        .await
        .expect("connect");
    let mut last = None;
    while let Some(message) = within("the flood", slow.recv()).await {
        if message.is_text() {
            last = message.as_text().map(str::to_owned);
            break;
        }
    }
    assert_eq!(
        last.as_deref(),
        Some("queued 16"),
        "the queue took more than its limit"
    );
}

#[tokio::test]
async fn python_websockets_talks_to_an_axum_route() {
    let Some(python) = interpreter("python_websockets_talks_to_an_axum_route").await else {
        return;
    };
    let addr = app(Config::default()).await;
    let url = format!("ws://{addr}/ws");
    let mut py = PythonProcess::spawn(&python, "echo_client.py", &[&url]);
    assert_eq!(py.next_line("the python client's verdict").await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_godot_3_client_talks_to_an_axum_route() {
    let Some(godot) = godot("a_godot_3_client_talks_to_an_axum_route") else {
        return;
    };
    let addr = app(Config::default().supported_protocols(["demo-chat"])).await;
    let url = format!("ws://{addr}/ws");
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wspeer/tests/godot");
    let lines = tokio::task::spawn_blocking(move || {
        Godot::start(&godot, &project, "client.gd", &[("WSPEER_URL", url)]).finish(|| {})
    })
    .await
    .expect("godot");
    for wanted in [
        "established demo-chat",
        "text hello from godot",
        "binary [1, 2, 3, 250]",
    ] {
        assert!(lines.iter().any(|l| l == wanted), "Godot printed {lines:?}");
    }
}
