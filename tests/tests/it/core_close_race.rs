//! A send that returns `Ok` is delivered, even when the peer's close frame
//! arrives while other threads are sending as fast as they can: every message
//! whose `try_send` returned `Ok` reaches the peer before our close frame, and
//! every other send failed.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use tokio::io::AsyncWriteExt;
use wspeer_core::{Config, Message, SendError};
use wspeer_tests::{
    WAIT,
    frames::{BINARY, CLOSE, client_frame, close_payload, read_frame},
    raw_http::raw_client_handshake,
    server::TestServer,
    within,
};

/// Connections, each closed by the peer in the middle of the sending.
const ROUNDS: usize = 300;
/// Threads sending on each.
const SENDERS: usize = 3;

/// Sends numbered messages until one is refused as not open; returns the
/// numbers whose send returned `Ok`.
fn send_until_closed(
    sender: wspeer_core::Sender,
    next: Arc<AtomicU64>,
    started: Arc<AtomicBool>,
) -> Vec<u64> {
    let mut sent = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let id = next.fetch_add(1, Ordering::Relaxed);
        match sender.try_send(Message::binary(id.to_be_bytes().to_vec())) {
            Ok(()) => {
                sent.push(id);
                started.store(true, Ordering::Release);
            }
            Err(SendError::Full(_)) => thread::yield_now(),
            Err(SendError::NotOpen(_)) => return sent,
            Err(other) => panic!("unexpected send error: {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "the connection never stopped taking sends"
        );
        // A few microseconds between sends, so that the queue is often
        // empty when the close comes and a send lands right behind it.
        let pause = Instant::now() + Duration::from_nanos(1_000 + (id % 8) * 1_000);
        while Instant::now() < pause {
            std::hint::spin_loop();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_send_that_returned_ok_arrives_before_the_close_frame() {
    let mut server = TestServer::start(Config::default()).await;
    for round in 0..ROUNDS {
        let (mut peer, _) = raw_client_handshake(server.addr()).await;
        let ws = server.accept().await;
        let next = Arc::new(AtomicU64::new(0));
        let started = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                let (sender, next, started) = (ws.sender(), next.clone(), started.clone());
                thread::spawn(move || send_until_closed(sender, next, started))
            })
            .collect();
        // Read a few of the messages, then close while the senders go on.
        let mut received = Vec::new();
        let wanted_before_close = round % 8;
        while received.len() < wanted_before_close || !started.load(Ordering::Acquire) {
            let frame = within("a message", read_frame(&mut peer))
                .await
                .expect("read")
                .expect("a frame");
            assert_eq!(frame.opcode, BINARY);
            received.push(u64::from_be_bytes(
                frame.payload.try_into().expect("8 bytes"),
            ));
        }
        peer.write_all(&client_frame(true, CLOSE, &close_payload(1000, "bye")))
            .await
            .expect("send the close frame");
        let close = loop {
            let frame = within("the rest and the close echo", read_frame(&mut peer))
                .await
                .expect("read")
                .expect("the server's close frame before EOF");
            match frame.opcode {
                BINARY => received.push(u64::from_be_bytes(
                    frame.payload.try_into().expect("8 bytes"),
                )),
                CLOSE => break frame,
                other => panic!("unexpected opcode {other}"),
            }
        };
        assert_eq!(close.close_code(), Some(1000));
        let mut sent = BTreeSet::new();
        for sender in senders {
            sent.extend(sender.join().expect("a sender thread"));
        }
        let received: BTreeSet<u64> = received.into_iter().collect();
        let lost: Vec<_> = sent.difference(&received).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} sends returned Ok and never arrived: {lost:?}",
            lost.len(),
            sent.len()
        );
        assert!(
            received.is_subset(&sent),
            "round {round}: a message that was never sent"
        );
        assert_eq!(within("the server to close", ws.closed()).await.code, 1000);
    }
}
