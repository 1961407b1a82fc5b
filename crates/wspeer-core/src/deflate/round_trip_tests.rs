//! Compression and inflation: RFC 7692's examples, round trips in every mode,
//! the shared per-thread state, and the limits.

use super::{DeflateConfig, DeflateParams, InflateError, MessageDeflater, MessageInflater};
use crate::error::Side;

fn params(no_takeover: bool, bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: no_takeover,
        client_no_context_takeover: no_takeover,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    }
}

/// Inflates one whole message as a server receiving from a client.
fn inflate(
    inflater: &mut MessageInflater,
    payload: &[u8],
    limit: usize,
) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    inflater.inflate(payload, &mut out, limit)?;
    inflater.finish(&mut out, limit)?;
    Ok(out)
}

fn chat_text(n: usize) -> Vec<u8> {
    let lines = [
        "{\"user\":\"alice\",\"text\":\"are we still on for tonight?\"}",
        "{\"user\":\"bob\",\"text\":\"yes, eight o'clock at the usual place\"}",
        "{\"user\":\"carol\",\"text\":\"I'll bring the board game, don't forget the snacks\"}",
    ];
    lines
        .iter()
        .cycle()
        .take(n)
        .flat_map(|l| l.bytes().chain([b'\n']))
        .collect()
}

