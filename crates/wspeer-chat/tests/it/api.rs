//! The HTTP API with real requests over TCP: posting into a room as the server
//! and as a bot, listing rooms and members, kick and mute, and every refusal
//! (no or wrong token, bad JSON, oversized or chunked bodies, bad rooms and
//! names, wrong methods).

#![allow(clippy::unwrap_used)] // test code

use crate::support::{Node, next_text, raw_request, send, wait_for};
use wspeer_chat::{ChatConfig, api::ApiToken};

const TOKEN: &str = "an-api-token-for-the-tests";

async fn server() -> Node {
    let mut config = ChatConfig::default();
    config.api_token = Some(ApiToken::new(TOKEN.as_bytes()).unwrap());
    config.history = 10;
    Node::start_with(config).await
}

/// Status and JSON body of `method path` with `token` and `body`.
async fn call(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    parse(&raw_request(port, request.as_bytes()).await)
}

fn parse(response: &str) -> (u16, serde_json::Value) {
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    let json =
        serde_json::from_str(body).unwrap_or_else(|_| serde_json::Value::String(body.into()));
    (status, json)
}

#[tokio::test]
async fn post_list_and_moderate_through_the_api() {
    let chat = server().await;
    let mut alice = chat.client().await;
    let (mut bob, bob_id) = {
        let bob = chat.client().await;
        let joined = next_text(&mut alice).await;
        (
            bob,
            joined
                .strip_suffix(" connected")
                .unwrap()
                .trim_matches(['[', ']'])
                .to_owned(),
        )
    };
    let t = Some(TOKEN);

    let (status, body) = call(
        chat.port,
        "POST",
        "/rooms/lobby/messages",
        t,
        r#"{"text":"hello all"}"#,
    )
    .await;
    assert_eq!(
        (status, body["text"].as_str()),
        (202, Some("Server says: hello all"))
    );
    assert_eq!(next_text(&mut alice).await, "Server says: hello all");
    assert_eq!(next_text(&mut bob).await, "Server says: hello all");
    let (status, _) = call(
        chat.port,
        "POST",
        "/rooms/lobby/messages",
        t,
        r#"{"text":"beep","as":"robot"}"#,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(next_text(&mut alice).await, "[robot] Says: beep");
    assert_eq!(next_text(&mut bob).await, "[robot] Says: beep");

    let (status, body) = call(chat.port, "GET", "/rooms", t, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["rooms"],
        serde_json::json!([{ "name": "lobby", "count": 2 }])
    );
    let (status, body) = call(chat.port, "GET", "/rooms/lobby", t, "").await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(2)));
    assert!(
        body["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == bob_id.as_str()),
        "{body}"
    );

    let mute = format!(r#"{{"name":"{bob_id}","minutes":5}}"#);
    let (status, body) = call(chat.port, "POST", "/rooms/lobby/mute", t, &mute).await;
    assert_eq!(status, 200, "{body}");
    let told = format!("[{bob_id}] was muted for 5 minute(s) by [Server]");
    assert_eq!(next_text(&mut alice).await, told);
    assert_eq!(next_text(&mut bob).await, told);
    send(&bob, "hello?").await;
    assert_eq!(
        next_text(&mut bob).await,
        "You are muted for 5 more minute(s)"
    );

    let kick = format!(r#"{{"name":"{bob_id}"}}"#);
    let (status, _) = call(chat.port, "POST", "/rooms/lobby/kick", t, &kick).await;
    assert_eq!(status, 200);
    let status = tokio::time::timeout(crate::support::WAIT, bob.closed())
        .await
        .unwrap();
    assert_eq!(
        (status.code, status.reason.as_str()),
        (4001, "kicked by [Server]")
    );
    wait_for(&mut alice, |l| l.ends_with(" disconnected")).await;
    let (status, body) = call(chat.port, "POST", "/rooms/lobby/kick", t, &kick).await;
    assert_eq!(status, 404, "{body}");
    let metrics = chat.http_get("/metrics").await;
    assert!(
        metrics.contains("wspeer_chat_kicked_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("wspeer_chat_muted_total 1\n"), "{metrics}");
}

#[tokio::test]
async fn every_refusal_has_its_status_and_reason() {
    let chat = server().await;
    let port = chat.port;
    let t = Some(TOKEN);
    let post = "/rooms/lobby/messages";
    let hello = r#"{"text":"hi"}"#;
    for (method, path, token, body, status, why) in [
        ("GET", "/rooms", None, "", 401, "Bearer"),
        (
            "GET",
            "/rooms",
            Some("an-api-token-for-the-testz"),
            "",
            401,
            "Bearer",
        ),
        ("GET", "/rooms", Some("short"), "", 401, "Bearer"),
        ("POST", post, None, hello, 401, "Bearer"),
        ("POST", post, t, "{not json", 400, "invalid JSON"),
        ("POST", post, t, r#"{"text":5}"#, 400, "invalid JSON"),
        (
            "POST",
            post,
            t,
            r#"{"text":"hi","extra":1}"#,
            400,
            "unknown field",
        ),
        ("POST", post, t, r#"{"text":"   "}"#, 400, "empty"),
        (
            "POST",
            post,
            t,
            r#"{"text":"hi","as":"Server"}"#,
            400,
            "bot name",
        ),
        (
            "POST",
            post,
            t,
            r#"{"text":"hi","as":"12345"}"#,
            400,
            "bot name",
        ),
        (
            "POST",
            "/rooms/nobody-here/messages",
            t,
            hello,
            404,
            "no room",
        ),
        (
            "POST",
            "/rooms/bad%20room/messages",
            t,
            hello,
            400,
            "Invalid room",
        ),
        ("POST", "/rooms/%FF/messages", t, hello, 400, "UTF-8"),
        ("GET", post, t, "", 405, "only POST"),
        ("DELETE", "/rooms", t, "", 405, "only GET"),
        ("POST", "/rooms/lobby/nothing", t, hello, 404, "no such"),
        (
            "POST",
            "/rooms/lobby/kick",
            t,
            r#"{"name":"ghost"}"#,
            404,
            "No [ghost]",
        ),
        (
            "POST",
            "/rooms/lobby/mute",
            t,
            r#"{"name":"ghost"}"#,
            400,
            "minutes",
        ),
        (
            "POST",
            "/rooms/lobby/mute",
            t,
            r#"{"name":"x","minutes":99999}"#,
            400,
            "at most",
        ),
        (
            "POST",
            "/rooms/lobby/mute",
            t,
            r#"{"name":"x","minutes":-1}"#,
            400,
            "invalid JSON",
        ),
    ] {
        let (got, body) = call(port, method, path, token, body).await;
        assert_eq!(got, status, "{method} {path} {body}");
        let text = body.to_string();
        assert!(text.contains(why), "{method} {path}: {text}");
    }
    let long = format!(r#"{{"text":"{}"}}"#, "x".repeat(5000));
    let (status, body) = call(port, "POST", post, t, &long).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("over 4096 bytes"));

    // Bodies: over the limit before a byte of it is read, chunked, a lie.
    let request = format!(
        "POST {post} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 1000000\r\n\r\n"
    );
    let response = raw_request(port, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413 "), "{response}");
    let request = format!(
        "POST {post} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    let response = raw_request(port, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 411 "), "{response}");
    let request = format!("POST {post} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
    let response = raw_request(port, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    // The page's routes still answer as before.
    assert!(chat.http_get("/healthz").await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn without_a_token_the_api_is_off() {
    let chat = Node::start_with(ChatConfig::default()).await;
    let (status, body) = call(chat.port, "GET", "/rooms", Some(TOKEN), "").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("--api-token"));
    assert!(ApiToken::new(b"short").is_err());
}
