//! The client's side of the wire, written by hand so that the measuring side costs
//! little: the opening handshake, masked binary frames built from a template, and
//! a parser for the frames that come back.
//!
//! Every message carries a 16-byte header (sequence number, connection id, both
//! little-endian `u64`) followed by a fixed pattern, so an echo can be checked in
//! full with one header comparison and one `memcmp`.

use anyhow::{Context, anyhow, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes at the start of every payload: sequence number and connection id.
pub const HEADER: usize = 16;

/// The key sent in every upgrade request; RFC 6455 §1.3's example.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The accept value a server must answer to [`KEY`] (RFC 6455 §1.3).
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Sends the upgrade request and reads the `101` response (checking the accept
/// key). Returns any bytes read past the response head.
pub async fn handshake(stream: &mut TcpStream, host: &str) -> anyhow::Result<Vec<u8>> {
    // `WSPEER_BENCH_PATH` for a server that serves WebSockets on one route
    // only (`examples/axum_echo`: `/ws`).
    let path = std::env::var("WSPEER_BENCH_PATH")
        .ok()
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| "/bench".to_owned());
    upgrade(stream, host, &path, None).await
}

/// [`handshake`] to `path` (which may carry a query), offering `protocol`
/// when given (the chat requires `demo-chat`).
pub async fn upgrade(
    stream: &mut TcpStream,
    host: &str,
    path: &str,
    protocol: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let protocol = protocol
        .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{protocol}\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let end = loop {
        let n = stream.read(&mut chunk).await?;
        ensure!(n > 0, "the server closed during the handshake");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        ensure!(buf.len() < 8192, "response head over 8 KiB");
    };
    let head = std::str::from_utf8(&buf[..end]).context("response head is not UTF-8")?;
    let status = head.lines().next().unwrap_or_default();
    ensure!(status.contains(" 101"), "handshake refused: {status}");
    let accepted = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == ACCEPT
        })
    });
    ensure!(accepted, "wrong or missing Sec-WebSocket-Accept");
    Ok(buf[end..].to_vec())
}

/// Builds the masked binary frames one connection sends, and checks the echoes.
///
/// The masking key is fixed per connection so that the masked pattern can be
/// computed once; the server unmasks every byte all the same (a fresh key per
/// frame would only cost the load generator time).
#[derive(Debug)]
pub struct Codec {
    id: u64,
    size: usize,
    key: [u8; 4],
    /// The payload pattern, as it comes back from a WebSocket server.
    plain: Vec<u8>,
    /// The same pattern masked with `key`: what we send, and what a raw TCP echo
    /// sends back.
    masked: Vec<u8>,
    /// Whether echoes come back masked (a raw TCP echo returns our bytes).
    echo_masked: bool,
}

impl Codec {
    /// A codec for connection `id`, payloads of `size` bytes (at least [`HEADER`]).
    pub fn new(id: u64, size: usize, echo_masked: bool) -> Self {
        assert!(size >= HEADER, "messages carry a {HEADER}-byte header");
        let seed = (id as u32).wrapping_mul(0x9E37_79B9) | 0x0101_0101;
        let key = seed.to_le_bytes();
        let plain: Vec<u8> = (0..size)
            .map(|i| (i as u8).wrapping_mul(31) ^ 0x5a)
            .collect();
        let masked = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        Self {
            id,
            size,
            key,
            plain,
            masked,
            echo_masked,
        }
    }

