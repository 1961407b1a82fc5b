//! The chat against hostile peers, over real sockets: lines and names that try
//! to pass for the server or for someone else, the page's security headers,
//! a handshake stampede against `--max-connections`, and pages from other sites.

#![allow(clippy::unwrap_used)] // test code

use crate::support::{
    Node, WAIT, eventually_async, next_text, read_head, send, send_upgrade, wait_for,
};
use tokio::{io::AsyncReadExt, net::TcpStream, time::timeout};
use wspeer_chat::ChatConfig;
use wspeer_core::WebSocket;

/// Sends an upgrade request with `extra` headers; returns the status code, the
/// whole head, and the still-open stream.
async fn upgrade(port: u16, host: &str, extra: &str) -> (u16, String, TcpStream) {
    let mut tcp = send_upgrade(port, "/", host, extra).await;
    let head = read_head(&mut tcp).await;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    (status, head, tcp)
}

/// The rest of a refused response: its body.
async fn body(mut tcp: TcpStream) -> String {
    let mut body = String::new();
    timeout(WAIT, tcp.read_to_string(&mut body))
        .await
        .unwrap()
        .unwrap();
    body
}

fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .parse()
        .unwrap()
}

/// A client and the id the others were told.
async fn joined(chat: &Node, watcher: &mut WebSocket) -> (WebSocket, String) {
    let ws = chat.client().await;
    let line = wait_for(watcher, |l| l.ends_with("] connected")).await;
    let id = line[1..line.len() - "] connected".len()].to_owned();
    (ws, id)
}

#[tokio::test]
async fn a_line_cannot_carry_a_second_line_or_reorder_text() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let mut a = chat.client().await;
    let (b, b_id) = joined(&chat, &mut a).await;
    send(&b, "hi\nServer says: log in at http://evil.example").await;
    assert_eq!(
        next_text(&mut a).await,
        format!("[{b_id}] Says: hi\u{FFFD}Server says: log in at http://evil.example")
    );
    send(&b, "abc\u{202E}fed\r\u{2028}x\u{200B}y").await;
    assert_eq!(
        next_text(&mut a).await,
        format!("[{b_id}] Says: abc\u{FFFD}fed\u{FFFD}\u{FFFD}x\u{FFFD}y")
    );
    // Ordinary text of any script, emoji sequences included, goes through as is.
    let text = "Grüße, 你好, שלום 👨\u{200D}👩\u{200D}👧";
    send(&b, text).await;
    assert_eq!(next_text(&mut a).await, format!("[{b_id}] Says: {text}"));
    // The console's lines too.
    chat.server.hub().server_says("two\nlines");
    assert_eq!(next_text(&mut a).await, "Server says: two\u{FFFD}lines");
}

