//! Opening many connections from several loopback source addresses: each
//! address has its own ~28k ephemeral ports, so 100,000 connections to one
//! server port need at least four. Connection `i` comes from address
//! `i % sources`, and each address has a fixed number of handshakes running at
//! once, kept below the server's per-address limit on unfinished handshakes
//! (past which it drops that address's oldest one).

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    time::Duration,
};

use futures_util::{StreamExt, future, stream};
use tokio::net::{TcpSocket, TcpStream};

/// Longest a connection may take to open (TCP connect and handshake).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The source addresses: 127.0.0.2, 127.0.0.3, … (`count` of them; every
/// address of 127/8 is on the loopback interface).
pub(crate) fn addresses(count: usize) -> Vec<Ipv4Addr> {
    (0..count)
        .map(|i| Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + i as u32))
        .collect()
}

/// The connections of source `source` out of `sources`, of `count` in all.
pub(crate) fn lane(source: usize, sources: usize, count: usize) -> impl Iterator<Item = usize> {
    (source..count).step_by(sources.max(1))
}

/// A TCP connection to `addr` from `source` (port chosen by the kernel).
pub(crate) async fn connect_from(source: Ipv4Addr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddrV4::new(source, 0).into())?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens connections `0..count` with `open(index, source)`, `per_source` at
/// once from each of `sources`; returns each index with its outcome, and
/// reports progress on stderr every `every` connections.
pub(crate) async fn open_all<T, F, Fut>(
    count: usize,
    sources: &[Ipv4Addr],
    per_source: usize,
    open: F,
) -> Vec<(usize, anyhow::Result<T>)>
where
    F: Fn(usize, Ipv4Addr) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let open = &open;
    let done = std::cell::Cell::new(0usize);
    let done = &done;
    let every = (count / 10).max(1);
    let lanes = sources.iter().enumerate().map(|(s, &source)| {
        stream::iter(lane(s, sources.len(), count))
            .map(move |i| async move {
                let outcome = match tokio::time::timeout(OPEN_TIMEOUT, open(i, source)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(anyhow::anyhow!("not open after {OPEN_TIMEOUT:?}")),
                };
                done.set(done.get() + 1);
                if done.get().is_multiple_of(every) {
                    eprintln!("  {} of {count} opened", done.get());
                }
                (i, outcome)
            })
            .buffer_unordered(per_source.max(1))
            .collect::<Vec<_>>()
    });
    future::join_all(lanes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_cover_every_connection_once_from_distinct_addresses() {
        let sources = addresses(8);
        assert_eq!(sources[0], Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(sources[7], Ipv4Addr::new(127, 0, 0, 9));
        let mut seen = vec![0u8; 100_003];
        for s in 0..8 {
            let lane: Vec<usize> = lane(s, 8, seen.len()).collect();
            assert!(lane.iter().all(|i| i % 8 == s));
            // Even spread: no address takes more than its share plus one.
            assert!(lane.len() <= seen.len() / 8 + 1);
            for i in lane {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }
}