#[test]
fn rfc_7692_examples_inflate() {
    let p = params(false, 15);
    let hello = b"Hello".to_vec();
    // §7.2.3.1, §7.2.3.3 (stored), §7.2.3.4 (BFINAL), §7.2.3.5 (two blocks).
    for payload in [
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..],
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ],
    ] {
        let mut inflater = MessageInflater::new(Side::Server, &p);
        assert_eq!(
            inflate(&mut inflater, payload, 100),
            Ok(hello.clone()),
            "{payload:x?}"
        );
    }
    // §7.2.3.2: the second "Hello" refers to the first.
    let mut inflater = MessageInflater::new(Side::Server, &p);
    let first = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(inflate(&mut inflater, &first, 100), Ok(hello.clone()));
    assert_eq!(
        inflate(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00], 100),
        Ok(hello.clone())
    );
    // §7.2.1: the same message split across two frames.
    let mut inflater = MessageInflater::new(Side::Server, &p);
    let mut out = Vec::new();
    inflater
        .inflate(&[0xf2, 0x48, 0xcd], &mut out, 100)
        .unwrap();
    inflater
        .inflate(&[0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
        .unwrap();
    inflater.finish(&mut out, 100).unwrap();
    assert_eq!(out, hello);
    // After a final block the next message is a new stream, with takeover too.
    let mut inflater = MessageInflater::new(Side::Server, &p);
    let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(inflate(&mut inflater, &final_block, 100), Ok(hello.clone()));
    assert_eq!(inflate(&mut inflater, &first, 100), Ok(hello.clone()));
    // §7.2.3.6: an empty message.
    let mut inflater = MessageInflater::new(Side::Server, &p);
    assert_eq!(inflate(&mut inflater, &[0x00], 100), Ok(Vec::new()));
}

#[test]
fn we_compress_as_rfc_7692_says() {
    let mut deflater =
        MessageDeflater::new(Side::Server, &params(false, 15), &DeflateConfig::default());
    let mut out = Vec::new();
    deflater.compress(b"", &mut out);
    assert_eq!(out, [0x00], "§7.2.3.6");
    out.clear();
    deflater.compress(b"Hello", &mut out);
    assert!(
        !out.ends_with(&[0, 0, 0xff, 0xff]),
        "§7.2.1: the tail is removed"
    );
}

#[test]
fn round_trips_in_every_mode_window_and_level() {
    let messages: Vec<Vec<u8>> = (1..6).map(|i| chat_text(i * 7)).collect();
    for no_takeover in [true, false] {
        for bits in 9..=15u8 {
            for level in [1, 6, 9] {
                let p = params(no_takeover, bits);
                let config = DeflateConfig::default().level(level);
                let mut deflater = MessageDeflater::new(Side::Client, &p, &config);
                let mut inflater = MessageInflater::new(Side::Server, &p);
                for message in &messages {
                    let mut compressed = Vec::new();
                    deflater.compress(message, &mut compressed);
                    assert!(compressed.len() < message.len());
                    let back = inflate(&mut inflater, &compressed, 1 << 20);
                    assert_eq!(back.as_ref(), Ok(message), "bits {bits} level {level}");
                    assert_eq!(deflater.holds_state(), !no_takeover);
                    assert_eq!(inflater.holds_state(), !no_takeover);
                }
            }
        }
    }
}

#[test]
fn takeover_uses_the_context_and_release_keeps_the_peer_in_step() {
    let p = params(false, 15);
    let mut deflater = MessageDeflater::new(Side::Server, &p, &DeflateConfig::default());
    let mut inflater = MessageInflater::new(Side::Client, &p);
    let message = chat_text(3);
    let sizes: Vec<usize> = (0..3)
        .map(|i| {
            if i == 2 {
                deflater.release();
                assert!(!deflater.holds_state());
            }
            let mut compressed = Vec::new();
            deflater.compress(&message, &mut compressed);
            assert_eq!(
                inflate(&mut inflater, &compressed, 1 << 20),
                Ok(message.clone())
            );
            compressed.len()
        })
        .collect();
    assert!(
        sizes[1] * 4 < sizes[0],
        "the repeat refers to the first: {sizes:?}"
    );
    assert_eq!(sizes[2], sizes[0], "after release it starts afresh");
}

#[test]
fn connections_sharing_a_threads_state_do_not_see_each_other() {
    let p = params(true, 15);
    let config = DeflateConfig::default();
    let (a_text, b_text) = (
        chat_text(40),
        b"something else entirely, 0123456789".repeat(20),
    );
    let (mut a_deflater, mut b_deflater) = (
        MessageDeflater::new(Side::Client, &p, &config),
        MessageDeflater::new(Side::Client, &p, &config),
    );
    let mut a_wire = Vec::new();
    a_deflater.compress(&a_text, &mut a_wire);
    let mut b_wire = Vec::new();
    b_deflater.compress(&b_text, &mut b_wire);
    // Each message stands alone: a fresh inflater reads it.
    let mut fresh = MessageInflater::new(Side::Server, &p);
    assert_eq!(inflate(&mut fresh, &b_wire, 1 << 20), Ok(b_text.clone()));
    // A is inside a message while B receives two whole ones, then A ends.
    let (mut a, mut b) = (
        MessageInflater::new(Side::Server, &p),
        MessageInflater::new(Side::Server, &p),
    );
    let mut a_out = Vec::new();
    let half = a_wire.len() / 2;
    a.inflate(&a_wire[..half], &mut a_out, 1 << 20).unwrap();
    assert!(a.holds_state());
    for _ in 0..2 {
        assert_eq!(inflate(&mut b, &b_wire, 1 << 20), Ok(b_text.clone()));
        assert!(!b.holds_state());
    }
    a.inflate(&a_wire[half..], &mut a_out, 1 << 20).unwrap();
    a.finish(&mut a_out, 1 << 20).unwrap();
    assert_eq!(a_out, a_text);
    // And the same message compresses the same way on either connection.
    let mut again = Vec::new();
    b_deflater.compress(&a_text, &mut again);
    assert_eq!(again, a_wire);
}

#[test]
fn an_eight_bit_window_sends_uncompressed_but_stays_readable() {
    let p = params(true, 8);
    let deflater = MessageDeflater::new(Side::Server, &p, &DeflateConfig::default());
    assert!(!deflater.should_compress(10_000));
    // Should it be asked anyway: stored blocks, which any window reads.
    let mut deflater = deflater;
    let mut out = Vec::new();
    let text = chat_text(10);
    deflater.compress(&text, &mut out);
    let mut inflater = MessageInflater::new(Side::Client, &params(false, 8));
    assert_eq!(inflate(&mut inflater, &out, 1 << 20), Ok(text));
}

#[test]
fn the_threshold_decides() {
    let p = params(true, 15);
    let deflater = MessageDeflater::new(Side::Server, &p, &DeflateConfig::default().threshold(100));
    assert!(!deflater.should_compress(99));
    assert!(deflater.should_compress(100));
}

/// Deflate data for `mib` MiB of zeros in about a KiB per MiB: the first MiB
/// compressed, then the next (in a window of zeros, every later MiB
/// compresses to the same bytes) repeated.
pub(crate) fn zero_bomb(mib: usize) -> Vec<u8> {
    let p = params(false, 15);
    let mut deflater = MessageDeflater::new(Side::Client, &p, &DeflateConfig::default().level(9));
    let zeros = vec![0u8; 1 << 20];
    let (mut first, mut second, mut third) = (Vec::new(), Vec::new(), Vec::new());
    deflater.compress(&zeros, &mut first);
    deflater.compress(&zeros, &mut second);
    deflater.compress(&zeros, &mut third);
    assert_eq!(second, third);
    // compress() removed each tail; the inflater puts back only the last.
    let tail = [0x00, 0x00, 0xff, 0xff];
    let mut bomb = first;
    for _ in 1..mib {
        bomb.extend_from_slice(&tail);
        bomb.extend_from_slice(&second);
    }
    bomb
}

#[test]
fn a_bomb_stops_at_the_limit() {
    let bomb = zero_bomb(1024);
    assert!(bomb.len() < 2 << 20, "{} bytes for 1 GiB", bomb.len());
    for no_takeover in [true, false] {
        let mut inflater = MessageInflater::new(Side::Server, &params(no_takeover, 15));
        let limit = 64 * 1024;
        let mut out = Vec::new();
        let mut result = Ok(());
        for piece in bomb.chunks(4096) {
            result = inflater.inflate(piece, &mut out, limit);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(InflateError::TooBig));
        assert_eq!(out.len(), limit);
        assert!(out.capacity() <= limit, "{} allocated", out.capacity());
        assert!(
            !inflater.holds_state(),
            "a failed message gives up its state"
        );
    }
    // The exact size passes, one more byte does not.
    let text = chat_text(50);
    let p = params(true, 15);
    let mut deflater = MessageDeflater::new(Side::Client, &p, &DeflateConfig::default());
    let mut wire = Vec::new();
    deflater.compress(&text, &mut wire);
    let mut inflater = MessageInflater::new(Side::Server, &p);
    assert_eq!(inflate(&mut inflater, &wire, text.len()), Ok(text.clone()));
    assert_eq!(
        inflate(&mut inflater, &wire, text.len() - 1),
        Err(InflateError::TooBig)
    );
    assert_eq!(inflate(&mut inflater, &wire, text.len()), Ok(text));
}

#[test]
fn corrupt_streams_are_refused() {
    let p = params(true, 15);
    for payload in [
        &[0xff, 0xff, 0xff][..],               // reserved block type
        &[0x00, 0x05, 0x00, 0x00, 0x00, b'x'], // LEN != !NLEN
    ] {
        let mut inflater = MessageInflater::new(Side::Server, &p);
        assert_eq!(
            inflate(&mut inflater, payload, 1000),
            Err(InflateError::Corrupt),
            "{payload:x?}"
        );
    }
    // A distance before the start of a no-takeover message.
    let mut inflater = MessageInflater::new(Side::Server, &p);
    assert_eq!(
        inflate(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00], 1000),
        Err(InflateError::Corrupt)
    );
}
