//! Verified identities and moderation over real sockets: tokens minted here,
//! refused with 401 when wrong, names that come from tokens only, and kick and
//! mute by a moderator (refused for others).

#![allow(clippy::unwrap_used)] // test code

use crate::support::{Node, WAIT, next_text, send, send_upgrade, wait_for};
use jsonwebtoken::{EncodingKey, Header, encode, get_current_timestamp};
use tokio::{io::AsyncReadExt, time::timeout};
use wspeer_chat::{
    ChatConfig,
    auth::{Auth, Claims},
};
use wspeer_core::{Config, WebSocket};

const SECRET: &[u8] = b"a test secret of at least 32 bytes!";

fn mint(sub: &str, lifetime: i64, moderator: bool, secret: &[u8]) -> String {
    let claims = Claims {
        sub: sub.into(),
        exp: (get_current_timestamp() as i64 + lifetime) as u64,
        moderator,
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn server() -> Node {
    let mut config = ChatConfig::default();
    config.auth = Some(Auth::new(SECRET).unwrap());
    Node::start_with(config).await
}

/// The whole response to an upgrade carrying `token`.
async fn upgrade_response(port: u16, token: &str) -> String {
    let mut tcp = send_upgrade(port, &format!("/?token={token}"), "x", "").await;
    let mut response = String::new();
    timeout(WAIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

async fn signed_in(chat: &Node, token: &str) -> WebSocket {
    let url = format!("ws://127.0.0.1:{}/?token={token}", chat.port);
    let config = Config::default().supported_protocols(["demo-chat"]);
    timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn wrong_tokens_get_401_before_the_upgrade() {
    let chat = server().await;
    for (token, why) in [
        (mint("alice", -3600, false, SECRET), "ExpiredSignature"),
        (
            mint(
                "alice",
                3600,
                false,
                b"someone else's secret, 32 bytes long",
            ),
            "InvalidSignature",
        ),
        ("not-a-token".to_owned(), "invalid token"),
        (mint("Server", 3600, false, SECRET), "reserved"),
    ] {
        let response = upgrade_response(chat.port, &token).await;
        assert!(response.starts_with("HTTP/1.1 401"), "{response}");
        assert!(response.contains(why), "{why}: {response}");
    }
    let metrics = chat.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_refused_auth_total 4\n"),
        "{metrics}"
    );
    assert!(metrics.contains("wspeer_chat_connections 0\n"), "{metrics}");
}

#[tokio::test]
async fn the_name_comes_from_the_token_and_nobody_else_can_take_it() {
    let chat = server().await;
    let mut guest = chat.client().await;
    let mut alice = signed_in(&chat, &mint("alice", 3600, false, SECRET)).await;
    assert_eq!(next_text(&mut guest).await, "[alice] connected");
    send(&alice, "hello").await;
    assert_eq!(next_text(&mut guest).await, "[alice] Says: hello");
    // With tokens on, /nick is off for everyone: a guest stays its id.
    for who in [&mut guest, &mut alice] {
        send(who, "/nick alice2").await;
        assert!(next_text(who).await.contains("/nick is off"));
    }
}

#[tokio::test]
async fn moderators_kick_and_mute_and_nobody_else_can() {
    let chat = server().await;
    let mut watcher = chat.client().await;
    let mut moderator = signed_in(&chat, &mint("mo", 3600, true, SECRET)).await;
    let mut bob = signed_in(&chat, &mint("bob", 3600, false, SECRET)).await;
    wait_for(&mut watcher, |l| l == "[bob] connected").await;
    wait_for(&mut moderator, |l| l == "[bob] connected").await;

    send(&bob, "/kick mo").await;
    assert_eq!(next_text(&mut bob).await, "Only moderators may do that");
    send(&bob, "/mute mo 5").await;
    assert_eq!(next_text(&mut bob).await, "Only moderators may do that");

    send(&moderator, "/mute bob 5").await;
    let told = "[bob] was muted for 5 minute(s) by [mo]";
    assert_eq!(next_text(&mut moderator).await, told);
    assert_eq!(
        next_text(&mut moderator).await,
        "Muted [bob] for 5 minute(s)"
    );
    assert_eq!(next_text(&mut watcher).await, told);
    assert_eq!(next_text(&mut bob).await, told);
    send(&bob, "can anyone hear me").await;
    assert_eq!(
        next_text(&mut bob).await,
        "You are muted for 5 more minute(s)"
    );

    send(&moderator, "/kick bob").await;
    assert_eq!(next_text(&mut moderator).await, "[bob] was kicked by [mo]");
    assert_eq!(next_text(&mut moderator).await, "Kicked [bob]");
    let status = timeout(WAIT, bob.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (4001, "kicked by [mo]")
    );
    // The watcher never got bob's muted line: next come the kick and the leave.
    assert_eq!(next_text(&mut watcher).await, "[bob] was kicked by [mo]");
    assert_eq!(next_text(&mut watcher).await, "[bob] disconnected");
    let metrics = chat.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_kicked_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("wspeer_chat_muted_total 1\n"), "{metrics}");
}

/// A client whose request carries `cookie` (a browser's `Cookie:` header).
async fn with_cookie(chat: &Node, cookie: &str) -> Result<WebSocket, wspeer_core::ConnectError> {
    let url = format!("ws://127.0.0.1:{}/", chat.port);
    let config = Config::default()
        .supported_protocols(["demo-chat"])
        .handshake_header("Cookie", cookie);
    timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_in_a_cookie_signs_in_and_a_bad_one_gets_401() {
    let chat = server().await;
    let mut guest = chat.client().await;
    let cookie = format!(
        "theme=dark; wspeer_token={}",
        mint("carol", 3600, true, SECRET)
    );
    let mut carol = with_cookie(&chat, &cookie).await.unwrap();
    assert_eq!(next_text(&mut guest).await, "[carol] connected");
    send(&carol, "/kick nobody").await;
    // A moderator (from the cookie's claim): told the name is not here.
    assert_eq!(next_text(&mut carol).await, "No [nobody] here");

    for (token, why) in [
        (mint("carol", -3600, false, SECRET), "ExpiredSignature"),
        ("garbage".to_owned(), "invalid token"),
    ] {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: demo-chat\r\nCookie: wspeer_token={token}\r\n\r\n"
        );
        let response = crate::support::raw_request(chat.port, request.as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 401"), "{response}");
        assert!(response.contains(why), "{why}: {response}");
    }
    // The query parameter wins over the cookie.
    let query = mint("dave", 3600, false, SECRET);
    let url = format!("ws://127.0.0.1:{}/?token={query}", chat.port);
    let config = Config::default()
        .supported_protocols(["demo-chat"])
        .handshake_header("Cookie", cookie.as_str());
    let _dave = timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next_text(&mut guest).await, "[dave] connected");
    let metrics = chat.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_refused_auth_total 2\n"),
        "{metrics}"
    );
}
