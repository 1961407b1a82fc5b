//! Compression of the messages we send.

use std::cell::RefCell;

use flate2::{Compress, FlushCompress};

use super::{
    params::{DeflateParams, Direction},
    pool,
    settings::DeflateConfig,
};
use crate::error::Side;

/// What a sync flush ends with, and RFC 7692 §7.2.1 has the sender remove.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

thread_local! {
    /// Where [`MessageDeflater::try_compress`] puts a message, shared by the
    /// thread's connections like the writer's staging buffer.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The scratch buffer is cut back after a message larger than this.
const SCRATCH_KEEP: usize = 256 * 1024;

/// The sending side of permessage-deflate for one connection: compresses
/// whole messages for frames with RSV1 set.
///
/// With no context takeover (ours by default), the compressor is the
/// thread's, borrowed for one message and reset: an idle connection holds
/// none. With takeover it is allocated at the first compressed message and
/// kept, until [`MessageDeflater::release`].
#[derive(Debug)]
pub struct MessageDeflater {
    ours: Direction,
    level: u8,
    threshold: usize,
    plain_when_larger: bool,
    /// Boxed so that a connection holding none pays one pointer.
    state: Option<Box<Compress>>,
}

impl MessageDeflater {
    /// The deflater of a connection where we are on `side`, with what was
    /// negotiated and our `config` (its level and threshold).
    pub fn new(side: Side, params: &DeflateParams, config: &DeflateConfig) -> Self {
        Self {
            ours: params.ours(side),
            level: config.level,
            threshold: config.threshold,
            plain_when_larger: config.plain_when_larger,
            state: None,
        }
    }

    /// Whether a message of `len` bytes is worth compressing: at least the
    /// threshold, and a window zlib can honour (a peer that allowed us only
    /// 8 bits gets every message uncompressed; zlib has no 256-byte window).
    pub fn should_compress(&self, len: usize) -> bool {
        len >= self.threshold && self.ours.window_bits >= 9
    }

    /// Appends the compressed form of the whole message `payload` to `out`,
    /// without the final `00 00 ff ff` (RFC 7692 §7.2.1): the payload of a
    /// frame with RSV1 set.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let Direction {
            context_takeover,
            window_bits,
        } = self.ours;
        if window_bits < 9 {
            // Stored blocks refer to nothing, so they fit any window.
            return pool::with_deflater(9, 0, |c| deflate_message(c, payload, out));
        }
        if context_takeover {
            let level = self.level;
            let state = self
                .state
                .get_or_insert_with(|| Box::new(pool::new_deflater(window_bits, level)));
            deflate_message(state, payload, out);
        } else {
            pool::with_deflater(window_bits, self.level, |c| {
                deflate_message(c, payload, out)
            });
        }
    }

    /// Compresses `payload` into the thread's scratch buffer and gives the
    /// result to `f` (for a writer that copies it after the frame header),
    /// unless it came out no smaller than `payload` (data that does not
    /// compress: random, encrypted, already compressed) and
    /// [`DeflateConfig::plain_when_larger`] is on: then `None`, and the
    /// message should go uncompressed. The context is reset in that case, so
    /// that the peer, which never sees these bytes, stays in step.
    pub fn try_compress<R>(&mut self, payload: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let buffer = SCRATCH.with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)));
        let mut buffer = buffer.unwrap_or_default();
        buffer.clear();
        self.compress(payload, &mut buffer);
        let result = if buffer.len() < payload.len() || !self.plain_when_larger {
            Some(f(&buffer))
        } else {
            if let Some(state) = &mut self.state {
                state.reset();
            }
            None
        };
        if buffer.capacity() > SCRATCH_KEEP {
            buffer = Vec::new();
        }
        let _ = SCRATCH.with(|s| s.try_borrow_mut().map(|mut s| *s = buffer));
        result
    }

    /// Frees the compressor kept for context takeover. Allowed between any
    /// two messages: the next one starts from an empty window, which the
    /// peer's decompressor reads like any other (it only costs ratio).
    pub fn release(&mut self) {
        self.state = None;
    }

    /// Whether a compressor is held now (for tests and measurements).
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }
}

/// One message through `deflater`, ending with a sync flush so that it ends
/// on a byte boundary and the next message (with takeover) continues.
fn deflate_message(deflater: &mut Compress, payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(payload.len() + payload.len() / 16 + 64);
    let mut input = payload;
    loop {
        let before = deflater.total_in();
        if deflater
            .compress_vec(input, out, FlushCompress::Sync)
            .is_err()
        {
            // Only a broken stream state makes deflate fail; ours never is.
            debug_assert!(false, "deflate failed");
            break;
        }
        input = &input[(deflater.total_in() - before) as usize..];
        if input.is_empty() && out.len() < out.capacity() {
            break;
        }
        out.reserve((out.len() - start).max(64));
    }
    if out[start..].ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
}
