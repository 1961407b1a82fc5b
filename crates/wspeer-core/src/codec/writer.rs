//! Frames out, without the socket. A batch of frames is put together in a
//! buffer shared by the thread ([`with_staging`]); the caller writes its bytes
//! ([`Staging::slices`]) with one `write`, or one `writev` when payloads over
//! [`COPY_AT_MOST`] bytes go out from the application's own buffer, uncopied,
//! and says how much the socket took. What it did not take is kept, in order,
//! in the connection's [`Backlog`], which must empty before the next batch is
//! built: so a connection holds at most one batch it could not write, and
//! nothing at all while the socket keeps up.

use std::{cell::RefCell, collections::VecDeque, io::IoSlice};

use bytes::Bytes;

use super::{
    Role,
    header::{self, FrameBits, OpCode},
    mask,
};
use crate::message::Message;

/// Larger payloads are written from their own buffer (with `writev`) rather
/// than copied next to their header; fastwebsockets uses the same threshold.
const COPY_AT_MOST: usize = 1024;

/// A batch stops taking messages once this many bytes are staged.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Most slices handed to one `writev`.
pub(crate) const MAX_SLICES: usize = 64;

/// A thread's staging buffer is cut back to `KEEP` after growing past
/// `KEEP_AT_MOST` (one huge message must not pin megabytes per thread).
const KEEP: usize = 64 * 1024;
const KEEP_AT_MOST: usize = 1024 * 1024;

/// The frames of one batch, in the thread's buffer.
#[derive(Debug, Default)]
pub(crate) struct Staging {
    /// Headers and copied payloads, back to back.
    bytes: Vec<u8>,
    /// Payloads written from their own buffer: each follows `bytes[..at]`.
    shared: Vec<(usize, Bytes)>,
    /// Room for the messages of a batch, taken out of the queue before they
    /// are encoded (kept here so that no batch allocates it).
    messages: Vec<Message>,
}

thread_local! {
    static STAGING: RefCell<Staging> = RefCell::new(Staging::default());
}

/// Runs `f` with this thread's staging buffer, empty.
pub(crate) fn with_staging<R>(f: impl FnOnce(&mut Staging) -> R) -> R {
    STAGING.with(|cell| match cell.try_borrow_mut() {
        Ok(mut staging) => {
            let result = f(&mut staging);
            staging.clear();
            result
        }
        // Only if `f` ever re-entered: correct, just slower.
        Err(_) => f(&mut Staging::default()),
    })
}

impl Staging {
    /// The thread's (empty) list for the messages of a batch; give it back
    /// with [`Self::return_messages`].
    pub(crate) fn take_messages(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.messages)
    }

    pub(crate) fn return_messages(&mut self, mut messages: Vec<Message>) {
        messages.clear();
        self.messages = messages;
    }

    /// Bytes staged in all.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() + self.shared.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    /// The whole batch, when it is one buffer (small messages): one plain
    /// `write`, no slice list.
    pub(crate) fn contiguous(&self) -> Option<&[u8]> {
        self.shared.is_empty().then_some(&self.bytes[..])
    }

    /// Fills `out` with the batch's bytes after the first `skip`; returns how
    /// many slices it filled (0: nothing left).
    pub(crate) fn slices<'a>(&'a self, mut skip: usize, out: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for segment in self.segments() {
            if count == out.len() {
                break;
            }
            let bytes = segment.bytes();
            if skip >= bytes.len() {
                skip -= bytes.len();
                continue;
            }
            out[count] = IoSlice::new(&bytes[skip..]);
            skip = 0;
            count += 1;
        }
        count
    }

    /// The batch's bytes in order: staged runs between the shared payloads.
    fn segments(&self) -> impl Iterator<Item = Segment<'_>> {
        let mut from = 0;
        self.shared
            .iter()
            .flat_map(move |(at, payload)| {
                let run = Segment::Staged(&self.bytes[from..*at]);
                from = *at;
                [run, Segment::Shared(payload)]
            })
            .chain(std::iter::once_with(move || {
                Segment::Staged(&self.bytes[self.last_at()..])
            }))
            .filter(|segment| !segment.bytes().is_empty())
    }

    fn last_at(&self) -> usize {
        self.shared.last().map_or(0, |(at, _)| *at)
    }

    fn clear(&mut self) {
        self.messages.clear();
        self.shared.clear();
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_AT_MOST {
            self.bytes.shrink_to(KEEP);
        }
    }
}

