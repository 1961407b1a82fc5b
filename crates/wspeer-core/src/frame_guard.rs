//! Checks on incoming frames that tungstenite cannot make in time.
//!
//! - **Fail-fast UTF-8** (RFC 6455 §8.1): tungstenite checks a text frame only
//!   once the whole frame has arrived, so a peer could stream megabytes of a frame
//!   that is broken in its first bytes. The guard unmasks text payload as it
//!   arrives and checks it; the first invalid byte fails the read (close 1007).
//! - **Fragment floods**: a message may have at most [`max_fragments`] fragments.
//!   Zero-length continuation frames cost no memory in tungstenite but endless
//!   work; past the limit the read fails (close 1008, as `ws` does since its
//!   2026 fix).
//!
//! `FrameGuard` sits under tungstenite in the read path and follows the frame
//! headers in the raw bytes. It only reads: tungstenite still parses every frame
//! and enforces every other rule. On framing it does not understand (which
//! tungstenite will reject anyway) it stops watching.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::Transport;

/// Most fragments a message may have: `inbound_buffer_size / 16`, at least 1024
/// (enough for the Autobahn suite's 4 MiB in 64-byte fragments with its limits).
pub(crate) fn max_fragments(inbound_buffer_size: usize) -> usize {
    (inbound_buffer_size / 16).max(1024)
}

/// The error a guarded read fails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Violation {
    /// A text message is not UTF-8.
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// A message has more fragments than allowed.
    #[error("a message has more than the allowed number of fragments")]
    TooManyFragments,
}

