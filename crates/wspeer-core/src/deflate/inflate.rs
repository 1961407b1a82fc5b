//! Decompression of received messages with a hard limit on what comes out.

use flate2::{Decompress, FlushDecompress, Status};

use super::{
    params::{DeflateParams, Direction},
    pool,
};
use crate::error::Side;

/// What RFC 7692 §7.2.2 has the receiver append to every compressed message
/// (the sender removed it, §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest step the output buffer grows by.
const MIN_GROWTH: usize = 4096;

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The message inflates to more than the limit (close with 1009).
    #[error("the message inflates to more than the limit")]
    TooBig,
    /// The payload is not a valid deflate stream (close with 1007).
    #[error("the payload is not valid deflate data")]
    Corrupt,
}

/// The receiving side of permessage-deflate for one connection: takes each
/// compressed message in pieces, as its frames arrive, and appends what they
/// inflate to onto a buffer that never grows past a limit.
///
/// With no context takeover from the peer, the decompressor is borrowed from
/// the thread's pool for one message and given back, reset, at its end: an
/// idle connection holds none. With takeover it is allocated at the first
/// compressed message and kept (the peer may refer to earlier messages).
#[derive(Debug)]
pub struct MessageInflater {
    peer: Direction,
    /// Boxed so that a connection holding none pays one pointer.
    state: Option<Box<Decompress>>,
    /// The current message's deflate stream has ended (a BFINAL block): the
    /// rest of the message is ignored.
    ended: bool,
}

impl MessageInflater {
    /// The inflater of a connection where we are on `side`.
    pub fn new(side: Side, params: &DeflateParams) -> Self {
        Self {
            peer: params.theirs(side),
            state: None,
            ended: false,
        }
    }

    /// Whether a decompressor is held now (for tests and measurements).
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }

    /// Inflates the next piece of the current message's payload (unmasked)
    /// onto `out`, which never grows past `limit` bytes: `TooBig` as soon as
    /// the message would. Work is bounded by the input and the limit.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        if self.ended {
            return Ok(());
        }
        let result = self.run(input, out, limit);
        if result.is_err() {
            self.discard();
        }
        result
    }

    /// Ends the current message: inflates the tail RFC 7692 removed, then
    /// gives the decompressor back (no context takeover) or keeps it.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        let result = if self.ended {
            Ok(())
        } else {
            self.run(&TAIL, out, limit)
        };
        let ended = std::mem::take(&mut self.ended);
        match (result.is_ok(), self.peer.context_takeover) {
            (true, false) => {
                if let Some(state) = self.state.take() {
                    pool::return_inflater(state);
                }
            }
            // After a final block the next message is a new stream.
            (true, true) if ended => self.state = None,
            (true, true) => {}
            (false, _) => self.state = None,
        }
        result
    }

    /// The message will not be finished (the connection is failing): drops
    /// what it held, so that a pooled state is not given back mid-stream.
    pub fn abort(&mut self) {
        if !self.peer.context_takeover {
            self.state = None;
        }
        self.ended = false;
    }

    fn discard(&mut self) {
        self.state = None;
        self.ended = false;
    }

    fn state(&mut self) -> &mut Decompress {
        let peer = self.peer;
        self.state
            .get_or_insert_with(|| match peer.context_takeover {
                true => Box::new(pool::new_inflater(peer.window_bits)),
                false => pool::take_inflater(),
            })
    }

    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        loop {
            if out.len() == out.capacity() {
                if out.len() >= limit {
                    return self.probe_at_limit(input);
                }
                let target = (out.capacity() * 2).max(MIN_GROWTH).min(limit);
                out.reserve_exact(target - out.len());
            }
            let state = self.state();
            let (in_before, out_before) = (state.total_in(), out.len());
            let status = state
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|_| InflateError::Corrupt)?;
            input = &input[(state.total_in() - in_before) as usize..];
            if status == Status::StreamEnd {
                // Bytes after a final block are ignored, as zlib does
                // (RFC 7692 §7.2.3.4's example has one).
                self.ended = true;
                return Ok(());
            }
            // Room left over means all the input that can be is inflated.
            if out.len() < out.capacity() {
                if input.is_empty() {
                    return Ok(());
                }
                if out.len() == out_before && state.total_in() == in_before {
                    return Err(InflateError::Corrupt);
                }
            }
        }
    }

    /// The output is at the limit: the message is too big if the rest of the
    /// input inflates to even one more byte.
    fn probe_at_limit(&mut self, mut input: &[u8]) -> Result<(), InflateError> {
        let mut probe = [0u8; 1];
        loop {
            let state = self.state();
            let (in_before, out_before) = (state.total_in(), state.total_out());
            let status = state
                .decompress(input, &mut probe, FlushDecompress::None)
                .map_err(|_| InflateError::Corrupt)?;
            if state.total_out() != out_before {
                return Err(InflateError::TooBig);
            }
            let consumed = (state.total_in() - in_before) as usize;
            input = &input[consumed..];
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            if input.is_empty() {
                return Ok(());
            }
            if consumed == 0 {
                return Err(InflateError::Corrupt);
            }
        }
    }
}
