//! A real browser on the chat page: Debian's Chromium, driven by playwright-core
//! (`tests/browser/chat.mjs`), joins from the page served on the chat port,
//! sends a message a wspeer client receives, and shows the wspeer client's
//! answer. Skipped with a loud message when Chromium, Node or playwright-core is
//! missing; a failure when `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::{path::PathBuf, process::Stdio};

use tokio::{process::Command, sync::oneshot, time::timeout};
use wspeer_chat::ChatConfig;
use wspeer_core::{Config, Message, WebSocket};
use wspeer_testkit::wait::PROGRAM_WAIT;

/// What the test needs, or why it cannot run.
fn tools() -> Result<PathBuf, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Err(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(format!(
            "no playwright-core (npm install in {})",
            dir.display()
        ));
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("no node".into());
    }
    Ok(dir)
}

async fn next_text(ws: &mut WebSocket) -> String {
    let message = timeout(PROGRAM_WAIT, ws.recv()).await.unwrap().unwrap();
    message.as_text().unwrap().to_owned()
}

#[tokio::test]
async fn chromium_chats_with_a_wspeer_client() {
    let dir = match tools() {
        Ok(dir) => dir,
        Err(why) => {
            wspeer_testkit::interop::skip("chromium_chats_with_a_wspeer_client", &why);
            return;
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(wspeer_chat::run(listener, ChatConfig::default(), async {
        let _ = stopped.await;
    }));
    let config = Config::default().supported_protocols(["demo-chat"]);
    let mut rust = wspeer_core::connect_with(&format!("ws://127.0.0.1:{port}/"), config)
        .await
        .unwrap();

    let screenshot = std::env::temp_dir().join(format!("wspeer-chat-{}.png", std::process::id()));
    let browser = Command::new("node")
        .arg(dir.join("chat.mjs"))
        .arg(format!("http://127.0.0.1:{port}/"))
        .arg(&screenshot)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let joined = next_text(&mut rust).await;
    let browser_id = joined.strip_suffix(" connected").unwrap().to_owned();
    assert_eq!(
        next_text(&mut rust).await,
        format!("{browser_id} Says: hello from chromium")
    );
    // Long enough to go compressed (over the 128-byte threshold).
    let long = format!(
        "{} hello from rust",
        "the quick brown fox jumps over the lazy dog".repeat(8)
    );
    rust.send(Message::text(long.clone())).await.unwrap();

    let output = timeout(PROGRAM_WAIT, browser.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "joined");
    assert!(
        lines[1].starts_with("received [") && lines[1].ends_with(&format!("] Says: {long}")),
        "{}",
        lines[1]
    );
    // Chromium offered permessage-deflate and the chat took it up, without
    // context takeover either way: the long line above came compressed.
    assert_eq!(
        lines[2],
        "extensions permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    // Closing the browser is the page leaving the room.
    assert_eq!(
        next_text(&mut rust).await,
        format!("{browser_id} disconnected")
    );
    stop.send(()).unwrap();
    timeout(PROGRAM_WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// The page through a restart of its server, in a cluster on a real
/// `redis-server`: lines said on the other server while the page's server was
/// down appear once the page reconnects, each once, in order, no gap notice.
#[tokio::test]
async fn the_page_resumes_after_its_server_restarts() {
    let test = "the_page_resumes_after_its_server_restarts";
    let dir = match tools() {
        Ok(dir) => dir,
        Err(why) => {
            wspeer_testkit::interop::skip(test, &why);
            return;
        }
    };
    let Some(program) = crate::support::redis_server(test) else {
        return;
    };
    use tokio::io::{AsyncBufReadExt, BufReader};
    let redis = crate::support::Redis::start(&program).await;
    let config = || {
        let mut config = ChatConfig::default();
        config.backend = wspeer_chat::Backend::redis(&redis.url()).unwrap();
        config.history = 100;
        config
    };
    let mut a = crate::support::Node::start_with(config()).await;
    a.wait_redis(true).await;
    let b = crate::support::Node::start_with(config()).await;
    b.wait_redis(true).await;
    let mut talker = b.client().await;

    let screenshot =
        std::env::temp_dir().join(format!("wspeer-chat-resume-{}.png", std::process::id()));
    let mut browser = Command::new("node")
        .arg(dir.join("resume.mjs"))
        .arg(format!("http://127.0.0.1:{}/", a.port))
        .arg(&screenshot)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(browser.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        timeout(PROGRAM_WAIT, out.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let joined = next_line().await;
    let page_name = joined.strip_prefix("joined ").unwrap().to_owned();
    // The talker's server knows the page is there before anyone talks.
    crate::support::wait_for(&mut talker, |l| l == format!("[{page_name}] connected")).await;
    for k in 0..3 {
        crate::support::send(&talker, &format!("line {k}")).await;
    }
    assert_eq!(next_line().await, "seen line 2");

    a.stop();
    timeout(PROGRAM_WAIT, &mut a.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    for k in 3..6 {
        crate::support::send(&talker, &format!("line {k}")).await;
    }
    let a = crate::support::Node::start_on(config(), a.port).await;
    a.wait_redis(true).await;
    // The page is back (its connect line reaches the talker through Redis).
    crate::support::wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    crate::support::send(&talker, "end").await;

    let seen: serde_json::Value = serde_json::from_str(&next_line().await).unwrap();
    let lines: Vec<&str> = seen["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| crate::support::said(l.as_str().unwrap()).unwrap())
        .collect();
    let expected: Vec<String> = (0..6)
        .map(|k| format!("line {k}"))
        .chain(["end".into()])
        .collect();
    assert_eq!(lines, expected, "{seen}");
    assert_eq!(seen["gaps"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["room"], "lobby");
    let status = timeout(PROGRAM_WAIT, browser.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    a.shutdown().await;
    b.shutdown().await;
}
