//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the server
//! side of a connection fed with arbitrary bytes, in memory, on a runtime whose
//! clock jumps ahead when idle so that no timeout costs real time.

use std::{sync::Arc, time::Duration};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    config::Config, driver::Driver, handle::WebSocket, server_handshake, shared::Shared,
    state::ConnectionInfo,
};

/// Runs `data` as everything a client sends to a server: the handshake, then
/// frames. The application echoes every message. Must not panic, hang or grow
/// without bound, whatever the bytes.
pub fn server_input(data: &[u8]) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        let config = Arc::new(
            Config::default()
                .inbound_buffer_size(4096)
                .max_queued_packets(8)
                .supported_protocols(["chat"]),
        );
        let (mut client, server) = tokio::io::duplex(16 * 1024);
        let shared = Shared::new(config.clone(), String::new());
        let mut ws = WebSocket::new(shared.clone());
        let peer = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut sink = vec![0u8; 4096];
            while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        let serve = async {
            if let Ok((stream, accepted)) = server_handshake::accept(server, &config, "ws").await {
                shared.set_open(ConnectionInfo {
                    requested_url: accepted.requested_url,
                    selected_protocol: accepted.selected_protocol,
                    ..ConnectionInfo::default()
                });
                Driver::new(stream, shared.clone()).run().await;
            } else {
                shared.set_closed(None);
            }
        };
        let echo = async {
            while let Some(message) = ws.recv().await {
                let _ = ws.try_send(message);
            }
        };
        let all = async { tokio::join!(peer, serve, echo) };
        // Virtual time: a stuck connection shows up as this timeout, not a hang.
        if tokio::time::timeout(Duration::from_secs(3600), all)
            .await
            .is_err()
        {
            panic!("the connection did not end after its input ended");
        }
    });
}

/// Runs `data` as `Sec-WebSocket-Extensions` values (one per line) through
/// both sides of the negotiation. Must not panic; whatever a server answers
/// must be valid by its own grammar, and a server answering our own client's
/// offer must give an answer that client accepts.
pub fn deflate_negotiation(data: &[u8]) {
    use crate::deflate::{DeflateConfig, negotiate};
    let text = String::from_utf8_lossy(data);
    let values: Vec<&str> = text.split('\n').collect();
    let configs = [
        DeflateConfig::default(),
        DeflateConfig::default()
            .send_context_takeover(true)
            .receive_context_takeover(true)
            .send_window_bits(10)
            .receive_window_bits(12),
    ];
    for config in &configs {
        if let Some(agreement) = negotiate::server_accept(values.iter().copied(), config) {
            let reparsed = negotiate::server_accept([agreement.response.as_str()], config);
            assert!(
                reparsed.is_some(),
                "{:?} does not parse",
                agreement.response
            );
        }
        let _ = negotiate::client_check(values.iter().copied(), config);
        for server in &configs {
            let offer = negotiate::client_offer(config);
            let agreement = negotiate::server_accept([offer.as_str()], server).expect("our offer");
            let checked = negotiate::client_check([agreement.response.as_str()], config);
            assert_eq!(checked, Ok(agreement.params));
        }
    }
}

/// Runs `data` through a server's decoder with permessage-deflate on: its
/// first byte picks context takeover and window bits and how the rest is
/// split into reads, the rest is frames. Must not panic, and no message may
/// exceed the limit. Then `data` is compressed and must decode back whole.
pub fn deflate_decode(data: &[u8]) {
    use crate::{
        codec::{
            Role,
            decoder::{Decoder, Event},
        },
        deflate::{DeflateConfig, DeflateParams, MessageDeflater},
        error::Side,
    };
    const LIMIT: usize = 4096;
    let Some((&pick, frames)) = data.split_first() else {
        return;
    };
    let params = DeflateParams {
        server_no_context_takeover: pick & 1 != 0,
        client_no_context_takeover: pick & 2 != 0,
        server_max_window_bits: 8 + (pick >> 2 & 7),
        client_max_window_bits: 8 + (pick >> 5 & 7),
    };
    let step = usize::from(pick % 13) + 1;
    let mut decoder = Decoder::with_compression(Role::Server, LIMIT, Some(&params));
    'reads: for piece in frames.chunks(step) {
        let mut input = piece;
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(Event::Message(message))) => assert!(message.len() <= LIMIT),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break 'reads,
            }
        }
    }
    // Our own output, as one masked frame, decodes to what went in.
    let payload = &frames[..frames.len().min(LIMIT)];
    let mut deflater = MessageDeflater::new(Side::Client, &params, &DeflateConfig::default());
    let mut compressed = Vec::new();
    deflater.compress(payload, &mut compressed);
    let mut frame = vec![0xC2, 0x80 | 127];
    frame.extend_from_slice(&(compressed.len() as u64).to_be_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&compressed);
    let mut decoder = Decoder::with_compression(Role::Server, LIMIT, Some(&params));
    let mut input = &frame[..];
    match decoder.decode(&mut input) {
        Ok(Some(Event::Message(message))) => assert_eq!(message.into_payload(), payload),
        other => panic!("our own compressed message decoded as {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_session_and_garbage_both_end() {
        let mut session =
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
            Sec-WebSocket-Protocol: chat\r\n\r\n"
                .to_vec();
        // A masked "hi" text frame, then a masked close 1000.
        session.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
        session.extend_from_slice(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        server_input(&session);
        server_input(b"\x16\x03\x01garbage\r\n\r\n");
        server_input(b"");
    }

    #[test]
    fn the_deflate_targets_run_on_their_seeds() {
        deflate_negotiation(b"permessage-deflate; client_max_window_bits\nx, permessage-deflate; server_max_window_bits=9");
        deflate_negotiation(b"permessage-deflate; a=\"");
        deflate_negotiation(b"");
        deflate_decode(&[
            0x03, 0xC1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
        ]);
        deflate_decode(b"\x00garbage\xff\xff");
        deflate_decode(&[0xff; 300]);
    }

    /// A cheap stand-in for the fuzzer where there is no nightly toolchain:
    /// byte flips of a valid compressed session.
    #[test]
    fn the_deflate_decoder_survives_byte_flips() {
        let mut seed = vec![0x03, 0xC1, 0x87, 1, 2, 3, 4];
        seed.extend(
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
                .iter()
                .zip([1, 2, 3, 4].iter().cycle())
                .map(|(b, k)| b ^ k),
        );
        seed.extend_from_slice(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        let mut x = 7u64;
        for _ in 0..20_000 {
            let mut input = seed.clone();
            for _ in 0..3 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (x >> 33) as usize % input.len();
                input[at] ^= (x >> 25) as u8;
            }
            deflate_decode(&input);
        }
    }
}
