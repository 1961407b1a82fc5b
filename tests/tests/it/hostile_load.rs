//! Hostile load after the handshake: a client that sends as fast as it
//! can and never reads, and a client that pings as fast as it can and never
//! reads. The server's memory for each stays within its configured budgets,
//! the connection stays usable, and another client is served meanwhile.
//!
//! The tests measure the process (its memory, how far a flooder gets), so they
//! take turns: see [`SERIAL`].

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncWrite, AsyncWriteExt},
    sync::Mutex,
    task::JoinHandle,
};
use wspeer_core::{Config, Message, WebSocket, connect_with};
use wspeer_tests::{
    frames::{BINARY, CLOSE, PING, PONG, client_frame, close_payload, read_frame},
    probe::{kernel_buffer_bound, mib, rss_bytes},
    raw_http::raw_client_handshake,
    server::{TestServer, assert_echo},
    within,
};

/// The tests of this file run one at a time: each watches the process (its
/// memory, how far a writer gets), which the other's flood would disturb.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// A task that writes chunks of bytes to a socket and counts what it took.
struct Writer<W> {
    written: Arc<AtomicUsize>,
    task: JoinHandle<W>,
}

impl<W: AsyncWrite + Send + Unpin + 'static> Writer<W> {
    /// Writes every chunk in turn; all over again while `repeat`, until more
    /// than `cap` bytes are written. The task gives the socket back. The chunks
    /// are shared so that the caller can keep them alive: freeing them would
    /// lower the memory a test measures.
    fn start(mut stream: W, chunks: Arc<Vec<Vec<u8>>>, repeat: bool, cap: usize) -> Self {
        let written = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let written = written.clone();
            async move {
                loop {
                    for chunk in chunks.iter() {
                        stream
                            .write_all(chunk)
                            .await
                            .expect("the socket takes the flood");
                        let total = written.fetch_add(chunk.len(), Ordering::SeqCst) + chunk.len();
                        if total > cap {
                            return stream;
                        }
                    }
                    if !repeat {
                        return stream;
                    }
                }
            }
        });
        Self { written, task }
    }

    fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// Waits until the writer is done or has made no progress for a second (the
    /// socket is full: the server stopped reading). Returns whether it is done.
    /// A busy machine can only make it stop waiting early, which never fails a
    /// test by itself.
    async fn done_or_stalled(&self) -> bool {
        within("the writer to finish or stall", async {
            let mut last = self.written();
            let mut still = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if self.task.is_finished() {
                    return true;
                }
                let now = self.written();
                if now == last {
                    still += 1;
                    if still == 10 {
                        return false;
                    }
                } else {
                    (last, still) = (now, 0);
                }
            }
        })
        .await
    }
}

/// The largest values seen on the server side of the flooding connection.
#[derive(Debug, Default)]
struct Watch {
    buffered_amount: AtomicUsize,
    available: AtomicUsize,
    samples: AtomicUsize,
    echoed: AtomicUsize,
}

impl Watch {
    fn sample(&self, ws: &WebSocket) {
        self.buffered_amount
            .fetch_max(ws.buffered_amount(), Ordering::SeqCst);
        self.available.fetch_max(ws.available(), Ordering::SeqCst);
        self.samples.fetch_add(1, Ordering::SeqCst);
    }
}

/// Echoes every message on `ws`, and every 2 ms, and around every receive and
/// send, records the queue levels in `watch`.
async fn watched_echo(mut ws: WebSocket, watch: Arc<Watch>) {
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    loop {
        watch.sample(&ws);
        let message = tokio::select! {
            message = ws.recv() => message,
            _ = tick.tick() => continue,
        };
        let Some(message) = message else { break };
        watch.sample(&ws);
        let send = ws.send(message);
        tokio::pin!(send);
        let sent = loop {
            tokio::select! {
                sent = &mut send => break sent,
                _ = tick.tick() => watch.sample(&ws),
            }
        };
        if sent.is_err() {
            break;
        }
        watch.echoed.fetch_add(1, Ordering::SeqCst);
    }
}

/// Echoes every message on `ws` until it closes.
async fn echo(mut ws: WebSocket) {
    while let Some(message) = ws.recv().await {
        if ws.send(message).await.is_err() {
            break;
        }
    }
}

/// Masked binary frames of varied sizes (0 to 2 KB), about `total` bytes.
fn flood_chunk(total: usize) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(total + 4096);
    let mut i = 0usize;
    while chunk.len() < total {
        let size = (i * 397) % 2048;
        chunk.extend(client_frame(true, BINARY, &vec![(i % 251) as u8; size]));
        i += 1;
    }
    chunk
}

