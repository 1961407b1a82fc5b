//! Nothing missed on reconnect, over real sockets: line ids only for clients
//! that ask, a resume that gets exactly what it missed (no gap, no line twice)
//! alone and across two servers and a restart on a real `redis-server`, and a
//! notice when what was missed is no longer kept. Hostile resume queries are
//! refused before the upgrade.

#![allow(clippy::unwrap_used)] // test code

use crate::support::{
    Node, Redis, WAIT, ids_client, next_frame, next_text, redis_server, said, send,
    upgrade_response, wait_for, wait_frame,
};
use wspeer_chat::ChatConfig;

fn config(history: usize) -> ChatConfig {
    let mut config = ChatConfig::default();
    config.history = history;
    config.rate_per_second = 1000.0;
    config.rate_burst = 1000.0;
    config
}

fn id_of(frame: &serde_json::Value) -> u64 {
    frame["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no id: {frame}"))
}

#[tokio::test]
async fn ids_only_for_clients_that_ask() {
    let chat = Node::start_with(config(10)).await;
    let mut demo = chat.client().await;
    let mut page = ids_client(chat.port, "ids=1").await;
    let welcome = next_frame(&mut page).await;
    assert_eq!(welcome["event"], "welcome");
    assert_eq!(welcome["room"], "lobby");
    let joined = next_text(&mut demo).await;
    let page_name = joined.strip_suffix(" connected").unwrap().to_owned();
    assert_eq!(welcome["name"], page_name.trim_matches(['[', ']']));

    send(&demo, "one").await;
    send(&demo, "two").await;
    let one = next_frame(&mut page).await;
    let two = next_frame(&mut page).await;
    assert_eq!(one["room"], "lobby");
    assert!(
        one["text"].as_str().unwrap().ends_with("] Says: one"),
        "{one}"
    );
    assert_eq!(id_of(&two), id_of(&one) + 1);
    // The demo client sees the demo's lines, never an id.
    send(&page, "three").await;
    assert_eq!(
        next_text(&mut demo).await,
        format!("{page_name} Says: three")
    );
    send(&page, "/who").await;
    let who = wait_frame(&mut page, |f| f["event"] == "members").await;
    assert_eq!(who["names"].as_array().unwrap().len(), 2, "{who}");
    send(&demo, "/who").await;
    assert!(next_text(&mut demo).await.starts_with("In lobby: ["));
}

#[tokio::test]
async fn a_resume_gets_exactly_what_it_missed_then_the_live_lines() {
    let chat = Node::start_with(config(50)).await;
    let mut talker = chat.client().await;
    let mut page = ids_client(chat.port, "ids=1").await;
    wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    send(&talker, "before").await;
    let last = id_of(&wait_frame(&mut page, |f| f["id"].is_u64()).await);
    drop(page);
    wait_for(&mut talker, |l| l.ends_with(" disconnected")).await;
    for k in 0..5 {
        send(&talker, &format!("away {k}")).await;
    }
    let mut page = ids_client(chat.port, &format!("after={last}")).await;
    assert_eq!(next_frame(&mut page).await["event"], "welcome");
    for k in 0..5 {
        let frame = next_frame(&mut page).await;
        assert_eq!(id_of(&frame), last + 1 + k);
        assert_eq!(
            said(frame["text"].as_str().unwrap()),
            Some(format!("away {k}").as_str())
        );
    }
    send(&talker, "live").await;
    let live = next_frame(&mut page).await;
    assert_eq!(
        (id_of(&live), said(live["text"].as_str().unwrap())),
        (last + 6, Some("live"))
    );
}

#[tokio::test]
async fn a_replay_longer_than_the_send_queue_comes_whole() {
    // More missed lines than a client's send queue holds (256): the replay
    // must not count as a slow reader (found by the bench's chat soak).
    const AWAY: u64 = 600;
    let config = config(1000);
    assert!(AWAY as usize > config.send_queue);
    let chat = Node::start_with(config).await;
    let mut talker = chat.client().await;
    let mut page = ids_client(chat.port, "ids=1").await;
    wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    send(&talker, "before").await;
    let last = id_of(&wait_frame(&mut page, |f| f["id"].is_u64()).await);
    drop(page);
    for k in 0..AWAY {
        send(&talker, &format!("away {k}")).await;
    }
    // A reply to the talker proves every line was handled.
    send(&talker, "/who").await;
    wait_for(&mut talker, |l| l.starts_with("In lobby")).await;
    for query in [format!("after={last}"), "ids=1".to_owned()] {
        let mut page = ids_client(chat.port, &query).await;
        assert_eq!(next_frame(&mut page).await["event"], "welcome", "{query}");
        // A plain join gets the whole history: "before" first.
        let first = if query == "ids=1" { last } else { last + 1 };
        for id in first..=last + AWAY {
            let frame = next_frame(&mut page).await;
            assert_eq!(id_of(&frame), id, "{query}: {frame}");
        }
    }
}

