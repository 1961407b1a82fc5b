//! Moderation across a cluster on a real `redis-server`: a moderator on one
//! server kicks and mutes a user on another (refused for anyone else), a mute
//! holds for a reconnect to a server started after it, and the API of one
//! server kicks a user on another; counted in /metrics.

#![allow(clippy::unwrap_used)] // test code

use crate::support::{
    Node, Redis, WAIT, next_text, raw_request, redis_server, send, wait_for, who_until,
};
use jsonwebtoken::{EncodingKey, Header, encode, get_current_timestamp};
use tokio::time::timeout;
use wspeer_chat::{
    Backend, ChatConfig,
    api::ApiToken,
    auth::{Auth, Claims},
};
use wspeer_core::{Config, WebSocket};

const SECRET: &[u8] = b"a test secret of at least 32 bytes!";
const TOKEN: &str = "an-api-token-for-the-tests";

fn mint(sub: &str, moderator: bool) -> String {
    let claims = Claims {
        sub: sub.into(),
        exp: get_current_timestamp() + 3600,
        moderator,
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

async fn node(redis: &Redis) -> Node {
    let mut config = ChatConfig::default();
    config.backend = Backend::redis(&redis.url()).unwrap();
    config.auth = Some(Auth::new(SECRET).unwrap());
    config.api_token = Some(ApiToken::new(TOKEN.as_bytes()).unwrap());
    let node = Node::start_with(config).await;
    node.wait_redis(true).await;
    node
}

async fn signed_in(chat: &Node, sub: &str, moderator: bool) -> WebSocket {
    let url = format!(
        "ws://127.0.0.1:{}/?token={}",
        chat.port,
        mint(sub, moderator)
    );
    let config = Config::default().supported_protocols(["demo-chat"]);
    timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn kicks_and_mutes_hold_on_every_server() {
    let Some(program) = redis_server("kicks_and_mutes_hold_on_every_server") else {
        return;
    };
    let redis = Redis::start(&program).await;
    let a = node(&redis).await;
    let b = node(&redis).await;
    let mut mo = signed_in(&a, "mo", true).await;
    let mut eve = signed_in(&a, "eve", false).await;
    let mut bob = signed_in(&b, "bob", false).await;
    // The moderator's server knows bob is there (presence through Redis).
    who_until(&mut mo, |names| names.iter().any(|n| n == "[bob]")).await;

    send(&eve, "/mute bob 5").await;
    assert_eq!(
        wait_for(&mut eve, |l| l.starts_with("Only")).await,
        "Only moderators may do that"
    );
    send(&eve, "/kick bob").await;
    assert_eq!(
        wait_for(&mut eve, |l| l.starts_with("Only")).await,
        "Only moderators may do that"
    );

    send(&mo, "/mute bob 5").await;
    let told = "[bob] was muted for 5 minute(s) by [mo]";
    wait_for(&mut bob, |l| l == told).await;
    send(&bob, "anyone?").await;
    assert_eq!(
        next_text(&mut bob).await,
        "You are muted for 5 more minute(s)"
    );

    // A server started after the mute reads it from Redis: a reconnect there
    // is muted too.
    drop(bob);
    let c = node(&redis).await;
    let mut bob = signed_in(&c, "bob", false).await;
    send(&bob, "I am back").await;
    assert_eq!(
        wait_for(&mut bob, |l| l.starts_with("You are muted")).await,
        "You are muted for 5 more minute(s)"
    );
    who_until(&mut mo, |names| names.iter().any(|n| n == "[bob]")).await;
    send(&mo, "/kick bob").await;
    let status = timeout(WAIT, bob.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (4001, "kicked by [mo]")
    );
    wait_for(&mut mo, |l| l == "Kicked [bob]").await;

    // The API of one server kicks a member of another.
    let carol = signed_in(&c, "carol", false).await;
    who_until(&mut mo, |names| names.iter().any(|n| n == "[carol]")).await;
    let body = r#"{"name":"carol"}"#;
    let request = format!(
        "POST /rooms/lobby/kick HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = raw_request(a.port, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let status = timeout(WAIT, carol.closed()).await.unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (4001, "kicked by [Server]")
    );

    let metrics = a.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_kicked_total 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("wspeer_chat_muted_total 1\n"), "{metrics}");
    for node in [a, b, c] {
        node.shutdown().await;
    }
}
