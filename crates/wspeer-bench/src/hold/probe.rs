//! What a fresh client sees while every connection is held: sequential round
//! trips on a new connection. Against the echo server, a 20-byte binary echo;
//! against the chat (which does not echo a line to its sender), two fresh
//! clients in a room of their own, timing A's line until B reads it.

use std::{net::SocketAddr, time::Instant};

use anyhow::{Context, bail, ensure};
use hdrhistogram::Histogram;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::line::{encode_text, server_payload};
use crate::{
    frame::{self, Codec},
    load,
};

/// Payload bytes of an echo probe.
const ECHO_SIZE: usize = 20;

/// `count` sequential echoes of 20 bytes on a fresh connection.
pub(crate) async fn echo(addr: SocketAddr, count: usize) -> anyhow::Result<Histogram<u64>> {
    let (mut stream, mut pending) = load::open(addr, true).await?;
    // The async-core server echoes unmasked, as servers send.
    let codec = Codec::new(0, ECHO_SIZE, false);
    let mut latency = load::new_histogram();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    for seq in 0..count as u64 {
        out.clear();
        codec.encode(seq, &mut out);
        let sent = Instant::now();
        stream.write_all(&out).await?;
        loop {
            if let Some(len) = codec.check_echo(&pending, seq)? {
                pending.drain(..len);
                break;
            }
            let n = stream.read(&mut chunk).await?;
            ensure!(n > 0, "the server closed the probe after {seq} echoes");
            pending.extend_from_slice(&chunk[..n]);
        }
        latency.record(sent.elapsed().as_nanos().max(1) as u64)?;
    }
    Ok(latency)
}

/// Opens a fresh chat client in `room` (from 127.0.0.1, apart from the held
/// connections' addresses).
async fn chat_client(addr: SocketAddr, room: &str) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let path = format!("/?room={room}");
    let pending = frame::upgrade(
        &mut stream,
        &addr.to_string(),
        &path,
        Some(wspeer_chat::config::PROTOCOL),
    )
    .await?;
    Ok((stream, pending))
}

/// `count` sequential lines from a fresh client A to a fresh client B, both
/// alone in `room`: the time from A's write until B has read the line.
pub(crate) async fn chat(
    addr: SocketAddr,
    room: &str,
    count: usize,
) -> anyhow::Result<Histogram<u64>> {
    let (mut a, _) = chat_client(addr, room).await.context("probe client A")?;
    let (mut b, mut pending) = chat_client(addr, room).await.context("probe client B")?;
    // A reads what it gets (B's arrival) so that nothing piles up for it.
    let (mut a_read, mut a_write) = a.split();
    let drain_a = async {
        let mut sink = [0u8; 1024];
        while matches!(a_read.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let lines = async {
        let mut latency = load::new_histogram();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        for seq in 0..count {
            let text = format!("p{seq}");
            let wanted = format!("] Says: {text}");
            out.clear();
            encode_text(&text, &mut out);
            let sent = Instant::now();
            a_write.write_all(&out).await?;
            'frames: loop {
                while let Some((opcode, len)) = frame::server_frame(&pending) {
                    let payload = server_payload(&pending[..len]).to_vec();
                    pending.drain(..len);
                    if opcode == 0x8 {
                        bail!("the chat closed probe client B after {seq} lines");
                    }
                    if opcode == 0x1 && payload.ends_with(wanted.as_bytes()) {
                        break 'frames;
                    }
                }
                let n = b.read(&mut chunk).await?;
                ensure!(n > 0, "the chat closed probe client B after {seq} lines");
                pending.extend_from_slice(&chunk[..n]);
            }
            latency.record(sent.elapsed().as_nanos().max(1) as u64)?;
        }
        anyhow::Ok(latency)
    };
    tokio::select! {
        latency = lines => latency,
        () = drain_a => bail!("the chat closed probe client A"),
    }
}
