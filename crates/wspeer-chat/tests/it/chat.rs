//! The chat server end to end, over real sockets: the demo's protocol, the
//! commands, the web endpoints, every limit, graceful shutdown, and 500 clients.

#![allow(clippy::unwrap_used)] // test code

use std::{collections::HashSet, time::Duration};

use crate::support::{Node, WAIT, eventually, next_text, send, wait_for};
use tokio::{io::AsyncWriteExt, net::TcpStream, time::timeout};
use wspeer_chat::ChatConfig;
use wspeer_core::{Config, ConnectError, Message, WebSocket};

/// A client, and its id as the others were told (`[id] connected`).
async fn client_seen_by(chat: &Node, watcher: &mut WebSocket) -> (WebSocket, String) {
    let ws = chat.client().await;
    let line = next_text(watcher).await;
    let id = line
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix("] connected"))
        .unwrap_or_else(|| panic!("not a connect line: {line:?}"))
        .to_owned();
    (ws, id)
}

#[tokio::test]
async fn the_demo_protocol_exactly() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let mut a = chat.client().await;
    let (mut b, b_id) = client_seen_by(&chat, &mut a).await;
    assert_eq!(a.info().selected_protocol, "demo-chat");
    send(&a, "hello").await;
    let line = next_text(&mut b).await;
    let a_id = line
        .strip_prefix('[')
        .and_then(|l| l.split_once(']'))
        .unwrap()
        .0
        .to_owned();
    assert_eq!(line, format!("[{a_id}] Says: hello"));
    chat.server.hub().server_says("welcome");
    assert_eq!(next_text(&mut a).await, "Server says: welcome");
    assert_eq!(next_text(&mut b).await, "Server says: welcome");
    b.close(1000, "").unwrap();
    // No echo of "hello" came to A: its next line is B leaving.
    assert_eq!(next_text(&mut a).await, format!("[{b_id}] disconnected"));
}

#[tokio::test]
async fn a_client_without_the_subprotocol_is_told_why() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let err = wspeer_core::connect(&chat.url()).await.unwrap_err();
    let ConnectError::Rejected {
        status: 400, body, ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(body.contains("demo-chat"), "{body}");
}

#[tokio::test]
async fn web_page_health_and_metrics() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let page = chat.http_get("/").await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("text/html") && page.contains("<script src=\"chat.js\">"));
    let script = chat.http_get("/chat.js").await;
    assert!(
        script.contains("new WebSocket(target, \"demo-chat\")"),
        "{script}"
    );
    assert!(chat.http_get("/healthz").await.ends_with("\r\n\r\nok\n"));
    assert!(chat.http_get("/nowhere").await.starts_with("HTTP/1.1 404"));
    let mut a = chat.client().await;
    let (b, _) = client_seen_by(&chat, &mut a).await;
    send(&b, "counted").await;
    next_text(&mut a).await;
    let metrics = chat.http_get("/metrics").await;
    assert!(metrics.contains("wspeer_chat_connections 2\n"), "{metrics}");
    assert!(
        metrics.contains("wspeer_chat_messages_in_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE wspeer_chat_refused_total counter"),
        "{metrics}"
    );
}

