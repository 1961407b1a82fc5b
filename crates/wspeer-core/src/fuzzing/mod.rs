//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the server
//! side of a connection fed with arbitrary bytes, in memory, on a runtime whose
//! clock jumps ahead when idle so that no timeout costs real time; and the
//! connection state machine alone, driven by arbitrary events
//! ([`connection_machine`]); permessage-deflate's negotiation and compressed
//! decoding ([`deflate_negotiation`], [`deflate_decode`]).

mod deflate;
mod machine;

pub use deflate::{deflate_decode, deflate_negotiation};
pub use machine::connection_machine;

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
                .supported_protocols(["chat"])
                // Inputs that offer it exercise inflating, with a kept context.
                .permessage_deflate(
                    crate::DeflateConfig::default()
                        .receive_context_takeover(true)
                        .send_context_takeover(true),
                ),
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
                    compression: accepted.compression,
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
    fn the_machine_survives_arbitrary_events() {
        // Seeds of every kind of event, then pseudo-random sequences.
        connection_machine(&[0, 0, 6, 0x81, 0x80, 0, 0, 0, 0, 3, 255]);
        connection_machine(&[9, 2, 40, 3, 0, 4, 200, 4, 200, 0, 2, 0x89, 0]);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..400 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            connection_machine(&data);
        }
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
