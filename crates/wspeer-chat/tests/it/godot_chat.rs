//! A real Godot 3 client (Debian's `godot3-server`, GDScript in `tests/godot/`)
//! and a wspeer client chat through the server. Skipped with a loud message when
//! Godot is missing; a failure when `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::{path::PathBuf, process::Stdio};

use tokio::{process::Command, sync::oneshot, time::timeout};
use wspeer_chat::ChatConfig;
use wspeer_core::{Config, Message, WebSocket};
use wspeer_testkit::wait::PROGRAM_WAIT;

fn godot() -> Option<PathBuf> {
    wspeer_testkit::interop::find_program(
        "godot_and_wspeer_chat",
        "godot3-server",
        "apt-get install godot3-server",
    )
}

async fn next_text(ws: &mut WebSocket) -> String {
    let message = timeout(PROGRAM_WAIT, ws.recv()).await.unwrap().unwrap();
    message.as_text().unwrap().to_owned()
}

#[tokio::test]
async fn godot_and_wspeer_chat() {
    let Some(godot) = godot() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(wspeer_chat::run(listener, ChatConfig::default(), async {
        let _ = stopped.await;
    }));
    let url = format!("ws://127.0.0.1:{port}/test/");
    let config = Config::default().supported_protocols(["demo-chat"]);
    let mut rust = wspeer_core::connect_with(&url, config).await.unwrap();

    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/godot");
    let run = Command::new(godot)
        .arg("--path")
        .arg(&project)
        .args(["-s", "chat_client.gd"])
        .env("WSPEER_URL", &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let joined = next_text(&mut rust).await;
    let godot_id = joined.strip_suffix(" connected").unwrap().to_owned();
    assert_eq!(
        next_text(&mut rust).await,
        format!("{godot_id} Says: hello from godot")
    );
    rust.send(Message::text("hello from rust")).await.unwrap();
    assert_eq!(
        next_text(&mut rust).await,
        format!("{godot_id} disconnected")
    );

    let output = timeout(PROGRAM_WAIT, run.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("Godot Engine") && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "Client just connected with protocol: demo-chat");
    assert!(
        lines[1].starts_with('[') && lines[1].ends_with("] Says: hello from rust"),
        "{lines:?}"
    );
    stop.send(()).unwrap();
    timeout(PROGRAM_WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