#[tokio::test]
async fn nick_join_who_and_history() {
    let mut config = ChatConfig::default();
    config.history = 2;
    let chat = Node::start_with(config).await;
    let mut a = chat.client().await;
    let (mut b, b_id) = client_seen_by(&chat, &mut a).await;
    send(&a, "/nick Alice").await;
    assert_eq!(next_text(&mut a).await, "You are now [Alice]");
    assert!(next_text(&mut b).await.ends_with("] is now [Alice]"));
    send(&b, "/nick Alice").await;
    assert_eq!(next_text(&mut b).await, "Nickname Alice is taken");
    for text in ["one", "two", "three"] {
        send(&a, text).await;
        assert_eq!(next_text(&mut b).await, format!("[Alice] Says: {text}"));
    }
    send(&a, "/who").await;
    let who = next_text(&mut a).await;
    assert!(
        who.starts_with("In lobby: ")
            && who.contains("[Alice]")
            && who.contains(&format!("[{b_id}]")),
        "{who}"
    );
    // A newcomer gets the last two messages of the room.
    let mut c = chat.client().await;
    assert_eq!(next_text(&mut c).await, "[Alice] Says: two");
    assert_eq!(next_text(&mut c).await, "[Alice] Says: three");
    // Rooms keep their talk apart.
    send(&c, "/join games").await;
    assert_eq!(next_text(&mut c).await, "You are in games");
    send(&a, "lobby only").await;
    send(&c, "/who").await;
    let who = next_text(&mut c).await;
    assert!(
        who.starts_with("In games: [") && !who.contains("Alice"),
        "{who}"
    );
    send(&a, "/dance").await;
    let help = wait_for(&mut a, |l| l.starts_with("Commands")).await;
    assert_eq!(help, "Commands: /nick NAME, /join ROOM, /who");
}

#[tokio::test]
async fn oversized_messages_close_with_1009() {
    let mut config = ChatConfig::default();
    config.max_message_size = 100;
    let chat = Node::start_with(config).await;
    let mut a = chat.client().await;
    let (b, _) = client_seen_by(&chat, &mut a).await;
    send(&b, &"x".repeat(101)).await;
    let status = timeout(WAIT, b.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (1009, "Message too big")
    );
}

#[tokio::test]
async fn flooding_closes_with_1008_and_others_go_on() {
    let mut config = ChatConfig::default();
    config.rate_per_second = 5.0;
    config.rate_burst = 5.0;
    let chat = Node::start_with(config).await;
    let mut a = chat.client().await;
    let (flooder, _) = client_seen_by(&chat, &mut a).await;
    for i in 0..50 {
        let _ = flooder.try_send(Message::text(format!("spam {i}")));
    }
    let status = timeout(WAIT, flooder.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (1008, "rate limit exceeded")
    );
    let _c = chat.client().await;
    wait_for(&mut a, |l| l.ends_with("] connected")).await;
    let metrics = chat.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_rate_limited_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_full_server_answers_503_before_upgrading() {
    let mut config = ChatConfig::default();
    config.max_connections = 2;
    let chat = Node::start_with(config).await;
    let mut a = chat.client().await;
    let (_b, _) = client_seen_by(&chat, &mut a).await;
    let config = Config::default().supported_protocols(["demo-chat"]);
    let err = wspeer_core::connect_with(&chat.url(), config)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("503") && err.to_string().contains("server full"),
        "{err}"
    );
}

#[tokio::test]
async fn a_slow_reader_is_closed_and_nobody_waits() {
    let mut config = ChatConfig::default();
    config.send_queue = 16;
    config.rate_per_second = 10_000.0;
    config.rate_burst = 10_000.0;
    let chat = Node::start_with(config).await;
    // A raw client that completes the handshake and then never reads.
    let mut slow = TcpStream::connect(("127.0.0.1", chat.port)).await.unwrap();
    slow.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Protocol: demo-chat\r\n\r\n",
    )
    .await
    .unwrap();
    let mut a = chat.client().await;
    let (mut b, _) = client_seen_by(&chat, &mut a).await;
    let big = "y".repeat(4000);
    // Enough to fill the kernel buffers and then the slow client's queue.
    for i in 0..2000 {
        send(&a, &format!("{i} {big}")).await;
        let line = next_text(&mut b).await;
        assert!(line.contains(&format!("Says: {i} ")), "B lost message {i}");
        if chat
            .server
            .metrics()
            .dropped_slow
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
        {
            break;
        }
    }
    assert_eq!(
        chat.server
            .metrics()
            .dropped_slow
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    drop(slow);
}

