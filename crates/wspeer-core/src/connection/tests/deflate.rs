//! Messages through a connection that agreed on permessage-deflate: what we
//! send is compressed from the threshold on (RSV1 on its frame, never on a
//! control frame), what the peer compresses is inflated within the limits.

use super::*;
use crate::{
    deflate::{DEFAULT_THRESHOLD, DeflateConfig, DeflateParams, MessageDeflater},
    error::Side,
};

fn no_takeover() -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateParams::default()
    }
}

/// A server that keeps its compression context (the client does not).
fn keeping_context() -> Sim {
    let params = DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    compressing(DeflateConfig::default().send_context_takeover(true), params)
}

fn compressing(settings: DeflateConfig, params: DeflateParams) -> Sim {
    Sim::compressed(config().permessage_deflate(settings), Some(params))
}

/// Chat-like text that compresses well.
fn chatty(len: usize) -> String {
    "alice: are we meeting at the usual place tonight? ".repeat(len / 50 + 1)[..len].to_owned()
}

/// The first byte of every frame on the wire, in order.
fn first_bytes(mut wire: &[u8]) -> Vec<u8> {
    let mut firsts = Vec::new();
    while let Some((header, used)) = crate::codec::header::parse(wire).expect("a frame") {
        firsts.push(wire[0]);
        wire = &wire[used + header.payload_len as usize..];
    }
    firsts
}

/// A client's compressed text frame, masked.
fn compressed_text(deflater: &mut MessageDeflater, text: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    deflater.compress(text.as_bytes(), &mut payload);
    frame(0x40 | 0x1, true, &payload)
}

#[test]
fn messages_from_the_threshold_on_go_compressed_and_arrive_whole() {
    let mut sim = compressing(DeflateConfig::default(), no_takeover());
    let short = chatty(DEFAULT_THRESHOLD - 1);
    let long = chatty(4000);
    sim.send(&short);
    sim.send(&long);
    sim.conn.request_close(1000, "");
    sim.transmit();
    // Text under the threshold plain, over it with RSV1, the close plain.
    assert_eq!(first_bytes(&sim.wire), [0x81, 0xC1, 0x88]);
    assert!(sim.wire.len() < short.len() + long.len() / 4, "compressed");
    assert_eq!(
        sim.peer_got(),
        [msg(&short), msg(&long), close_event(1000, "")]
    );
}

#[test]
fn without_compression_agreed_every_frame_is_plain() {
    let mut sim = Sim::new(config().permessage_deflate(DeflateConfig::default()));
    sim.send(&chatty(4000));
    sim.transmit();
    assert_eq!(first_bytes(&sim.wire), [0x81]);
}

#[test]
fn pongs_and_pings_are_never_compressed() {
    let mut sim = compressing(DeflateConfig::default().threshold(0), no_takeover());
    sim.feed(&frame(0x9, true, &[b'p'; 125]));
    sim.send(&"x".repeat(100));
    sim.transmit();
    assert_eq!(first_bytes(&sim.wire), [0x8A, 0xC1]);
}

#[test]
fn with_send_takeover_the_context_carries_over_and_is_released_at_the_close() {
    let mut sim = keeping_context();
    let line = chatty(1000);
    sim.send(&line);
    sim.transmit();
    let first = sim.wire.len();
    sim.send(&line);
    sim.transmit();
    let second = sim.wire.len() - first;
    assert!(
        second * 4 < first,
        "the repeat refers back: {second} vs {first}"
    );
    assert!(sim.conn.deflater.as_ref().unwrap().holds_state());
    sim.conn.request_close(1000, "");
    sim.transmit();
    assert!(!sim.conn.deflater.as_ref().unwrap().holds_state());
    assert_eq!(
        sim.peer_got(),
        [msg(&line), msg(&line), close_event(1000, "")]
    );
}

#[test]
fn the_peers_compressed_messages_are_inflated_and_delivered() {
    let params = no_takeover();
    let mut sim = compressing(DeflateConfig::default(), params);
    let mut client = MessageDeflater::new(Side::Client, &params, &DeflateConfig::default());
    let lines = [chatty(10), chatty(3000), String::new()];
    let input: Vec<u8> = lines
        .iter()
        .flat_map(|line| compressed_text(&mut client, line))
        .collect();
    sim.feed(&input);
    let got: Vec<Message> = sim.inbox.drain(..).collect();
    let want: Vec<Message> = lines.iter().map(|l| Message::text(l.clone())).collect();
    assert_eq!(got, want);
}

/// A few KiB that inflate to far more than `inbound_buffer_size`: 1009 once
/// the limit is passed, what came before delivered first.
#[test]
fn a_decompression_bomb_fails_with_1009_after_what_came_before() {
    let params = no_takeover();
    let limit = 64 * 1024;
    let mut sim = Sim::compressed(
        config()
            .inbound_buffer_size(limit)
            .permessage_deflate(DeflateConfig::default()),
        Some(params),
    );
    let mut client = MessageDeflater::new(Side::Client, &params, &DeflateConfig::default());
    let mut input = compressed_text(&mut client, "before");
    let bomb = crate::deflate::round_trip_tests::zero_bomb(16);
    assert!(bomb.len() < 64 * 1024, "a small input: {}", bomb.len());
    input.extend(frame(0x40 | 0x2, true, &bomb));
    sim.feed(&input);
    assert_eq!(sim.app_reads(), [Message::text("before")]);
    sim.transmit();
    assert_eq!(sim.end(), Some(End::Fail(1009, "Message too big")));
}

#[test]
fn rsv1_without_compression_agreed_fails_with_1002() {
    let mut sim = Sim::new(config());
    sim.feed(&[text("ok"), frame(0x40 | 0x1, true, b"\x4b\x04\x00")].concat());
    assert_eq!(sim.app_reads(), [Message::text("ok")]);
    assert_eq!(sim.end(), Some(End::Fail(1002, "Protocol error")));
}

#[test]
fn a_corrupt_stream_fails_with_1007() {
    let mut sim = compressing(DeflateConfig::default(), no_takeover());
    // Block type 3 does not exist (RFC 1951 §3.2.3).
    sim.feed(&frame(0x40 | 0x1, true, &[0xff, 0xff, 0xff]));
    assert_eq!(sim.end(), Some(End::Fail(1007, "Invalid compressed data")));
}

/// Bytes that do not compress go plain (deflate would make them larger);
/// with takeover the context restarts, so the next compressed message still
/// inflates on the peer's side.
#[test]
fn what_does_not_compress_goes_plain_and_the_peer_stays_in_step() {
    let mut sim = keeping_context();
    let mut x = 1u32;
    let noise: Vec<u8> = (0..3000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let line = chatty(1000);
    sim.send(&line);
    sim.outbox.push_back(Message::binary(noise.clone()));
    sim.send(&line);
    sim.transmit();
    assert_eq!(first_bytes(&sim.wire), [0xC1, 0x82, 0xC1]);
    assert_eq!(
        sim.peer_got(),
        [
            msg(&line),
            Event::Message(Message::binary(noise)),
            msg(&line)
        ]
    );
}

/// `plain_when_larger(false)`: every message from the threshold on goes
/// compressed, even one that grows, and still arrives whole.
#[test]
fn every_message_compressed_when_asked() {
    let settings = DeflateConfig::default()
        .threshold(0)
        .plain_when_larger(false);
    let mut sim = compressing(settings, no_takeover());
    sim.send("x");
    sim.transmit();
    assert_eq!(first_bytes(&sim.wire), [0xC1]);
    assert_eq!(sim.peer_got(), [msg("x")]);
}
