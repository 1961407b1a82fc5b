//! Fail-fast UTF-8 checking of incoming text, as RFC 6455 §8.1 asks.
//!
//! tungstenite checks a text frame only once the whole frame has arrived, so a
//! peer could stream megabytes of a frame that is broken in its first bytes.
//! `Utf8Guard` sits under tungstenite in the read path and watches the raw bytes
//! as they come: it follows the frame headers, unmasks text payload on the fly and
//! feeds it to a streaming UTF-8 check. On the first invalid byte the read fails
//! with [`Utf8Violation`], which the connection turns into close code 1007.
//!
//! It only reads: tungstenite still parses every frame and enforces every other
//! rule. On framing it does not understand (which tungstenite will reject anyway)
//! it stops watching.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::Transport;

/// The error a guarded read fails with when text is not UTF-8.
#[derive(Debug, thiserror::Error)]
#[error("invalid UTF-8 in a text message")]
pub(crate) struct Utf8Violation;

impl Utf8Violation {
    /// Whether `error` is this violation (as it comes back through tungstenite).
    pub(crate) fn is(error: &io::Error) -> bool {
        error.get_ref().is_some_and(|e| e.is::<Utf8Violation>())
    }
}

/// A stream whose incoming text payload is checked as it arrives.
#[derive(Debug)]
pub(crate) struct Utf8Guard<S> {
    inner: S,
    scanner: FrameScanner,
}

impl<S> Utf8Guard<S> {
    /// Guards `inner`, whose first frame bytes, read with the handshake, were
    /// `early`: they are checked first, so the scanner starts at a frame boundary.
    pub(crate) fn with_early_bytes(inner: S, early: &[u8]) -> Self {
        let mut scanner = FrameScanner::default();
        // A violation here is remembered and reported by the first read.
        let _ = scanner.scan(early);
        Self { inner, scanner }
    }
}

impl<S: Transport> Transport for Utf8Guard<S> {
    fn set_nodelay(&self, enabled: bool) -> io::Result<()> {
        self.inner.set_nodelay(enabled)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Utf8Guard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.scanner.violated {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                Utf8Violation,
            )));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result
            && this.scanner.scan(&buf.filled()[before..]).is_err()
        {
            // Hide the bytes that hold the violation: nothing after it is used.
            buf.set_filled(before);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                Utf8Violation,
            )));
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Utf8Guard<S> {
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
    /// Framing we do not follow: stop watching, tungstenite will fail it.
    lost: bool,
    violated: bool,
}

impl FrameScanner {
    fn scan(&mut self, mut data: &[u8]) -> Result<(), Utf8Violation> {
        while !data.is_empty() && !self.lost {
            match self.remaining {
                None => data = self.read_header(data),
                Some(remaining) => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    if self.frame_is_text
                        && let Err(e) = self.check_payload(&data[..n])
                    {
                        self.violated = true;
                        return Err(e);
                    }
                    data = &data[n..];
                    self.remaining = Some(remaining - n as u64);
                }
            }
            if self.remaining == Some(0)
                && let Err(e) = self.end_frame()
            {
                self.violated = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Takes header bytes from `data`; returns what is left.
    fn read_header<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let mut data = data;
        while let Some((&byte, rest)) = data.split_first() {
            self.header[self.header_len] = byte;
            self.header_len += 1;
            data = rest;
            if let Some(needed) = self.header_size()
                && self.header_len == needed
            {
                self.start_frame();
                break;
            }
        }
        data
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

    fn start_frame(&mut self) {
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
        if opcode < 8 {
            self.open_message = if fin { None } else { Some(self.frame_is_text) };
        }
    }

    fn end_frame(&mut self) -> Result<(), Utf8Violation> {
        self.remaining = None;
        let ends_text = self.frame_is_text && self.frame_fin;
        self.frame_is_text = false;
        if ends_text && std::mem::take(&mut self.tail_len) != 0 {
            // The message ended inside a character.
            return Err(Utf8Violation);
        }
        Ok(())
    }

    /// Unmasks `payload` in blocks and checks it, carrying an incomplete character.
    fn check_payload(&mut self, payload: &[u8]) -> Result<(), Utf8Violation> {
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

    fn check_utf8(&mut self, mut input: &[u8]) -> Result<(), Utf8Violation> {
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
                Err(_) => return Err(Utf8Violation),
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
            Err(_) => Err(Utf8Violation),
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
    fn scan_in_steps(bytes: &[u8], step: usize) -> Result<(), Utf8Violation> {
        let mut scanner = FrameScanner::default();
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
        let mut scanner = FrameScanner::default();
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
    fn unknown_framing_is_left_to_tungstenite() {
        // A continuation with no message open: tungstenite fails it with 1002.
        let mut bytes = frame(0, true, b"x", None);
        bytes.extend(frame(1, true, &[0xff], None));
        assert!(scan_in_steps(&bytes, 1).is_ok());
    }
}