impl Violation {
    /// The violation behind `error`, as it comes back through tungstenite.
    pub(crate) fn of(error: &io::Error) -> Option<Violation> {
        error.get_ref()?.downcast_ref::<Violation>().copied()
    }

    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// A stream whose incoming frames are checked as they arrive.
#[derive(Debug)]
pub(crate) struct FrameGuard<S> {
    inner: S,
    scanner: FrameScanner,
}

impl<S> FrameGuard<S> {
    /// Guards `inner`, whose first frame bytes, read with the handshake, were
    /// `early`: they are checked first, so the scanner starts at a frame boundary.
    pub(crate) fn new(inner: S, early: &[u8], max_fragments: usize) -> Self {
        let mut scanner = FrameScanner {
            max_fragments,
            ..FrameScanner::default()
        };
        // A violation here is remembered and reported by the first read.
        let _ = scanner.scan(early);
        Self { inner, scanner }
    }
}

impl<S: Transport> Transport for FrameGuard<S> {
    fn set_nodelay(&self, enabled: bool) -> io::Result<()> {
        self.inner.set_nodelay(enabled)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(violation) = this.scanner.violated {
            return Poll::Ready(Err(violation.into_io()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result
            && let Err(violation) = this.scanner.scan(&buf.filled()[before..])
        {
            // Hide the bytes that hold the violation: nothing after it is used.
            buf.set_filled(before);
            return Poll::Ready(Err(violation.into_io()));
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Follows frame boundaries in a byte stream and checks text payload.
#[derive(Debug, Default)]
struct FrameScanner {
    /// The header being read, and how many of its bytes we have.
    header: [u8; 14],
    header_len: usize,
    /// Payload bytes left in the current frame; `None` while reading a header.
    remaining: Option<u64>,
    mask: Option<[u8; 4]>,
    /// Position in the mask of the next payload byte.
    mask_offset: usize,
    /// The current frame's payload is text to check.
    frame_is_text: bool,
    /// The current frame ends its message.
    frame_fin: bool,
    /// A fragmented message is open, and whether it is text.
    open_message: Option<bool>,
    /// An incomplete UTF-8 sequence carried to the next bytes.
    tail: [u8; 4],
    tail_len: usize,
    /// Fragments of the open message so far, and the most allowed.
    fragments: usize,
    max_fragments: usize,
    /// Framing we do not follow: stop watching, tungstenite will fail it.
    lost: bool,
    violated: Option<Violation>,
}

impl FrameScanner {
    fn scan(&mut self, data: &[u8]) -> Result<(), Violation> {
        let result = self.follow(data);
        if let Err(violation) = result {
            self.violated = Some(violation);
        }
        result
    }

    fn follow(&mut self, mut data: &[u8]) -> Result<(), Violation> {
        while !data.is_empty() && !self.lost {
            match self.remaining {
                None => data = self.read_header(data)?,
                Some(remaining) => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    if self.frame_is_text {
                        self.check_payload(&data[..n])?;
                    }
                    data = &data[n..];
                    self.remaining = Some(remaining - n as u64);
                }
            }
            if self.remaining == Some(0) {
                self.end_frame()?;
            }
        }
        Ok(())
    }

    /// Takes header bytes from `data`; returns what is left.
    fn read_header<'a>(&mut self, data: &'a [u8]) -> Result<&'a [u8], Violation> {
        let mut data = data;
        while let Some((&byte, rest)) = data.split_first() {
            self.header[self.header_len] = byte;
            self.header_len += 1;
            data = rest;
            if let Some(needed) = self.header_size()
                && self.header_len == needed
            {
                self.start_frame()?;
                break;
            }
        }
        Ok(data)
    }

    /// The full header length, once the first two bytes are known.
    fn header_size(&self) -> Option<usize> {
        if self.header_len < 2 {
            return None;
        }
        let masked = self.header[1] & 0x80 != 0;
        let extended = match self.header[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        Some(2 + extended + if masked { 4 } else { 0 })
    }

    fn start_frame(&mut self) -> Result<(), Violation> {
        let h = self.header;
        let fin = h[0] & 0x80 != 0;
        let opcode = h[0] & 0x0f;
        let (len, mask_at) = match h[1] & 0x7f {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => (
                u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
                10,
            ),
            n => (u64::from(n), 2),
        };
        self.mask = (h[1] & 0x80 != 0)
            .then(|| [h[mask_at], h[mask_at + 1], h[mask_at + 2], h[mask_at + 3]]);
        self.mask_offset = 0;
        self.header_len = 0;
        self.remaining = Some(len);
        self.frame_fin = fin;
        self.frame_is_text = match (opcode, self.open_message) {
            // Control frames may come between the fragments of a message.
            (8..=15, _) => false,
            (1, None) => true,
            (2, None) => false,
            (0, Some(is_text)) => is_text,
            _ => {
                self.lost = true;
                false
            }
        };
        if opcode < 8 && !self.lost {
            self.fragments = if opcode == 0 { self.fragments + 1 } else { 1 };
            if self.fragments > self.max_fragments {
                return Err(Violation::TooManyFragments);
            }
            self.open_message = if fin { None } else { Some(self.frame_is_text) };
        }
        Ok(())
    }

    fn end_frame(&mut self) -> Result<(), Violation> {
        self.remaining = None;
        let ends_text = self.frame_is_text && self.frame_fin;
        self.frame_is_text = false;
        if ends_text && std::mem::take(&mut self.tail_len) != 0 {
            // The message ended inside a character.
            return Err(Violation::InvalidUtf8);
        }
        Ok(())
    }

    /// Unmasks `payload` in blocks and checks it, carrying an incomplete character.
    fn check_payload(&mut self, payload: &[u8]) -> Result<(), Violation> {
        let mut block = [0u8; 1024];
        for chunk in payload.chunks(block.len()) {
            let plain = &mut block[..chunk.len()];
            plain.copy_from_slice(chunk);
            if let Some(mask) = self.mask {
                for byte in plain.iter_mut() {
                    *byte ^= mask[self.mask_offset];
                    self.mask_offset = (self.mask_offset + 1) & 3;
                }
            }
            self.check_utf8(plain)?;
        }
        Ok(())
    }

    fn check_utf8(&mut self, mut input: &[u8]) -> Result<(), Violation> {
        // First finish the character left incomplete by the previous bytes.
        while self.tail_len > 0 {
            let Some((&byte, rest)) = input.split_first() else {
                return Ok(());
            };
            self.tail[self.tail_len] = byte;
            self.tail_len += 1;
            input = rest;
            match std::str::from_utf8(&self.tail[..self.tail_len]) {
                Ok(_) => self.tail_len = 0,
                Err(e) if e.error_len().is_none() && self.tail_len < 4 => {}
                Err(_) => return Err(Violation::InvalidUtf8),
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let rest = &input[e.valid_up_to()..];
                self.tail[..rest.len()].copy_from_slice(rest);
                self.tail_len = rest.len();
                Ok(())
            }
            Err(_) => Err(Violation::InvalidUtf8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = vec![opcode | if fin { 0x80 } else { 0 }];
        let mask_bit = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(mask_bit | n as u8),
            n if n < 65536 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(payload),
        }
        out
    }

    /// Feeds `bytes` to a scanner `step` bytes at a time.
    fn scanner() -> FrameScanner {
        FrameScanner {
            max_fragments: 1024,
            ..FrameScanner::default()
        }
    }

    fn scan_in_steps(bytes: &[u8], step: usize) -> Result<(), Violation> {
        let mut scanner = scanner();
        for chunk in bytes.chunks(step) {
            scanner.scan(chunk)?;
        }
        Ok(())
    }

    #[test]
    fn valid_text_passes_in_any_chunking() {
        let text = "héllo wörld ✓ 𝄞".repeat(100);
        let mut bytes = frame(1, false, &text.as_bytes()[..7], Some([1, 2, 3, 4]));
        bytes.extend(frame(9, true, b"ping", Some([9, 9, 9, 9])));
        bytes.extend(frame(0, true, &text.as_bytes()[7..], Some([5, 6, 7, 8])));
        bytes.extend(frame(2, true, &[0xff; 300], None));
        for step in [1, 2, 3, 7, 1000, bytes.len()] {
            assert!(scan_in_steps(&bytes, step).is_ok(), "step {step}");
        }
    }

    #[test]
    fn invalid_text_fails_before_the_frame_ends() {
        let mut payload = b"hello".to_vec();
        payload.extend_from_slice(&[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5,
        ]);
        payload.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]); // beyond U+10FFFF
        payload.extend_from_slice(b"...and much more text after it");
        let bytes = frame(1, true, &payload, Some([7, 7, 7, 7]));
        let mut scanner = scanner();
        // Everything up to the bad sequence is accepted ...
        let bad_at = 2 + 4 + 5 + 11;
        assert!(scanner.scan(&bytes[..bad_at + 1]).is_ok());
        // ... and the second byte of it fails, long before the frame ends.
        assert!(scanner.scan(&bytes[bad_at + 1..bad_at + 2]).is_err());
    }

    #[test]
    fn a_message_ending_inside_a_character_fails() {
        let bytes = frame(1, true, &[b'a', 0xe2, 0x82], None);
        assert!(scan_in_steps(&bytes, 1).is_err());
        // The same bytes in binary are fine.
        let bytes = frame(2, true, &[b'a', 0xe2, 0x82], None);
        assert!(scan_in_steps(&bytes, 1).is_ok());
    }

    #[test]
    fn a_character_split_across_fragments_is_fine() {
        let euro = "€".as_bytes();
        let mut bytes = frame(1, false, &euro[..1], None);
        bytes.extend(frame(0, false, &euro[1..2], None));
        bytes.extend(frame(0, true, &euro[2..], None));
        assert!(scan_in_steps(&bytes, 1).is_ok());
    }

    #[test]
    fn a_fragment_flood_is_stopped() {
        let mut bytes = frame(2, false, b"", None);
        for _ in 0..1023 {
            bytes.extend(frame(0, false, b"", None));
        }
        assert!(
            scan_in_steps(&bytes, 100).is_ok(),
            "1024 fragments are allowed"
        );
        bytes.extend(frame(0, false, b"", None));
        assert_eq!(scan_in_steps(&bytes, 100), Err(Violation::TooManyFragments));
        // Control frames in between do not count, and a new message starts afresh.
        let mut bytes = frame(2, false, b"", None);
        for _ in 0..2000 {
            bytes.extend(frame(9, true, b"", None));
        }
        bytes.extend(frame(0, true, b"", None));
        for _ in 0..3 {
            bytes.extend(frame(2, false, b"", None));
            for _ in 0..1000 {
                bytes.extend(frame(0, false, b"", None));
            }
            bytes.extend(frame(0, true, b"", None));
        }
        assert!(scan_in_steps(&bytes, 7).is_ok());
    }

    #[test]
    fn unknown_framing_is_left_to_tungstenite() {
        // A continuation with no message open: tungstenite fails it with 1002.
        let mut bytes = frame(0, true, b"x", None);
        bytes.extend(frame(1, true, &[0xff], None));
        assert!(scan_in_steps(&bytes, 1).is_ok());
    }
}