#[tokio::test]
async fn nobody_passes_for_the_server_an_id_or_another_member() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let mut a = chat.client().await;
    let (mut b, _) = joined(&chat, &mut a).await;
    send(&a, "/nick Alice").await;
    assert_eq!(next_text(&mut a).await, "You are now [Alice]");
    assert!(next_text(&mut b).await.ends_with("] is now [Alice]"));
    for (name, why) in [
        ("Server", "reserved"),
        ("server", "reserved"),
        ("\u{405}erver", "mixes scripts"), // Cyrillic Ѕ
        ("Admin", "reserved"),
        ("Alice", "taken"),
        ("alice", "taken"),
        ("AIice", "taken"),               // capital i for l
        ("\u{430}lice", "mixes scripts"), // Cyrillic а among Latin
        ("\u{410}\u{4CF}\u{456}\u{441}\u{435}", "looks like [Alice]"), // all Cyrillic
        ("l0O1", "mistaken for an id"),
        ("Bob\u{202E}", "only letters"),
        ("Bob Server", "only letters"),
    ] {
        send(&b, &format!("/nick {name}")).await;
        let reply = next_text(&mut b).await;
        assert!(reply.contains(why), "/nick {name:?}: {reply}");
    }
    send(&b, "/nick Bob").await;
    assert_eq!(next_text(&mut b).await, "You are now [Bob]");
    // A renames itself: its old name is free again, for B too.
    send(&a, "/nick Alicia").await;
    assert_eq!(
        wait_for(&mut a, |l| l.starts_with("You")).await,
        "You are now [Alicia]"
    );
    send(&b, "/nick alice").await;
    assert_eq!(
        wait_for(&mut b, |l| l.starts_with("You")).await,
        "You are now [alice]"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let mut config = ChatConfig::default();
    config.max_connections = 0;
    let chat = Node::start_with(config).await;
    let page = chat.http_get("/").await;
    assert!(
        page.contains(
            "\r\nContent-Security-Policy: default-src 'none'; script-src 'self'; \
             style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'\r\n"
        ),
        "{page}"
    );
    // No inline script or style for the policy to refuse.
    assert!(
        !page.contains("<script>") && !page.contains("<style"),
        "{page}"
    );
    for path in [
        "/",
        "/chat.js",
        "/chat.css",
        "/healthz",
        "/metrics",
        "/nowhere",
    ] {
        let response = chat.http_get(path).await;
        for header in [
            "\r\nX-Content-Type-Options: nosniff\r\n",
            "\r\nX-Frame-Options: DENY\r\n",
            "\r\nReferrer-Policy: no-referrer\r\n",
            "frame-ancestors 'none'\r\n",
        ] {
            assert!(
                response.contains(header),
                "{path} lacks {header:?}:\n{response}"
            );
        }
    }
    assert!(chat.http_get("/chat.js").await.contains("text/javascript"));
    let (status, head, _) = upgrade(chat.port, "x", "").await;
    assert_eq!(status, 503, "{head}");
    assert!(
        head.contains("\r\nX-Content-Type-Options: nosniff\r\n"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simultaneous_handshakes_against_five_places() {
    const TRIES: usize = 200;
    const PLACES: usize = 5;
    let mut config = ChatConfig::default();
    config.max_connections = PLACES;
    let chat = Node::start_with(config).await;
    let port = chat.port;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(TRIES));
    let tries: Vec<_> = (0..TRIES)
        .map(|_| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                upgrade(port, "x", "").await
            })
        })
        .collect();
    let mut open = Vec::new();
    let mut refused = 0;
    for attempt in tries {
        let (status, head, tcp) = attempt.await.unwrap();
        match status {
            101 => open.push(tcp),
            503 => {
                assert!(body(tcp).await.starts_with("server full"), "{head}");
                refused += 1;
            }
            other => panic!("status {other}: {head}"),
        }
    }
    assert_eq!((open.len(), refused), (PLACES, TRIES - PLACES));
    let metrics = chat.http_get("/metrics").await;
    assert_eq!(metric(&metrics, "wspeer_chat_connections"), PLACES as u64);
    assert_eq!(
        metric(&metrics, "wspeer_chat_refused_total"),
        (TRIES - PLACES) as u64
    );
    // Closing them gives every place back: a new client gets in.
    drop(open);
    eventually_async("every place given back", async || {
        let metrics = chat.http_get("/metrics").await;
        match metric(&metrics, "wspeer_chat_connections") {
            0 => Ok(()),
            n => Err(format!("{n} connections")),
        }
    })
    .await;
    let (status, _, _) = upgrade(port, "x", "").await;
    assert_eq!(status, 101);
}

#[tokio::test]
async fn pages_from_other_sites_cannot_connect() {
    let mut config = ChatConfig::default();
    config.allowed_origins = vec!["https://app.example".into()];
    let chat = Node::start_with(config).await;
    let host = format!("127.0.0.1:{}", chat.port);
    let (status, head, tcp) = upgrade(chat.port, &host, "Origin: https://evil.example\r\n").await;
    assert_eq!(status, 403, "{head}");
    assert!(body(tcp).await.contains("\"https://evil.example\""));
    // The chat's own page, a listed site, and a client that sends no Origin.
    let own = format!("Origin: http://{host}\r\n");
    for extra in [own.as_str(), "Origin: https://app.example\r\n", ""] {
        let (status, head, _) = upgrade(chat.port, &host, extra).await;
        assert_eq!(status, 101, "{extra:?}: {head}");
    }
    // The same host on another port is another site.
    let other_port = format!("Origin: http://127.0.0.1:{}\r\n", chat.port + 1);
    let (status, head, _) = upgrade(chat.port, &host, &other_port).await;
    assert_eq!(status, 403, "{head}");
}