/// One piece of the byte sequence a batch writes.
enum Segment<'a> {
    Staged(&'a [u8]),
    Shared(&'a Bytes),
}

impl<'a> Segment<'a> {
    fn bytes(&self) -> &'a [u8] {
        match *self {
            Segment::Staged(bytes) => bytes,
            Segment::Shared(bytes) => bytes.as_ref(),
        }
    }
}

/// Frames being put together for one write.
pub(crate) struct Batch<'a> {
    role: Role,
    vectored: bool,
    staging: &'a mut Staging,
}

impl<'a> Batch<'a> {
    /// A batch for `role` in `staging`; `vectored` when the socket writes
    /// slice lists well (then large payloads are not copied).
    pub(crate) fn new(role: Role, vectored: bool, staging: &'a mut Staging) -> Self {
        Self {
            role,
            vectored,
            staging,
        }
    }

    /// Adds a data frame (or any frame) whose payload is `payload`.
    pub(crate) fn push(&mut self, opcode: OpCode, payload: &Bytes) {
        let mask = mask_key(self.role);
        header::encode(&mut self.staging.bytes, opcode, payload.len(), mask);
        if mask.is_none() && self.vectored && payload.len() > COPY_AT_MOST {
            let at = self.staging.bytes.len();
            self.staging.shared.push((at, payload.clone()));
        } else {
            self.stage(payload, mask);
        }
    }

    /// Adds a frame whose payload is copied from `payload`.
    pub(crate) fn push_slice(&mut self, opcode: OpCode, payload: &[u8]) {
        self.push_frame(FrameBits::whole(opcode), payload);
    }

    /// Adds a data frame carrying a whole message compressed with
    /// permessage-deflate (RSV1 set), copied from `compressed`.
    pub(crate) fn push_compressed(&mut self, opcode: OpCode, compressed: &[u8]) {
        self.push_frame(FrameBits::compressed(opcode), compressed);
    }

    fn push_frame(&mut self, bits: FrameBits, payload: &[u8]) {
        let mask = mask_key(self.role);
        header::encode_frame(&mut self.staging.bytes, bits, payload.len(), mask);
        self.stage(payload, mask);
    }

    fn stage(&mut self, payload: &[u8], mask: Option<[u8; 4]>) {
        let start = self.staging.bytes.len();
        self.staging.bytes.extend_from_slice(payload);
        if let Some(key) = mask {
            mask::apply(&mut self.staging.bytes[start..], key, 0);
        }
    }
}

/// RFC 6455 §5.3: a client masks every frame with a fresh, unpredictable key
/// (from the thread's cryptographic RNG); a server masks nothing.
fn mask_key(role: Role) -> Option<[u8; 4]> {
    match role {
        Role::Server => None,
        Role::Client => Some(rand::random()),
    }
}

/// Bytes accepted for sending that the socket has not taken yet, in order.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    pieces: VecDeque<Bytes>,
}

/// A backlog's slice list is dropped once empty if it grew past this, so that
/// one blocked batch does not cost every connection memory for life.
const BACKLOG_KEEP: usize = 4;