const QUEUE: usize = 32;
const BUDGET: usize = 16 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_floods_and_never_reads_stays_within_the_queue_budgets() {
    let _turn = SERIAL.lock().await;
    let config = Config::default()
        .max_queued_packets(QUEUE)
        .inbound_buffer_size(BUDGET)
        .outbound_buffer_size(BUDGET);
    let mut server = TestServer::start(config).await;
    let (flooder, _) = raw_client_handshake(server.addr()).await;
    let flooder_ws = server.accept().await;
    let watch = Arc::new(Watch::default());
    tokio::spawn(watched_echo(flooder_ws, watch.clone()));

    // What the flood can put in flight when everything works: the kernel's
    // buffers both ways, plus the server's queues and tungstenite's buffers
    // (a few budgets). A server that buffered without bound would let the
    // flooder write on for ever; past this, the test fails.
    let cap = 2 * kernel_buffer_bound() + 16 * BUDGET + (8 << 20);
    let writer = Writer::start(flooder, Arc::new(vec![flood_chunk(256 * 1024)]), true, cap);

    // Meanwhile another client is served promptly, again and again.
    let mut client = within(
        "a normal client to connect",
        connect_with(&server.url("/normal"), Config::default()),
    )
    .await
    .expect("connect during the flood");
    tokio::spawn(echo(server.accept().await));
    for i in 0..20 {
        assert_echo(&mut client, Message::text(format!("during the flood {i}"))).await;
    }

    let done = writer.done_or_stalled().await;
    let written = writer.written();
    assert!(
        !done && written <= cap,
        "the flooder wrote {:.1} MiB (cap {:.1} MiB) without being held back: the server \
         buffers without bound",
        mib(written),
        mib(cap)
    );
    // Still served while the flooder is stuck.
    for i in 0..20 {
        assert_echo(&mut client, Message::binary(vec![i as u8; 1000])).await;
    }

    let buffered = watch.buffered_amount.load(Ordering::SeqCst);
    let available = watch.available.load(Ordering::SeqCst);
    assert!(
        buffered <= BUDGET,
        "buffered_amount reached {buffered}, budget {BUDGET}"
    );
    assert!(
        available <= QUEUE,
        "available reached {available}, max_queued_packets {QUEUE}"
    );
    // The flood did reach the server's queues (else the bounds prove nothing).
    assert!(buffered > 0 && available > 0, "{watch:?}");
    assert!(watch.echoed.load(Ordering::SeqCst) > QUEUE, "{watch:?}");

    writer.task.abort();
    client.close(1000, "").expect("close");
    assert_eq!(within("the close", client.closed()).await.code, 1000);
}

/// The payload of ping `i`: its number, padded to the 125 bytes a control frame
/// may carry at most (so that each unanswered pong costs as much as it can).
fn ping_payload(i: usize) -> Vec<u8> {
    let mut payload = format!("{i:08}").into_bytes();
    payload.resize(125, b'.');
    payload
}

