//! The cost of an idle `WebSocketPeer::poll()`: an open client/server pair of
//! facade peers in this process, and `poll()` on the client with nothing
//! arriving. The criterion benchmark `benches/idle_poll.rs` measures it
//! properly; [`quick_ns_per_poll`] is the rough figure `all` prints.

use std::time::{Duration, Instant};

use anyhow::bail;
use wspeer::{ReadyState, TcpServer, WebSocketPeer};

/// An open pair of facade peers on loopback; keep it alive while measuring.
#[derive(Debug)]
pub struct PeerPair {
    /// The client side; poll this one.
    pub client: WebSocketPeer,
    /// The server side.
    pub server: WebSocketPeer,
    _listener: TcpServer,
}

/// Opens a client and a server peer connected to each other.
pub fn open_pair() -> anyhow::Result<PeerPair> {
    let mut listener = TcpServer::new();
    listener.listen(0, "127.0.0.1")?;
    let mut client = WebSocketPeer::new();
    client.connect_to_url(&format!("ws://127.0.0.1:{}", listener.local_port()))?;
    let mut server: Option<WebSocketPeer> = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if server.is_none()
            && let Some(stream) = listener.take_connection()
        {
            let mut peer = WebSocketPeer::new();
            peer.accept_stream(stream)?;
            server = Some(peer);
        }
        client.poll();
        if let Some(peer) = &mut server {
            peer.poll();
            if peer.ready_state() == ReadyState::Open && client.ready_state() == ReadyState::Open {
                return Ok(PeerPair {
                    client,
                    server: server.take().expect("checked above"),
                    _listener: listener,
                });
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    bail!("the peer pair did not open within 10 s")
}

/// Times `polls` idle polls of an open peer; returns nanoseconds per poll.
pub fn quick_ns_per_poll(polls: u32) -> anyhow::Result<f64> {
    let mut pair = open_pair()?;
    // Warm the caches and the branch predictors first.
    for _ in 0..polls / 10 {
        pair.client.poll();
    }
    let start = Instant::now();
    for _ in 0..polls {
        pair.client.poll();
        std::hint::black_box(&pair.client);
    }
    let elapsed = start.elapsed();
    anyhow::ensure!(
        pair.client.ready_state() == ReadyState::Open && pair.client.available_packet_count() == 0,
        "the peer was not idle"
    );
    Ok(elapsed.as_nanos() as f64 / f64::from(polls))
}