    fn header(&self, seq: u64, masked: bool) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(&seq.to_le_bytes());
        h[8..].copy_from_slice(&self.id.to_le_bytes());
        if masked {
            for (i, b) in h.iter_mut().enumerate() {
                *b ^= self.key[i % 4];
            }
        }
        h
    }

    /// Appends the masked frame of message `seq` to `out`.
    pub fn encode(&self, seq: u64, out: &mut Vec<u8>) {
        out.push(0x82); // FIN + binary
        match self.size {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.header(seq, true));
        out.extend_from_slice(&self.masked[HEADER..]);
    }

    /// Parses one complete frame at the start of `buf` and checks it is the echo
    /// of message `seq`. Returns the frame's length, or `None` if `buf` does not
    /// hold a whole frame yet.
    pub fn check_echo(&self, buf: &[u8], seq: u64) -> anyhow::Result<Option<usize>> {
        if buf.len() < 2 {
            return Ok(None);
        }
        if buf[0] != 0x82 {
            bail!(
                "connection {}: expected a final binary frame, got first byte {:#04x}",
                self.id,
                buf[0]
            );
        }
        let masked = buf[1] & 0x80 != 0;
        let (len, mut at) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 if buf.len() >= 10 => {
                let raw: [u8; 8] = buf[2..10].try_into().map_err(|_| anyhow!("length"))?;
                (usize::try_from(u64::from_be_bytes(raw))?, 10)
            }
            126 | 127 => return Ok(None),
            n => (usize::from(n), 2),
        };
        if masked != self.echo_masked {
            bail!("connection {}: unexpected mask bit {masked}", self.id);
        }
        if masked {
            if buf.len() < at + 4 {
                return Ok(None);
            }
            ensure!(buf[at..at + 4] == self.key, "echo masked with another key");
            at += 4;
        }
        if len != self.size {
            bail!(
                "connection {}: echo of {len} bytes, sent {}",
                self.id,
                self.size
            );
        }
        if buf.len() < at + len {
            return Ok(None);
        }
        let payload = &buf[at..at + len];
        if payload[..HEADER] != self.header(seq, masked) {
            let got = u64::from_le_bytes(payload[..8].try_into().map_err(|_| anyhow!("seq"))?);
            bail!(
                "connection {}: expected echo #{seq}, got a header for #{got} (masked: {masked})",
                self.id
            );
        }
        let pattern = if masked { &self.masked } else { &self.plain };
        ensure!(
            payload[HEADER..] == pattern[HEADER..],
            "connection {}: echo #{seq} is corrupted",
            self.id
        );
        Ok(Some(at + len))
    }

    /// Appends a masked close frame with code 1000 to `out`.
    pub fn encode_close(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0x88, 0x82]);
        out.extend_from_slice(&self.key);
        let code = 1000u16.to_be_bytes();
        out.push(code[0] ^ self.key[0]);
        out.push(code[1] ^ self.key[1]);
    }
}

/// Reads the length of a complete unmasked server frame at the start of `buf`,
/// with its opcode: `Some((opcode, total_len))`, or `None` if incomplete.
pub fn server_frame(buf: &[u8]) -> Option<(u8, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let (len, at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let raw: [u8; 8] = buf[2..10].try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(raw)).ok()?, 10)
        }
        126 | 127 => return None,
        n => (usize::from(n), 2),
    };
    let mask = if buf[1] & 0x80 != 0 { 4 } else { 0 };
    (buf.len() >= at + mask + len).then_some((buf[0] & 0x0f, at + mask + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_frames_round_trip_through_a_raw_echo() {
        for size in [16, 20, 200, 1024, 16 * 1024, 70_000] {
            let codec = Codec::new(7, size, true);
            let mut out = Vec::new();
            codec.encode(3, &mut out);
            codec.encode(4, &mut out);
            let first = codec.check_echo(&out, 3).expect("valid").expect("complete");
            assert_eq!(server_frame(&out).map(|f| f.1), Some(first));
            let second = codec.check_echo(&out[first..], 4).expect("valid");
            assert_eq!(first + second.expect("complete"), out.len());
            assert!(codec.check_echo(&out, 4).is_err(), "wrong sequence");
            assert_eq!(codec.check_echo(&out[..first - 1], 3).expect("ok"), None);
        }
    }

    #[test]
    fn unmasked_echo_is_checked_against_the_plain_pattern() {
        let codec = Codec::new(1, 20, false);
        let mut frame = vec![0x82, 20];
        frame.extend_from_slice(&codec.header(9, false));
        frame.extend_from_slice(&codec.plain[HEADER..]);
        assert_eq!(codec.check_echo(&frame, 9).expect("valid"), Some(22));
        frame[21] ^= 1;
        assert!(codec.check_echo(&frame, 9).is_err(), "corruption is caught");
    }
}