#[tokio::test]
async fn a_gap_older_than_the_history_is_told() {
    let chat = Node::start_with(config(2)).await;
    let mut talker = chat.client().await;
    let mut page = ids_client(chat.port, "ids=1").await;
    wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    send(&talker, "seen").await;
    let last = id_of(&wait_frame(&mut page, |f| f["id"].is_u64()).await);
    drop(page);
    for k in 0..4 {
        send(&talker, &format!("away {k}")).await;
    }
    // A line the talker's own client sees proves the four were handled.
    send(&talker, "/who").await;
    wait_for(&mut talker, |l| l.starts_with("In lobby")).await;
    let mut page = ids_client(chat.port, &format!("after={last}")).await;
    next_frame(&mut page).await; // welcome
    let gap = next_frame(&mut page).await;
    assert_eq!(
        (gap["event"].as_str(), gap["after"].as_u64()),
        (Some("gap"), Some(last))
    );
    assert_eq!(gap["reset"], false);
    for k in [2, 3] {
        let frame = next_frame(&mut page).await;
        assert_eq!(id_of(&frame), last + 1 + k);
    }
    // An id the room never gave (from before a reset, or made up): told, and
    // every kept line follows.
    let mut stranger = ids_client(chat.port, &format!("after={}", last + 1000)).await;
    next_frame(&mut stranger).await;
    let gap = next_frame(&mut stranger).await;
    assert_eq!(
        (gap["event"].as_str(), gap["reset"].as_bool()),
        (Some("gap"), Some(true))
    );
    assert_eq!(id_of(&next_frame(&mut stranger).await), last + 3);
}

#[tokio::test]
async fn a_restart_of_a_server_alone_is_told_as_a_gap() {
    let mut chat = Node::start_with(config(10)).await;
    let port = chat.port;
    let mut talker = chat.client().await;
    let mut page = ids_client(port, "ids=1").await;
    wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    send(&talker, "before").await;
    let last = id_of(&wait_frame(&mut page, |f| f["id"].is_u64()).await);
    chat.stop();
    tokio::time::timeout(WAIT, &mut chat.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Its memory is gone: the new server's ids start above the old ones and
    // the resume is told it may have missed lines.
    let chat = Node::start_on(config(10), port).await;
    let mut talker = chat.client().await;
    let mut page = ids_client(port, &format!("after={last}")).await;
    next_frame(&mut page).await;
    let gap = next_frame(&mut page).await;
    assert_eq!(
        (gap["event"].as_str(), gap["reset"].as_bool()),
        (Some("gap"), Some(false))
    );
    wait_for(&mut talker, |l| l.ends_with(" connected")).await;
    send(&talker, "after").await;
    assert!(id_of(&next_frame(&mut page).await) > last);
}

#[tokio::test]
async fn hostile_resume_queries_get_400_before_the_upgrade() {
    let chat = Node::start_with(config(10)).await;
    for target in [
        "/?after=-1",
        "/?after=99999999999999999999999",
        "/?after=9007199254740992",
        "/?after=12abc",
        "/?after=",
        "/?room=../etc",
        "/?room=%00",
        &format!("/?room={}", "r".repeat(33)),
    ] {
        let response = upgrade_response(chat.port, target, "").await;
        assert!(response.starts_with("HTTP/1.1 400"), "{target}: {response}");
    }
    let response = upgrade_response(chat.port, "/?room=games&after=0", "").await;
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
}

/// Lines `from..to` said on `talker`, checked by `page` in order, exactly once.
async fn expect_said(page: &mut wspeer_core::WebSocket, texts: &[String]) -> u64 {
    let mut last = 0;
    for text in texts {
        let frame = wait_frame(page, |f| f["id"].is_u64() || f["event"] == "gap").await;
        assert_ne!(frame["event"], "gap", "a gap: {frame}");
        assert_eq!(
            said(frame["text"].as_str().unwrap()),
            Some(text.as_str()),
            "{frame}"
        );
        let id = id_of(&frame);
        assert!(id > last, "ids must increase: {id} after {last}");
        last = id;
    }
    last
}

#[tokio::test]
async fn across_two_servers_and_a_restart_on_redis_no_gap_no_duplicate() {
    let test = "across_two_servers_and_a_restart_on_redis_no_gap_no_duplicate";
    let Some(program) = redis_server(test) else {
        return;
    };
    let redis = Redis::start(&program).await;
    let mut a = Node::start(&redis, 100).await;
    let b = Node::start(&redis, 100).await;
    let mut talker = b.client().await;
    let mut page = ids_client(a.port, "ids=1").await;
    assert_eq!(next_frame(&mut page).await["event"], "welcome");
    let texts = |range: std::ops::Range<usize>| -> Vec<String> {
        range.map(|k| format!("line {k}")).collect()
    };
    // The page's server sees the talker before it talks (presence first).
    send(&talker, "/who").await;
    wait_for(&mut talker, |l| l.starts_with("In lobby")).await;
    for text in texts(0..3) {
        send(&talker, &text).await;
    }
    let last = expect_said(&mut page, &texts(0..3)).await;

    // The page's server goes; lines are said meanwhile on the other one.
    drop(page);
    a.stop();
    tokio::time::timeout(WAIT, &mut a.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    for text in texts(3..6) {
        send(&talker, &text).await;
    }
    let a = Node::start_on(a_config(&redis), a.port).await;
    a.wait_redis(true).await;
    let mut page = ids_client(a.port, &format!("after={last}")).await;
    assert_eq!(next_frame(&mut page).await["event"], "welcome");
    let last = expect_said(&mut page, &texts(3..6)).await;

    // Resumed on the other server, while the talker goes on talking: the
    // history and the live lines meet without a gap or a line twice.
    drop(page);
    let sending = {
        let lines = texts(6..106);
        tokio::spawn(async move {
            for text in lines {
                send(&talker, &text).await;
            }
            talker
        })
    };
    let mut page = ids_client(b.port, &format!("after={last}")).await;
    assert_eq!(next_frame(&mut page).await["event"], "welcome");
    expect_said(&mut page, &texts(6..106)).await;
    let _talker = sending.await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
}

fn a_config(redis: &Redis) -> ChatConfig {
    let mut config = config(100);
    config.backend = wspeer_chat::Backend::redis(&redis.url()).unwrap();
    config
}
