//! Frames out. A batch of frames is put together in a buffer shared by the
//! thread and written with one `write`, or one `writev` when payloads over
//! [`COPY_AT_MOST`] bytes go out from the application's own buffer, uncopied. What the socket does not take
//! is kept, in order, in the connection's backlog, which must empty before the
//! next batch is built: so a connection holds at most one batch it could not
//! write, and nothing at all while the socket keeps up.

use std::{
    cell::RefCell,
    collections::VecDeque,
    io::{self, IoSlice},
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use tokio::io::AsyncWrite;

use super::{
    Role,
    header::{self, OpCode},
    mask,
};
use crate::message::Message;

/// Larger payloads are written from their own buffer (with `writev`) rather
/// than copied next to their header; fastwebsockets uses the same threshold.
const COPY_AT_MOST: usize = 1024;

/// A batch stops taking messages once this many bytes are staged.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Most slices handed to one `writev`.
const MAX_SLICES: usize = 64;

/// A thread's staging buffer is cut back to `KEEP` after growing past
/// `KEEP_AT_MOST` (one huge message must not pin megabytes per thread).
const KEEP: usize = 64 * 1024;
const KEEP_AT_MOST: usize = 1024 * 1024;

#[derive(Default)]
struct Staging {
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

/// Frames being put together for one write.
pub(crate) struct Batch<'a> {
    role: Role,
    vectored: bool,
    staging: &'a mut Staging,
}

impl Batch<'_> {
    /// Adds a data frame (or any frame) whose payload is `payload`.
    pub(crate) fn push(&mut self, opcode: OpCode, payload: &Bytes) {
        let mask = self.mask_key();
        header::encode(&mut self.staging.bytes, opcode, payload.len(), mask);
        if mask.is_none() && self.vectored && payload.len() > COPY_AT_MOST {
            let at = self.staging.bytes.len();
            self.staging.shared.push((at, payload.clone()));
        } else {
            self.stage(payload, mask);
        }
    }

    /// The thread's (empty) list for the messages of this batch; give it back
    /// with [`Self::return_message_buffer`].
    pub(crate) fn take_message_buffer(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.staging.messages)
    }

    pub(crate) fn return_message_buffer(&mut self, mut messages: Vec<Message>) {
        messages.clear();
        self.staging.messages = messages;
    }

    /// Adds a frame whose payload is copied from `payload`.
    pub(crate) fn push_slice(&mut self, opcode: OpCode, payload: &[u8]) {
        let mask = self.mask_key();
        header::encode(&mut self.staging.bytes, opcode, payload.len(), mask);
        self.stage(payload, mask);
    }

    fn stage(&mut self, payload: &[u8], mask: Option<[u8; 4]>) {
        let start = self.staging.bytes.len();
        self.staging.bytes.extend_from_slice(payload);
        if let Some(key) = mask {
            mask::apply(&mut self.staging.bytes[start..], key, 0);
        }
    }

    fn mask_key(&self) -> Option<[u8; 4]> {
        mask_key(self.role)
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

impl Staging {
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
}

/// The sending half of the protocol of one connection.
#[derive(Debug)]
pub(crate) struct Writer {
    role: Role,
    /// Bytes accepted for sending that the socket has not taken yet, in order.
    backlog: VecDeque<Bytes>,
    /// The answer to the latest ping, sent once the backlog is out (at a frame
    /// boundary). A newer ping replaces it (RFC 6455 §5.5.3 allows answering
    /// only the latest), so a ping flood costs one pong, however long the
    /// socket stays full.
    pong: Option<Bytes>,
}

/// A backlog's slice list is dropped once empty if it grew past this, so that
/// one blocked batch does not cost every connection memory for life.
const BACKLOG_KEEP: usize = 4;

impl Writer {
    pub(crate) fn new(role: Role) -> Self {
        Self {
            role,
            backlog: VecDeque::new(),
            pong: None,
        }
    }

    /// Whether bytes are waiting for the socket.
    pub(crate) fn has_backlog(&self) -> bool {
        !self.backlog.is_empty() || self.pong.is_some()
    }

    /// Answers a ping, behind the backlog; replaces an answer not yet sent.
    pub(crate) fn queue_pong(&mut self, payload: &[u8]) {
        self.pong = Some(self.encode(OpCode::Pong, payload));
    }

    /// Queues a close frame behind the backlog (and a pending pong).
    pub(crate) fn queue_close(&mut self, payload: &[u8]) {
        if let Some(pong) = self.pong.take() {
            self.backlog.push_back(pong);
        }
        let frame = self.encode(OpCode::Close, payload);
        self.backlog.push_back(frame);
    }

    fn encode(&self, opcode: OpCode, payload: &[u8]) -> Bytes {
        let mut frame = Vec::with_capacity(header::MAX_HEADER_LEN + payload.len());
        let mask = mask_key(self.role);
        header::encode(&mut frame, opcode, payload.len(), mask);
        let start = frame.len();
        frame.extend_from_slice(payload);
        if let Some(key) = mask {
            mask::apply(&mut frame[start..], key, 0);
        }
        Bytes::from(frame)
    }

    /// Writes the backlog until it is empty (`Ready(Ok)`) or the socket blocks.
    pub(crate) fn poll_backlog<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.backlog.is_empty() {
                match self.pong.take() {
                    Some(pong) => self.backlog.push_back(pong),
                    None => break,
                }
            }
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            for (slot, bytes) in slices.iter_mut().zip(&self.backlog) {
                *slot = IoSlice::new(bytes);
                count += 1;
            }
            let mut written = ready!(write_vectored(io, cx, &slices[..count]))?;
            while written > 0 {
                let Some(front) = self.backlog.front_mut() else {
                    break;
                };
                if written >= front.len() {
                    written -= front.len();
                    self.backlog.pop_front();
                } else {
                    let _ = front.split_to(written);
                    written = 0;
                }
            }
        }
        if self.backlog.capacity() > BACKLOG_KEEP {
            self.backlog = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Builds a batch with `fill` and writes it. Whatever the socket does not
    /// take goes to the backlog, so every frame in the batch is handed over
    /// either way; `Ready(Ok)` means all of it is on the socket. Call only with
    /// an empty backlog. `fill` returns its own result, passed back.
    pub(crate) fn write_batch<S: AsyncWrite + Unpin, R>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        fill: impl FnOnce(&mut Batch<'_>) -> R,
    ) -> (R, Poll<io::Result<()>>) {
        debug_assert!(!self.has_backlog());
        let vectored = io.is_write_vectored();
        let build_and_write = |staging: &mut Staging| {
            staging.bytes.clear();
            staging.shared.clear();
            let mut batch = Batch {
                role: self.role,
                vectored,
                staging,
            };
            let result = fill(&mut batch);
            let poll = self.write_staged(io, cx, batch.staging);
            staging_done(batch.staging);
            (result, poll)
        };
        STAGING.with(|cell| match cell.try_borrow_mut() {
            Ok(mut staging) => build_and_write(&mut staging),
            // Only if a write ever re-entered: correct, just slower.
            Err(_) => build_and_write(&mut Staging::default()),
        })
    }

    fn write_staged<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        staging: &Staging,
    ) -> Poll<io::Result<()>> {
        if staging.shared.is_empty() {
            return self.write_contiguous(io, cx, &staging.bytes);
        }
        let mut done = 0;
        loop {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            let mut skip = done;
            for segment in staging.segments() {
                let bytes = segment.bytes();
                if skip >= bytes.len() {
                    skip -= bytes.len();
                    continue;
                }
                slices[count] = IoSlice::new(&bytes[skip..]);
                skip = 0;
                count += 1;
                if count == MAX_SLICES {
                    break;
                }
            }
            if count == 0 {
                return Poll::Ready(Ok(()));
            }
            match write_vectored(io, cx, &slices[..count]) {
                Poll::Ready(Ok(n)) => done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.keep_unwritten(staging, done);
                    return Poll::Pending;
                }
            }
        }
    }

    /// The common case of small messages: the whole batch is one buffer, so one
    /// plain `write` and no slice list.
    fn write_contiguous<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<()>> {
        let mut done = 0;
        while done < bytes.len() {
            match Pin::new(&mut *io).poll_write(cx, &bytes[done..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.backlog
                        .push_back(Bytes::copy_from_slice(&bytes[done..]));
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Moves everything after the first `done` bytes of the batch to the backlog.
    fn keep_unwritten(&mut self, staging: &Staging, mut done: usize) {
        for segment in staging.segments() {
            let len = segment.bytes().len();
            if done >= len {
                done -= len;
                continue;
            }
            self.backlog.push_back(match segment {
                Segment::Staged(bytes) => Bytes::copy_from_slice(&bytes[done..]),
                Segment::Shared(bytes) => bytes.slice(done..),
            });
            done = 0;
        }
    }
}

fn staging_done(staging: &mut Staging) {
    staging.messages.clear();
    staging.shared.clear();
    staging.bytes.clear();
    if staging.bytes.capacity() > KEEP_AT_MOST {
        staging.bytes.shrink_to(KEEP);
    }
}

fn write_vectored<S: AsyncWrite + Unpin>(
    io: &mut S,
    cx: &mut Context<'_>,
    slices: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    match ready!(Pin::new(io).poll_write_vectored(cx, slices)) {
        Ok(0) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
        other => Poll::Ready(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decoder::{Decoder, Event};
    use crate::message::Message;

    /// A socket that takes at most `take` bytes per call, then blocks once
    /// every other call.
    struct Trickle {
        out: Vec<u8>,
        take: usize,
        block_next: bool,
        vectored: bool,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            if std::mem::take(&mut self.block_next) {
                return Poll::Pending;
            }
            self.block_next = true;
            let mut budget = self.take;
            let mut n = 0;
            for buf in bufs {
                let k = buf.len().min(budget);
                self.out.extend_from_slice(&buf[..k]);
                budget -= k;
                n += k;
                if budget == 0 {
                    break;
                }
            }
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            self.vectored
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn messages() -> Vec<Bytes> {
        (0..40)
            .map(|i| Bytes::from(vec![i as u8; [0, 5, 125, 126, 1500, 70000][i % 6]]))
            .collect()
    }

    /// Whatever the socket does, the bytes that reach it are the frames in order.
    #[test]
    fn a_trickling_socket_gets_every_frame_in_order() {
        for (role, vectored) in [
            (Role::Server, true),
            (Role::Server, false),
            (Role::Client, true),
        ] {
            for take in [1, 7, 100, 5000, usize::MAX] {
                let mut socket = Trickle {
                    out: Vec::new(),
                    take,
                    block_next: false,
                    vectored,
                };
                let waker = futures_util::task::noop_waker();
                let mut cx = Context::from_waker(&waker);
                let mut writer = Writer::new(role);
                let all = messages();
                for chunk in all.chunks(8) {
                    while writer.poll_backlog(&mut socket, &mut cx).is_pending() {}
                    let _ = writer.write_batch(&mut socket, &mut cx, |batch| {
                        for payload in chunk {
                            batch.push(OpCode::Binary, payload);
                        }
                    });
                }
                writer.queue_pong(b"first");
                writer.queue_pong(b"hi"); // replaces the first: one pong
                writer.queue_close(&[0x03, 0xe8]);
                while writer.poll_backlog(&mut socket, &mut cx).is_pending() {}
                let peer_role = match role {
                    Role::Server => Role::Client,
                    Role::Client => Role::Server,
                };
                let mut decoder = Decoder::new(peer_role, 1 << 20);
                let mut input = &socket.out[..];
                let mut got = Vec::new();
                while let Some(event) = decoder.decode(&mut input).unwrap() {
                    got.push(event);
                }
                let mut expected: Vec<Event> = all
                    .iter()
                    .map(|p| Event::Message(Message::binary(p.clone())))
                    .collect();
                expected.push(Event::Pong);
                expected.push(Event::Close(Some((1000, String::new()))));
                assert_eq!(got, expected, "{role:?} vectored {vectored} take {take}");
                assert!(input.is_empty());
            }
        }
    }
}
