//! Clients that vanish without a close: 2,000 of them connect, finish
//! the handshake and then reset the TCP connection. The server must release every
//! task and buffer they cost, and keep serving.
//!
//! Alone in its file, so that it runs in a process of its own: it measures the
//! process's resident memory and the runtime's live tasks, which other tests
//! running beside it would disturb.

use std::net::SocketAddr;

use futures_util::future::join_all;
use wspeer_core::{Config, Message, connect_with};
use wspeer_tests::{
    eventually,
    probe::{alive_tasks, mib, raise_fd_limit, rss_bytes},
    raw_http::raw_client_handshake,
    server::{EchoServer, assert_echo},
    within,
};

/// Clients per round.
const CLIENTS: usize = 2000;

/// Clients connecting at once: enough to have many connections open together,
/// few enough to keep the load modest on a small CI machine.
const BATCH: usize = 100;

/// How much the resident memory may grow from the end of the warm-up round to
/// the end of the measured round.
///
/// Why a tolerance and a warm-up: the allocator keeps memory it was given back
/// (glibc's malloc keeps freed chunks in its arenas, one per thread, and rarely
/// returns them to the kernel), and Tokio keeps its own caches. So the first
/// round grows the process for good, leak or not. The second round does the same
/// work and should reuse that memory. If the server kept the state of its
/// vanished connections (each holds at least an 8 KiB read buffer, its queues and
/// its task: well over 10 KB), 2,000 of them would grow the process by 20 MB or
/// more; 10 MiB leaves room for the allocator's noise and still catches that.
const RSS_TOLERANCE: usize = 10 << 20;

/// Connects, completes the handshake by hand, then resets the connection: linger
/// zero makes the close send RST instead of FIN, and no close frame is sent.
async fn vanish(addr: SocketAddr) {
    let (stream, _) = raw_client_handshake(addr).await;
    stream.set_zero_linger().expect("SO_LINGER 0");
    drop(stream);
}

/// Runs one round of vanishing clients, in batches, with `between` after each
/// batch; then waits until the server has seen `vanished` clients in all end
/// without a closing handshake, and has dropped the handle of every connection
/// but `still_open`.
async fn vanishing_round(
    server: &EchoServer,
    vanished: usize,
    still_open: usize,
    mut between: impl AsyncFnMut(),
) {
    for _ in 0..CLIENTS / BATCH {
        within(
            "a batch of clients to connect and vanish",
            join_all((0..BATCH).map(|_| vanish(server.addr()))),
        )
        .await;
        between().await;
    }
    eventually("the server to see every vanished client end", || {
        let (opened, ended, unclean) = server.counters().get();
        if unclean == vanished && opened == ended + still_open {
            Ok(())
        } else {
            Err(format!(
                "{opened} opened, {ended} ended, {unclean} of them without a close; \
                 expected {vanished} without a close and {still_open} still open"
            ))
        }
    })
    .await;
}

/// Waits until the runtime runs exactly `baseline` tasks again.
async fn tasks_back_to(baseline: usize, what: &str) {
    eventually(what, || match alive_tasks() {
        n if n == baseline => Ok(()),
        n => Err(format!("{n} tasks alive, baseline {baseline}")),
    })
    .await;
}

/// A normal client connects, exchanges messages with the echo server, and closes.
async fn normal_client(server: &EchoServer, text: &str) {
    let mut client = within(
        "a normal client to connect",
        connect_with(&server.url("/normal"), Config::default()),
    )
    .await
    .expect("connect");
    assert_echo(&mut client, Message::text(text)).await;
    client.close(1000, "").expect("close");
    assert_eq!(within("the close", client.closed()).await.code, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_clients_that_vanish_without_a_close_release_everything() {
    raise_fd_limit(4 * BATCH as u64 + 256);
    let server = EchoServer::start(Config::default()).await;
    // The accept loop: the only task before any connection.
    let baseline_tasks = alive_tasks();

    // Warm-up: the same work as the measured round.
    vanishing_round(&server, CLIENTS, 0, async || {}).await;
    normal_client(&server, "after the warm-up").await;
    tasks_back_to(baseline_tasks, "the tasks of the warm-up round to end").await;
    let (opened, ended, unclean) = server.counters().get();
    assert_eq!((opened, ended), (CLIENTS + 1, CLIENTS + 1));
    assert_eq!(
        unclean, CLIENTS,
        "every vanished client ends without a close"
    );
    let rss_baseline = rss_bytes();

    // The measured round, with a normal client connected throughout and talking
    // between the batches.
    let mut client = within(
        "a normal client to connect",
        connect_with(&server.url("/normal"), Config::default()),
    )
    .await
    .expect("connect");
    let mut batch = 0;
    vanishing_round(&server, 2 * CLIENTS, 1, async || {
        batch += 1;
        assert_echo(&mut client, Message::text(format!("after batch {batch}"))).await;
    })
    .await;
    client.close(1000, "").expect("close");
    assert_eq!(within("the close", client.closed()).await.code, 1000);
    normal_client(&server, "after the measured round").await;

    // Every task is gone ...
    tasks_back_to(baseline_tasks, "the tasks of the measured round to end").await;
    let (opened, ended, unclean) = server.counters().get();
    assert_eq!(
        (opened, ended, unclean),
        (2 * CLIENTS + 3, 2 * CLIENTS + 3, 2 * CLIENTS)
    );
    // ... and so is their memory.
    let rss = rss_bytes();
    assert!(
        rss <= rss_baseline + RSS_TOLERANCE,
        "resident memory grew from {:.1} MiB to {:.1} MiB over a round of {CLIENTS} \
         vanished clients (tolerance {:.1} MiB)",
        mib(rss_baseline),
        mib(rss),
        mib(RSS_TOLERANCE)
    );
}