#[tokio::test]
async fn shutdown_closes_everyone_with_1001() {
    let mut chat = Node::start_with(ChatConfig::default()).await;
    let a = chat.client().await;
    let b = chat.client().await;
    chat.stop();
    for ws in [&a, &b] {
        let status = timeout(WAIT, ws.closed()).await.unwrap();
        assert_eq!(
            (status.code, status.reason.as_str()),
            (1001, "server shutting down")
        );
    }
    timeout(WAIT, chat.task).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_clients_in_one_room() {
    const CLIENTS: usize = 500;
    let mut config = ChatConfig::default();
    config.send_queue = 4096;
    let chat = Node::start_with(config).await;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(chat.client().await);
    }
    let hub = chat.server.hub().clone();
    eventually("every client in the room", || match hub.member_count() {
        n if n >= CLIENTS => Ok(()),
        n => Err(format!("{n} members")),
    })
    .await;
    // Each client sends one message with its index and collects everyone else's.
    let mut tasks = Vec::new();
    for (index, mut ws) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            ws.send(Message::text(format!("from {index}")))
                .await
                .unwrap();
            let mut seen = HashSet::new();
            while seen.len() < CLIENTS - 1 {
                let text = next_text(&mut ws).await;
                if let Some((_, body)) = text.split_once("] Says: from ") {
                    let sender: usize = body.parse().unwrap();
                    assert_ne!(sender, index, "an echo of its own message");
                    assert!(seen.insert(sender), "message from {sender} twice");
                }
            }
            ws
        }));
    }
    for task in tasks {
        timeout(Duration::from_secs(120), task)
            .await
            .unwrap()
            .unwrap();
    }
}

/// A value of the Prometheus text `metrics`.
fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

/// A client offering permessage-deflate, as browsers do.
async fn compressing_client(chat: &Node) -> WebSocket {
    let config = Config::default()
        .supported_protocols(["demo-chat"])
        .permessage_deflate(wspeer_core::DeflateConfig::default());
    timeout(WAIT, wspeer_core::connect_with(&chat.url(), config))
        .await
        .unwrap()
        .unwrap()
}

/// Clients that offer permessage-deflate get it (demo clients, which offer
/// nothing, see no change), and `/metrics` shows what it saved.
#[tokio::test]
async fn compression_with_clients_that_offer_it_shown_in_metrics() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let mut plain = chat.client().await;
    assert_eq!(plain.info().compression, None);
    let mut browser = compressing_client(&chat).await;
    let params = browser.info().compression.expect("compression agreed");
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    let browser_id = next_text(&mut plain).await;
    let browser_id = browser_id.strip_suffix(" connected").unwrap().to_owned();

    let line = "meet me at the north gate at nine, bring the map and the lantern. ".repeat(20);
    send(&plain, &line).await;
    let said = wait_for(&mut browser, |l| l.ends_with("lantern. ")).await;
    assert!(said.ends_with(&line), "{said}");
    send(&browser, &line).await;
    assert_eq!(
        next_text(&mut plain).await,
        format!("{browser_id} Says: {line}")
    );

    let metrics = chat.http_get("/metrics").await;
    let payload = metric(&metrics, "wspeer_chat_compressed_payload_bytes_out_total");
    let wire = metric(&metrics, "wspeer_chat_compressed_wire_bytes_out_total");
    assert!(metric(&metrics, "wspeer_chat_compressed_messages_out_total") >= 1);
    assert!(
        payload >= line.len() as u64 && wire * 4 < payload,
        "{payload} -> {wire}"
    );
    assert!(metric(&metrics, "wspeer_chat_compressed_messages_in_total") >= 1);
}

#[tokio::test]
async fn compression_can_be_turned_off() {
    let mut config = ChatConfig::default();
    config.compression = None;
    let chat = Node::start_with(config).await;
    let browser = compressing_client(&chat).await;
    assert_eq!(browser.info().compression, None);
}
