//! What compression saved, for the whole process: payload bytes of the
//! messages that went compressed, and the bytes their frames carried.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static SENT_MESSAGES: AtomicU64 = AtomicU64::new(0);
static SENT_PAYLOAD: AtomicU64 = AtomicU64::new(0);
static SENT_WIRE: AtomicU64 = AtomicU64::new(0);
static RECEIVED_MESSAGES: AtomicU64 = AtomicU64::new(0);
static RECEIVED_PAYLOAD: AtomicU64 = AtomicU64::new(0);
static RECEIVED_WIRE: AtomicU64 = AtomicU64::new(0);

/// Running totals of permessage-deflate over every connection of the
/// process, since it started ([`compression_totals`]). Only messages that
/// were compressed count: those under the threshold, and every message of a
/// connection without compression, are sent as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompressionTotals {
    /// Messages we compressed and sent.
    pub sent_messages: u64,
    /// Their size before compression.
    pub sent_payload_bytes: u64,
    /// Their size in frames (compressed, without frame headers).
    pub sent_wire_bytes: u64,
    /// Compressed messages we received and inflated.
    pub received_messages: u64,
    /// Their size once inflated.
    pub received_payload_bytes: u64,
    /// Their size in frames, as they arrived.
    pub received_wire_bytes: u64,
}

/// The totals so far (each counter is read on its own: a message counted
/// while they are read may show in some and not yet in others).
pub fn compression_totals() -> CompressionTotals {
    CompressionTotals {
        sent_messages: SENT_MESSAGES.load(Relaxed),
        sent_payload_bytes: SENT_PAYLOAD.load(Relaxed),
        sent_wire_bytes: SENT_WIRE.load(Relaxed),
        received_messages: RECEIVED_MESSAGES.load(Relaxed),
        received_payload_bytes: RECEIVED_PAYLOAD.load(Relaxed),
        received_wire_bytes: RECEIVED_WIRE.load(Relaxed),
    }
}

/// A message of `payload` bytes went out compressed in `wire` bytes.
pub(crate) fn sent(payload: usize, wire: usize) {
    SENT_MESSAGES.fetch_add(1, Relaxed);
    SENT_PAYLOAD.fetch_add(payload as u64, Relaxed);
    SENT_WIRE.fetch_add(wire as u64, Relaxed);
}

/// A compressed message of `wire` bytes inflated to `payload` bytes.
pub(crate) fn received(payload: usize, wire: usize) {
    RECEIVED_MESSAGES.fetch_add(1, Relaxed);
    RECEIVED_PAYLOAD.fetch_add(payload as u64, Relaxed);
    RECEIVED_WIRE.fetch_add(wire as u64, Relaxed);
}