/// A raw client sends `count` pings with 125-byte payloads as fast as it can,
/// without reading, then a binary message, to an echo server with `config`; a
/// normal client is served meanwhile. Once the server has read everything (or
/// stopped reading: TCP backpressure is a fine answer too), the process's memory
/// is measured. Then the raw client reads: pongs, each answering one of its pings,
/// in order, the last ping answered; the echo of its message, which shows the
/// connection still open and usable; and the answer to its close frame.
///
/// Returns how much the process's resident memory grew from before the flood to
/// the moment the server had read every ping (or stopped reading them).
async fn ping_flood(config: Config, count: usize) -> isize {
    let mut server = TestServer::start(config).await;
    let (raw, _) = raw_client_handshake(server.addr()).await;
    let mut raw_ws = server.accept().await;
    let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = raw_ws.recv().await {
            let _ = got_tx.send(message.clone());
            if raw_ws.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut client = within(
        "a normal client to connect",
        connect_with(&server.url("/normal"), Config::default()),
    )
    .await
    .expect("connect");
    tokio::spawn(echo(server.accept().await));
    assert_echo(&mut client, Message::text("before the pings")).await;

    let numbers: Vec<usize> = (0..count).collect();
    let mut chunks: Vec<Vec<u8>> = numbers
        .chunks(500)
        .map(|chunk| {
            chunk
                .iter()
                .flat_map(|&i| client_frame(true, PING, &ping_payload(i)))
                .collect()
        })
        .collect();
    let after = Message::binary(b"after the pings".to_vec());
    chunks.push(client_frame(true, BINARY, after.payload()));

    let (mut reader, writer_half) = raw.into_split();
    let rss_before = rss_bytes();
    let chunks = Arc::new(chunks);
    let mut writer = Writer::start(writer_half, chunks.clone(), false, usize::MAX);
    // Meanwhile the normal client is served.
    for i in 0..10 {
        assert_echo(&mut client, Message::text(format!("during the pings {i}"))).await;
    }
    // Either the server reads every ping, answering or coalescing the pongs it
    // cannot write yet, and then the message after them; or it stops reading
    // while its pongs cannot go out, and TCP holds the writer back.
    let stalled = tokio::select! {
        message = within("the server to read the message after the pings", got.recv()) => {
            assert_eq!(message, Some(after.clone()));
            false
        }
        // Only a stall ends the wait here: a writer that is done has handed
        // everything to the kernel, not necessarily to the server yet.
        false = writer.done_or_stalled() => true,
    };
    let rss_growth = rss_bytes() as isize - rss_before as isize;
    drop(chunks);
    assert_echo(&mut client, Message::text("after the pings")).await;

    // Now read. Pongs answer pings in order; tungstenite may skip some (while a
    // pong cannot be written a newer one replaces it, as RFC 6455 §5.5.3 allows),
    // and may send one after the echo.
    let mut pongs = 0;
    let mut last_answered = None;
    let mut writer_half = None;
    loop {
        let frame = within("the next frame from the server", read_frame(&mut reader))
            .await
            .expect("read a frame")
            .expect("a frame before EOF");
        match frame.opcode {
            PONG => {
                let number: usize = std::str::from_utf8(&frame.payload[..8])
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("a pong that answers no ping: {frame:?}"));
                assert_eq!(frame.payload, ping_payload(number), "pong {number}");
                assert!(
                    last_answered.is_none_or(|last| number > last),
                    "pong {number} after pong {last_answered:?}"
                );
                last_answered = Some(number);
                pongs += 1;
            }
            BINARY if writer_half.is_none() => {
                assert_eq!(frame.payload, after.payload().to_vec(), "the echo");
                // The writer is done now, if TCP held it back before.
                let mut half = within("the writer to finish", &mut writer.task)
                    .await
                    .expect("writer task");
                half.write_all(&client_frame(true, CLOSE, &close_payload(1000, "done")))
                    .await
                    .expect("send a close frame");
                writer_half = Some(half);
            }
            CLOSE if writer_half.is_some() => {
                assert_eq!(frame.close_code(), Some(1000), "{frame:?}");
                break;
            }
            _ => panic!("unexpected frame: {frame:?}"),
        }
    }
    assert!(pongs >= 1, "no pong came back");
    assert_eq!(
        last_answered,
        Some(count - 1),
        "the last ping was never answered"
    );
    if stalled {
        // Backpressure, not loss: every message still arrived.
        assert_eq!(within("the message", got.recv()).await, Some(after));
    }
    assert_echo(&mut client, Message::text("at the end")).await;
    client.close(1000, "").expect("close");
    assert_eq!(within("the close", client.closed()).await.code, 1000);
    drop(writer_half);
    rss_growth
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pings_from_a_client_that_does_not_read_are_answered() {
    let _turn = SERIAL.lock().await;
    ping_flood(Config::default(), 10_000).await;
}

/// Pings in the memory tests: 25 MB of pongs, far more than the kernel's socket
/// buffers can hold for a client that does not read (a few MB on loopback), so
/// a server that kept every pong would hold most of them itself.
const MANY_PINGS: usize = 200_000;

/// How much the process may grow while the server reads [`MANY_PINGS`] pings.
/// A bounded server grows by its write buffer at most (~150 KB with the default
/// budgets; 0.4 MiB measured); one that keeps every pong grows by 15 to 20 MiB.
const PING_MEMORY_TOLERANCE: isize = 8 << 20;

async fn ping_flood_memory_is_bounded(config: Config) {
    let growth = ping_flood(config, MANY_PINGS).await;
    assert!(
        growth <= PING_MEMORY_TOLERANCE,
        "the process grew by {:.1} MiB while the server read {MANY_PINGS} pings from a \
         client that did not read: the server buffers its pongs without bound",
        mib(growth.unsigned_abs())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_flood_costs_the_server_bounded_memory() {
    let _turn = SERIAL.lock().await;
    ping_flood_memory_is_bounded(Config::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_flood_costs_bounded_memory_even_without_an_outbound_byte_limit() {
    // `outbound_buffer_size(0)` lifts the limit on the application's own queued
    // messages; pongs are the peer's doing and must stay bounded all the same.
    let _turn = SERIAL.lock().await;
    ping_flood_memory_is_bounded(Config::default().outbound_buffer_size(0)).await;
}