impl Backlog {
    pub(crate) fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Fills `out` with the waiting bytes, oldest first; returns how many
    /// slices it filled.
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (slot, bytes) in out.iter_mut().zip(&self.pieces) {
            *slot = IoSlice::new(bytes);
            count += 1;
        }
        count
    }

    /// The socket took the first `written` bytes.
    pub(crate) fn advance(&mut self, mut written: usize) {
        while written > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            if written >= front.len() {
                written -= front.len();
                self.pieces.pop_front();
            } else {
                let _ = front.split_to(written);
                written = 0;
            }
        }
        if self.pieces.is_empty() && self.pieces.capacity() > BACKLOG_KEEP {
            self.pieces = VecDeque::new();
        }
    }

    /// Keeps everything of `staging` after its first `done` bytes: the socket
    /// did not take it.
    pub(crate) fn keep_unwritten(&mut self, staging: &Staging, mut done: usize) {
        debug_assert!(self.is_empty(), "a batch is built only on an empty backlog");
        for segment in staging.segments() {
            let len = segment.bytes().len();
            if done >= len {
                done -= len;
                continue;
            }
            self.pieces.push_back(match segment {
                Segment::Staged(bytes) => Bytes::copy_from_slice(&bytes[done..]),
                Segment::Shared(bytes) => bytes.slice(done..),
            });
            done = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decoder::{Decoder, Event};

    fn messages() -> Vec<Bytes> {
        (0..40)
            .map(|i| Bytes::from(vec![i as u8; [0, 5, 125, 126, 1500, 70000][i % 6]]))
            .collect()
    }

    /// A socket that takes at most `take` bytes of what it is offered.
    fn offer(out: &mut Vec<u8>, slices: &[IoSlice<'_>], take: usize) -> usize {
        let mut budget = take;
        for slice in slices {
            let k = slice.len().min(budget);
            out.extend_from_slice(&slice[..k]);
            budget -= k;
            if budget == 0 {
                break;
            }
        }
        take - budget
    }

    /// However little the socket takes per write, the bytes that reach it are
    /// the frames in order.
    #[test]
    fn a_trickling_socket_gets_every_frame_in_order() {
        for (role, vectored) in [
            (Role::Server, true),
            (Role::Server, false),
            (Role::Client, true),
        ] {
            for take in [1, 7, 100, 5000, usize::MAX] {
                let mut socket = Vec::new();
                let mut backlog = Backlog::default();
                let all = messages();
                for chunk in all.chunks(8) {
                    while !backlog.is_empty() {
                        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                        let n = backlog.slices(&mut slices);
                        let written = offer(&mut socket, &slices[..n], take);
                        backlog.advance(written);
                    }
                    with_staging(|staging| {
                        let mut batch = Batch::new(role, vectored, staging);
                        for payload in chunk {
                            batch.push(OpCode::Binary, payload);
                        }
                        batch.push_slice(OpCode::Pong, b"hi");
                        // One write, then the rest waits in the backlog.
                        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                        let n = staging.slices(0, &mut slices);
                        let written = offer(&mut socket, &slices[..n], take);
                        backlog.keep_unwritten(staging, written);
                    });
                }
                while !backlog.is_empty() {
                    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                    let n = backlog.slices(&mut slices);
                    let written = offer(&mut socket, &slices[..n], take);
                    backlog.advance(written);
                }
                let peer_role = match role {
                    Role::Server => Role::Client,
                    Role::Client => Role::Server,
                };
                let mut decoder = Decoder::new(peer_role, 1 << 20);
                let mut input = &socket[..];
                let mut got = Vec::new();
                while let Some(event) = decoder.decode(&mut input).unwrap() {
                    got.push(event);
                }
                let expected: Vec<Event> = all
                    .chunks(8)
                    .flat_map(|chunk| {
                        chunk
                            .iter()
                            .map(|p| Event::Message(Message::binary(p.clone())))
                            .chain([Event::Pong])
                    })
                    .collect();
                assert_eq!(got, expected, "{role:?} vectored {vectored} take {take}");
                assert!(input.is_empty());
            }
        }
    }

    #[test]
    fn slices_skip_what_was_written() {
        with_staging(|staging| {
            let mut batch = Batch::new(Role::Server, true, staging);
            batch.push(OpCode::Binary, &Bytes::from(vec![1; 2000]));
            batch.push_slice(OpCode::Text, b"abc");
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            // Header (4 bytes), shared payload, then header + "abc".
            assert_eq!(staging.slices(0, &mut slices), 3);
            assert_eq!(staging.slices(4, &mut slices), 2);
            assert_eq!(slices[0].len(), 2000);
            assert_eq!(staging.slices(2004, &mut slices), 1);
            assert_eq!(&slices[0][..], &[0x81, 3, b'a', b'b', b'c']);
            assert_eq!(staging.slices(2009, &mut slices), 0);
        });
    }
}
