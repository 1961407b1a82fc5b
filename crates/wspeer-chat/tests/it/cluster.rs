//! Several chat servers (in process, each on its own port) sharing one real
//! `redis-server` (Debian's package, started here on a free port): messages cross
//! servers exactly once and in each sender's order, `/who` and history span the
//! cluster, a crashed server's users leave `/who` within the presence expiry, and
//! a Redis restart never stops local delivery and ends with cluster delivery back.
//! Skipped with a loud message without `redis-server`; a failure when
//! `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::collections::{HashMap, HashSet};

use crate::support::{Node, Redis, next_text, redis_server, said, send, wait_for, who_until};

#[tokio::test]
async fn three_servers_every_message_once_in_order_with_history() {
    let Some(program) = redis_server("three_servers_every_message_once_in_order_with_history")
    else {
        return;
    };
    let redis = Redis::start(&program).await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&redis, 3).await);
    }
    // Two clients on every server.
    let mut clients = Vec::new();
    for node in &nodes {
        for _ in 0..2 {
            clients.push(node.client().await);
        }
    }
    // Everyone is in the lobby of the whole cluster, and ids are unique.
    let names = who_until(&mut clients[0], |n| n.len() == 6).await;
    assert_eq!(names.iter().collect::<HashSet<_>>().len(), 6, "{names:?}");

    const N: usize = 10;
    const CLIENTS: usize = 6;
    for k in 0..N {
        for (i, client) in clients.iter().enumerate() {
            send(client, &format!("c{i}-{k}")).await;
        }
    }
    for (i, client) in clients.iter().enumerate() {
        send(client, &format!("c{i}-end")).await;
    }
    for (me, client) in clients.iter_mut().enumerate() {
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        let mut ended = 0;
        while ended < CLIENTS - 1 {
            let line = next_text(client).await;
            let Some(text) = said(&line) else { continue };
            let (sender, what) = text.split_once('-').unwrap();
            assert_ne!(sender, format!("c{me}"), "an echo of its own line");
            if what == "end" {
                ended += 1;
            }
            seen.entry(sender.to_owned())
                .or_default()
                .push(what.to_owned());
        }
        assert_eq!(seen.len(), CLIENTS - 1, "client {me}: {seen:?}");
        for (sender, lines) in seen {
            let expected: Vec<String> = (0..N)
                .map(|k| k.to_string())
                .chain(["end".to_owned()])
                .collect();
            assert_eq!(lines, expected, "client {me} from {sender}");
        }
    }

    // History from Redis: a newcomer on another server gets the last three.
    for text in ["h-1", "h-2", "h-3"] {
        send(&clients[0], text).await;
    }
    wait_for(&mut clients[5], |l| said(l) == Some("h-3")).await;
    let mut newcomer = nodes[2].client().await;
    let mut replayed = Vec::new();
    while replayed.len() < 3 {
        let line = next_text(&mut newcomer).await;
        replayed.push(said(&line).unwrap_or(&line).to_owned());
    }
    assert_eq!(replayed, ["h-1", "h-2", "h-3"]);

    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test]
async fn a_crashed_servers_users_leave_who_within_the_expiry() {
    let Some(program) = redis_server("a_crashed_servers_users_leave_who_within_the_expiry") else {
        return;
    };
    let redis = Redis::start(&program).await;
    let a = Node::start(&redis, 0).await;
    let b = Node::start(&redis, 0).await;
    let c = Node::start(&redis, 0).await;
    let mut on_a = a.client().await;
    let mut on_b = b.client().await;
    let mut on_c = c.client().await;
    send(&on_c, "/nick carol").await;
    wait_for(&mut on_c, |l| l == "You are now [carol]").await;
    who_until(&mut on_a, |n| {
        n.len() == 3 && n.contains(&"[carol]".to_owned())
    })
    .await;

    // A crash: the run future is dropped, no leave line, no goodbye to Redis.
    c.task.abort();
    let names = who_until(&mut on_a, |n| !n.contains(&"[carol]".to_owned())).await;
    assert_eq!(names.len(), 2, "{names:?}");
    // And the room is told, once, by whichever server noticed first.
    wait_for(&mut on_b, |l| l == "[carol] disconnected").await;

    // The others carry on.
    send(&on_a, "still here").await;
    wait_for(&mut on_b, |l| said(l) == Some("still here")).await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn redis_restart_keeps_local_delivery_and_resumes_the_cluster() {
    let Some(program) = redis_server("redis_restart_keeps_local_delivery_and_resumes_the_cluster")
    else {
        return;
    };
    let mut redis = Redis::start(&program).await;
    let a = Node::start(&redis, 0).await;
    let b = Node::start(&redis, 0).await;
    let a1 = a.client().await;
    let mut a2 = a.client().await;
    let mut b1 = b.client().await;
    send(&a1, "before").await;
    wait_for(&mut a2, |l| said(l) == Some("before")).await;
    wait_for(&mut b1, |l| said(l) == Some("before")).await;
    assert!(a.healthz().await.ends_with("ok\n"));

    redis.stop().await;
    a.wait_redis(false).await;
    b.wait_redis(false).await;
    assert!(a.healthz().await.ends_with("degraded: redis unreachable\n"));
    // Local rooms go on.
    for k in 0..5 {
        send(&a1, &format!("during-{k}")).await;
    }
    for k in 0..5 {
        let line = wait_for(&mut a2, |l| said(l).is_some()).await;
        assert_eq!(said(&line), Some(format!("during-{k}").as_str()));
    }

    redis.restart().await;
    a.wait_redis(true).await;
    b.wait_redis(true).await;
    assert!(a.healthz().await.ends_with("ok\n"));
    send(&a1, "after").await;
    wait_for(&mut b1, |l| said(l) == Some("after")).await;
    let line = wait_for(&mut a2, |l| said(l).is_some()).await;
    assert_eq!(said(&line), Some("after"));
    a.shutdown().await;
    b.shutdown().await;
}
