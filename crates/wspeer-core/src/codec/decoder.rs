//! Bytes in, events out: frames are parsed, unmasked, checked and reassembled
//! into messages, every RFC 6455 rule enforced as soon as the bytes show it.

use bytes::{Bytes, BytesMut};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::{
    Role, Violation,
    header::{self, Header, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode},
    is_sendable_close_code, mask,
    utf8::Utf8Stream,
};
use crate::{
    deflate::{DeflateParams, InflateError, MessageInflater, totals},
    message::{Message, Payload},
};

/// Most fragments a message may have: `inbound_buffer_size / 16`, at least 1024
/// (enough for the Autobahn suite's 4 MiB in 64-byte fragments with its limits).
/// Empty continuation frames cost no memory but endless work; past the limit the
/// connection is closed with 1008, as `ws` does since its 2026 fix.
pub(crate) fn max_fragments(inbound_buffer_size: usize) -> usize {
    (inbound_buffer_size / 16).max(1024)
}

/// Most compressed bytes a message may take on the wire: its inflated limit,
/// plus room for an honest peer's worst case (incompressible data in stored
/// blocks, a sync flush in each of `max_fragments` frames), so that input
/// that inflates to nothing (empty blocks) still costs bounded work.
pub(crate) fn max_compressed(inbound_buffer_size: usize) -> usize {
    inbound_buffer_size
        .saturating_add(inbound_buffer_size / 2)
        .saturating_add(1024)
}

/// Compressed payload is unmasked through a stack buffer of this size.
const UNMASK_CHUNK: usize = 1024;

/// Most bytes reserved for a message before they arrive (the default
/// `inbound_buffer_size`, so that messages within it are received in place).
const FIRST_RESERVE: usize = 64 * 1024;

/// What a complete frame or message means to the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A whole data message.
    Message(Message),
    /// A ping; the pong must carry this payload.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// A close frame: its code and reason, or `None` when it had no payload.
    Close(Option<(u16, String)>),
}

/// The frame whose payload is being read.
#[derive(Debug)]
struct Frame {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes read so far (the mask position).
    position: usize,
    /// Payload bytes still to come.
    remaining: usize,
}

/// A data message whose frames are still arriving; its body holds only what
/// has arrived (inflated, for a compressed message).
#[derive(Debug)]
struct Partial {
    text: bool,
    body: Body,
    /// Payload bytes received so far, as sent (compressed or not).
    wire_len: usize,
    fragments: usize,
    utf8: Utf8Stream,
}

#[derive(Debug)]
enum Body {
    Plain(BytesMut),
    /// Inflated so far; a `Vec` so that the inflater writes into it directly
    /// and its capacity never passes the limit.
    Inflated(Vec<u8>),
}

/// The receiving half of the protocol of one connection.
#[derive(Debug)]
pub(crate) struct Decoder {
    role: Role,
    max_message: usize,
    max_fragments: usize,
    /// A header split across reads, and how much of it we have.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    frame: Option<Frame>,
    message: Option<Partial>,
    /// The payload of the control frame being read (at most 125 bytes).
    control: [u8; MAX_CONTROL_PAYLOAD],
    control_len: usize,
    /// Present when permessage-deflate was negotiated.
    inflater: Option<MessageInflater>,
}

impl Decoder {
    /// A decoder for our `role`, refusing messages over `max_message` bytes.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn new(role: Role, max_message: usize) -> Self {
        Self::with_compression(role, max_message, None)
    }

    /// A decoder for a connection that negotiated `compression` (if any):
    /// messages with RSV1 set are inflated, and `max_message` bounds what
    /// they inflate to.
    pub(crate) fn with_compression(
        role: Role,
        max_message: usize,
        compression: Option<&DeflateParams>,
    ) -> Self {
        Self {
            role,
            max_message,
            max_fragments: max_fragments(max_message),
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            control: [0; MAX_CONTROL_PAYLOAD],
            control_len: 0,
            inflater: compression.map(|params| MessageInflater::new(role.side(), params)),
        }
    }

    /// Consumes bytes from the front of `input` until an event is complete
    /// (returned) or `input` is used up (`None`; partial frames are kept).
    pub(crate) fn decode(&mut self, input: &mut &[u8]) -> Result<Option<Event>, Violation> {
        loop {
            let frame = match &mut self.frame {
                Some(frame) => frame,
                None => {
                    if !self.read_header(input)? {
                        return Ok(None);
                    }
                    if let Some(message) = self.take_whole_message(input)? {
                        return Ok(Some(Event::Message(message)));
                    }
                    match &mut self.frame {
                        Some(frame) => frame,
                        None => continue,
                    }
                }
            };
            let n = frame.remaining.min(input.len());
            let (chunk, rest) = input.split_at(n);
            *input = rest;
            frame.remaining -= n;
            self.take_payload(chunk)?;
            if self.frame.as_ref().is_some_and(|f| f.remaining == 0) {
                if let Some(event) = self.end_frame()? {
                    return Ok(Some(event));
                }
            } else if input.is_empty() {
                return Ok(None);
            }
        }
    }

    /// Reads a header from `input`, carrying a split one across calls. Returns
    /// whether a frame has started.
    fn read_header(&mut self, input: &mut &[u8]) -> Result<bool, Violation> {
        if self.header_len == 0
            && let Some((header, used)) = header::parse(input)?
        {
            *input = &input[used..];
            self.start_frame(header)?;
            return Ok(true);
        }
        loop {
            let want = match self.header_len {
                0 | 1 => 2,
                _ => header::header_len([self.header[0], self.header[1]]),
            };
            if self.header_len == want {
                self.header_len = 0;
                let (header, _) = header::parse(&self.header[..want])?
                    .ok_or(Violation::Protocol("incomplete frame header"))?;
                self.start_frame(header)?;
                return Ok(true);
            }
            if input.is_empty() {
                return Ok(false);
            }
            let n = (want - self.header_len).min(input.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&input[..n]);
            self.header_len += n;
            *input = &input[n..];
        }
    }

    /// Checks a new frame against the role and the message in progress.
    fn start_frame(&mut self, header: Header) -> Result<(), Violation> {
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => {
                return Err(Violation::Protocol("unmasked frame from a client"));
            }
            (Role::Client, true) => return Err(Violation::Protocol("masked frame from a server")),
            _ => {}
        }
        if header.rsv1 {
            // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message.
            if self.inflater.is_none() {
                return Err(Violation::Protocol("RSV1 set without permessage-deflate"));
            }
            if header.opcode.is_control() {
                return Err(Violation::Protocol("RSV1 set on a control frame"));
            }
            if header.opcode == OpCode::Continuation {
                return Err(Violation::Protocol("RSV1 set on a continuation frame"));
            }
        }
        // A data frame's length is checked against the budget before it is
        // converted, so it always fits in a usize; a control frame's is ≤ 125.
        // A compressed message's budget is for its wire bytes; what they
        // inflate to is bounded as it comes out.
        let (max_message, max_compressed) = (self.max_message, max_compressed(self.max_message));
        let too_big = |partial: Option<&Partial>, compressed: bool| {
            let (budget, already) = match partial {
                Some(p) if matches!(p.body, Body::Inflated(_)) => (max_compressed, p.wire_len),
                Some(p) => (max_message, p.wire_len),
                None if compressed => (max_compressed, 0),
                None => (max_message, 0),
            };
            header.payload_len > (budget - already) as u64
        };
        match (header.opcode, &mut self.message) {
            (OpCode::Continuation, None) => {
                return Err(Violation::Protocol("continuation frame with no message"));
            }
            (OpCode::Continuation, Some(partial)) => {
                partial.fragments += 1;
                if partial.fragments > self.max_fragments {
                    return Err(Violation::TooManyFragments);
                }
                if too_big(Some(partial), false) {
                    return Err(Violation::TooBig);
                }
            }
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(Violation::Protocol("new message inside a fragmented one"));
            }
            (OpCode::Text | OpCode::Binary, None) => {
                if too_big(None, header.rsv1) {
                    return Err(Violation::TooBig);
                }
                self.message = Some(Partial {
                    text: header.opcode == OpCode::Text,
                    body: match header.rsv1 {
                        true => Body::Inflated(Vec::new()),
                        false => Body::Plain(BytesMut::new()),
                    },
                    wire_len: 0,
                    fragments: 1,
                    utf8: Utf8Stream::default(),
                });
            }
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => self.control_len = 0,
        }
        self.frame = Some(Frame {
            opcode: header.opcode,
            fin: header.fin,
            mask: header.mask,
            position: 0,
            remaining: header.payload_len as usize,
        });
        Ok(())
    }

    /// The common case, in one step: a whole unfragmented message already in
    /// `input`. Its text is checked once, at the end, since all of it is here.
    fn take_whole_message(&mut self, input: &mut &[u8]) -> Result<Option<Message>, Violation> {
        let Some(frame) = &self.frame else {
            return Ok(None);
        };
        let compressed = self
            .message
            .as_ref()
            .is_some_and(|m| matches!(m.body, Body::Inflated(_)));
        let whole = frame.fin
            && !compressed
            && matches!(frame.opcode, OpCode::Text | OpCode::Binary)
            && frame.remaining <= input.len();
        if !whole {
            return Ok(None);
        }
        let (payload, rest) = input.split_at(frame.remaining);
        *input = rest;
        let mut data = BytesMut::from(payload);
        if let Some(key) = frame.mask {
            mask::apply(&mut data, key, 0);
        }
        let text = frame.opcode == OpCode::Text;
        self.frame = None;
        self.message = None;
        finish_message(text, data.freeze()).map(Some)
    }

    /// Unmasks and keeps a piece of the current frame's payload (inflated,
    /// in a compressed message); text is checked as it comes.
    fn take_payload(&mut self, chunk: &[u8]) -> Result<(), Violation> {
        let Some(frame) = &mut self.frame else {
            return Ok(());
        };
        let position = frame.position;
        frame.position += chunk.len();
        if frame.opcode.is_control() {
            let end = self.control_len + chunk.len();
            let piece = &mut self.control[self.control_len..end];
            piece.copy_from_slice(chunk);
            self.control_len = end;
            if let Some(key) = frame.mask {
                mask::apply(piece, key, position);
            }
            return Ok(());
        }
        let Some(partial) = &mut self.message else {
            return Ok(());
        };
        partial.wire_len += chunk.len();
        match &mut partial.body {
            Body::Plain(data) => {
                let start = data.len();
                if start == 0 && !chunk.is_empty() {
                    // Room for the whole frame once its payload starts to arrive,
                    // but never more than FIRST_RESERVE on a header's word alone
                    // (a large `inbound_buffer_size` must not let a peer that
                    // stalls cost us that much); past it the buffer grows with
                    // what arrives (doubling, so copying stays linear).
                    data.reserve((frame.remaining + chunk.len()).min(FIRST_RESERVE));
                }
                data.extend_from_slice(chunk);
                let piece = &mut data[start..];
                if let Some(key) = frame.mask {
                    mask::apply(piece, key, position);
                }
                if partial.text {
                    partial
                        .utf8
                        .feed(piece)
                        .map_err(|_| Violation::InvalidUtf8)?;
                }
            }
            Body::Inflated(out) => {
                let Some(inflater) = &mut self.inflater else {
                    return Ok(());
                };
                let mut inflate = |piece: &[u8]| {
                    let before = out.len();
                    inflater
                        .inflate(piece, out, self.max_message)
                        .map_err(inflate_violation)?;
                    if partial.text {
                        partial
                            .utf8
                            .feed(&out[before..])
                            .map_err(|_| Violation::InvalidUtf8)?;
                    }
                    Ok(())
                };
                match frame.mask {
                    None => inflate(chunk)?,
                    Some(key) => {
                        // Unmasked a piece at a time: the input is not ours to
                        // change, and the message may be any size.
                        let mut buffer = [0u8; UNMASK_CHUNK];
                        for (i, piece) in chunk.chunks(UNMASK_CHUNK).enumerate() {
                            let buffer = &mut buffer[..piece.len()];
                            buffer.copy_from_slice(piece);
                            mask::apply(buffer, key, position + i * UNMASK_CHUNK);
                            inflate(buffer)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The current frame is complete: returns what it completes, if anything.
    fn end_frame(&mut self) -> Result<Option<Event>, Violation> {
        let Some(frame) = self.frame.take() else {
            return Ok(None);
        };
        let control = &self.control[..self.control_len];
        Ok(match frame.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if !frame.fin {
                    return Ok(None);
                }
                let Some(mut partial) = self.message.take() else {
                    return Ok(None);
                };
                let data = match partial.body {
                    Body::Plain(data) => tight(data),
                    Body::Inflated(mut out) => {
                        let before = out.len();
                        if let Some(inflater) = &mut self.inflater {
                            inflater
                                .finish(&mut out, self.max_message)
                                .map_err(inflate_violation)?;
                        }
                        if partial.text {
                            partial
                                .utf8
                                .feed(&out[before..])
                                .map_err(|_| Violation::InvalidUtf8)?;
                        }
                        totals::received(out.len(), partial.wire_len);
                        tight_vec(out)
                    }
                };
                if partial.text {
                    partial.utf8.finish().map_err(|_| Violation::InvalidUtf8)?;
                }
                Some(Event::Message(finish_message(partial.text, data)?))
            }
            OpCode::Ping => Some(Event::Ping(Bytes::copy_from_slice(control))),
            OpCode::Pong => Some(Event::Pong),
            OpCode::Close => Some(Event::Close(parse_close(control)?)),
        })
    }
}

fn inflate_violation(error: InflateError) -> Violation {
    match error {
        InflateError::TooBig => Violation::TooBig,
        InflateError::Corrupt => Violation::BadCompressedData,
    }
}

/// A message that grew in pieces may hold up to twice its size; the queue's
/// budget counts its length, so give back the slack.
fn tight(data: BytesMut) -> Bytes {
    if data.capacity() > data.len() + data.len() / 4 {
        Bytes::copy_from_slice(&data)
    } else {
        data.freeze()
    }
}

fn tight_vec(data: Vec<u8>) -> Bytes {
    if data.capacity() > data.len() + data.len() / 4 {
        Bytes::copy_from_slice(&data)
    } else {
        Bytes::from(data)
    }
}

fn finish_message(text: bool, data: Bytes) -> Result<Message, Violation> {
    let payload = if text {
        Payload::Text(Utf8Bytes::try_from(data).map_err(|_| Violation::InvalidUtf8)?)
    } else {
        Payload::Binary(data)
    };
    Ok(Message::from(payload))
}

/// RFC 6455 §5.5.1 and §7.4: no payload, or a valid code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<(u16, String)>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(Violation::Protocol("close payload of one byte")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            if !is_sendable_close_code(code) {
                return Err(Violation::Protocol("invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| Violation::InvalidUtf8)?;
            Ok(Some((code, reason.to_owned())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A frame as a client sends it (masked), with the first byte's low bits
    /// as given (opcode, RSV1).
    pub(super) fn frame(bits: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![bits | if fin { 0x80 } else { 0 }];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&KEY);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        out
    }

    /// Decodes `bytes` fed `step` bytes at a time, as a server.
    fn decode_in_steps(bytes: &[u8], step: usize, max: usize) -> Result<Vec<Event>, Violation> {
        let mut decoder = Decoder::new(Role::Server, max);
        let mut events = Vec::new();
        for piece in bytes.chunks(step) {
            let mut input = piece;
            while let Some(event) = decoder.decode(&mut input)? {
                events.push(event);
            }
            assert!(input.is_empty());
        }
        Ok(events)
    }

    fn decode_all_ways(bytes: &[u8], max: usize) -> Result<Vec<Event>, Violation> {
        let whole = decode_in_steps(bytes, bytes.len().max(1), max);
        for step in [1, 2, 3, 7, 13, 100] {
            assert_eq!(decode_in_steps(bytes, step, max), whole, "step {step}");
        }
        whole
    }

    #[test]
    fn messages_and_control_frames_in_any_split() {
        let text = "héllo wörld ✓ 𝄞".repeat(30);
        let mut bytes = frame(0x1, false, &text.as_bytes()[..7]);
        bytes.extend(frame(0x9, true, b"ping"));
        bytes.extend(frame(0x0, true, &text.as_bytes()[7..]));
        bytes.extend(frame(0x2, true, &[0xff; 300]));
        bytes.extend(frame(0x2, true, b""));
        bytes.extend(frame(0xA, true, b""));
        bytes.extend(frame(0x8, true, &[0x03, 0xe8, b'b', b'y', b'e']));
        let events = decode_all_ways(&bytes, 65535).unwrap();
        assert_eq!(
            events,
            vec![
                Event::Ping(Bytes::from_static(b"ping")),
                Event::Message(Message::text(text)),
                Event::Message(Message::binary(vec![0xff; 300])),
                Event::Message(Message::binary(Vec::new())),
                Event::Pong,
                Event::Close(Some((1000, "bye".to_owned()))),
            ]
        );
    }

    #[test]
    fn protocol_errors() {
        let fails = |bytes: Vec<u8>, expected: Violation| {
            assert_eq!(decode_all_ways(&bytes, 65535), Err(expected));
        };
        let is_protocol = |bytes: Vec<u8>| {
            assert!(matches!(
                decode_all_ways(&bytes, 65535),
                Err(Violation::Protocol(_))
            ));
        };
        is_protocol(frame(0x0, true, b"x"));
        let mut nested = frame(0x1, false, b"a");
        nested.extend(frame(0x1, true, b"b"));
        is_protocol(nested);
        is_protocol(frame(0x8, true, &[0x03]));
        is_protocol(frame(0x8, true, &1005u16.to_be_bytes()));
        is_protocol(frame(0x8, true, &999u16.to_be_bytes()));
        // Unmasked frame to a server.
        is_protocol(vec![0x82, 0x01, 0x00]);
        fails(frame(0x1, true, &[b'a', 0xff]), Violation::InvalidUtf8);
        fails(
            frame(0x1, true, &[b'a', 0xe2, 0x82]),
            Violation::InvalidUtf8,
        );
        fails(
            frame(0x8, true, &[0x03, 0xe8, 0xff]),
            Violation::InvalidUtf8,
        );
    }

    #[test]
    fn size_limit_counts_every_fragment_and_allows_the_exact_size() {
        let mut exact = frame(0x2, false, &[1; 6]);
        exact.extend(frame(0x0, true, &[2; 4]));
        assert_eq!(decode_all_ways(&exact, 10).unwrap().len(), 1);
        let mut over = frame(0x2, false, &[1; 6]);
        over.extend(frame(0x0, true, &[2; 5]));
        assert_eq!(decode_all_ways(&over, 10), Err(Violation::TooBig));
        assert_eq!(
            decode_all_ways(&frame(0x2, true, &[0; 11]), 10),
            Err(Violation::TooBig)
        );
    }

    #[test]
    fn invalid_text_fails_before_the_frame_ends() {
        let mut payload = "κόσμε".as_bytes().to_vec();
        let bad_at = payload.len();
        payload.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]);
        payload.extend_from_slice(&[b'x'; 200]);
        let bytes = frame(0x1, true, &payload);
        let header = 4 + 4; // two bytes, a 16-bit length, the mask
        let mut decoder = Decoder::new(Role::Server, 65535);
        let mut input = &bytes[..header + bad_at + 1];
        assert_eq!(decoder.decode(&mut input), Ok(None));
        let mut input = &bytes[header + bad_at + 1..header + bad_at + 2];
        assert_eq!(decoder.decode(&mut input), Err(Violation::InvalidUtf8));
    }

    #[test]
    fn a_fragment_flood_is_stopped_and_control_frames_do_not_count() {
        let mut bytes = frame(0x2, false, b"");
        for _ in 0..1023 {
            bytes.extend(frame(0x0, false, b""));
        }
        bytes.extend(frame(0x0, true, b""));
        // 16 KiB of inbound budget allows 1024 fragments; this is 1025.
        assert_eq!(max_fragments(16 * 1024), 1024);
        assert_eq!(
            decode_in_steps(&bytes, 100, 16 * 1024),
            Err(Violation::TooManyFragments)
        );
        let mut bytes = frame(0x2, false, b"");
        for _ in 0..2000 {
            bytes.extend(frame(0x9, true, b""));
        }
        bytes.extend(frame(0x0, true, b"x"));
        let events = decode_in_steps(&bytes, 7, 65535).unwrap();
        assert_eq!(events.len(), 2001);
    }

    #[test]
    fn a_client_refuses_masked_frames_and_reads_unmasked_ones() {
        let mut decoder = Decoder::new(Role::Client, 100);
        let mut input: &[u8] = &[0x81, 0x02, b'h', b'i'];
        assert_eq!(
            decoder.decode(&mut input),
            Ok(Some(Event::Message(Message::text("hi"))))
        );
        let masked = frame(0x1, true, b"hi");
        let mut input = &masked[..];
        assert!(matches!(
            decoder.decode(&mut input),
            Err(Violation::Protocol(_))
        ));
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    /// A header that promises a large payload and then stalls costs at most
    /// FIRST_RESERVE, not the bytes promised.
    #[test]
    fn a_stalled_frame_holds_only_what_arrived() {
        let mut decoder = Decoder::new(Role::Server, 1 << 20);
        let mut frame = vec![0x82, 0x80 | 127];
        frame.extend_from_slice(&(1_000_000u64).to_be_bytes());
        frame.extend_from_slice(&[1, 2, 3, 4]); // mask
        frame.extend_from_slice(&[0; 10]);
        let mut input = &frame[..];
        assert_eq!(decoder.decode(&mut input), Ok(None));
        let held = decoder.message.as_ref().map_or(0, |m| match &m.body {
            Body::Plain(data) => data.capacity(),
            Body::Inflated(out) => out.capacity(),
        });
        assert!(held <= FIRST_RESERVE, "{held} bytes held for 10 received");
    }

    /// Without a reservation up front, a large message read in many pieces
    /// still arrives whole and in order.
    #[test]
    fn a_message_assembled_in_pieces_arrives_whole() {
        let mut decoder = Decoder::new(Role::Client, 1 << 20);
        let mut frame = vec![0x82, 126];
        frame.extend_from_slice(&(40_000u16).to_be_bytes());
        frame.extend(std::iter::repeat_n(7u8, 40_000));
        let mut message = None;
        for piece in frame.chunks(3_000) {
            let mut input = piece;
            if let Some(Event::Message(m)) = decoder.decode(&mut input).unwrap() {
                message = Some(m);
            }
        }
        let message = message.expect("the message");
        assert_eq!(message.len(), 40_000);
        let bytes = message.into_payload();
        assert!(bytes.len() == 40_000 && bytes.iter().all(|&b| b == 7));
    }
}

#[cfg(test)]
mod compressed_tests {
    use super::{tests::frame, *};
    use crate::{
        deflate::{DeflateConfig, MessageDeflater},
        error::Side,
    };

    fn params(no_takeover: bool) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: no_takeover,
            client_no_context_takeover: no_takeover,
            ..DeflateParams::default()
        }
    }

    const RSV1: u8 = 0x40;

    /// What a client with these params sends for each message, compressed.
    fn compress_all(messages: &[&[u8]], params: &DeflateParams) -> Vec<Vec<u8>> {
        let mut deflater = MessageDeflater::new(Side::Client, params, &DeflateConfig::default());
        messages
            .iter()
            .map(|m| {
                let mut out = Vec::new();
                deflater.compress(m, &mut out);
                out
            })
            .collect()
    }

    fn decode_in_steps(
        bytes: &[u8],
        step: usize,
        max: usize,
        params: Option<&DeflateParams>,
    ) -> Result<Vec<Event>, Violation> {
        let mut decoder = Decoder::with_compression(Role::Server, max, params);
        let mut events = Vec::new();
        for piece in bytes.chunks(step) {
            let mut input = piece;
            while let Some(event) = decoder.decode(&mut input)? {
                events.push(event);
            }
            assert!(input.is_empty());
        }
        Ok(events)
    }

    fn decode_all_ways(
        bytes: &[u8],
        max: usize,
        params: Option<&DeflateParams>,
    ) -> Result<Vec<Event>, Violation> {
        let whole = decode_in_steps(bytes, bytes.len().max(1), max, params);
        for step in [1, 2, 3, 7, 13, 100, 1500] {
            assert_eq!(
                decode_in_steps(bytes, step, max, params),
                whole,
                "step {step}"
            );
        }
        whole
    }

    fn text(n: usize) -> String {
        "héllo wörld ✓ 𝄞, how is everyone today? ".repeat(n)
    }

    #[test]
    fn compressed_messages_in_any_split_beside_plain_ones() {
        for no_takeover in [true, false] {
            let p = params(no_takeover);
            let (long, short) = (text(40), text(1));
            let wire = compress_all(&[long.as_bytes(), &[7; 3000], short.as_bytes()], &p);
            let half = wire[0].len() / 2;
            let mut bytes = frame(0x1 | RSV1, false, &wire[0][..half]);
            bytes.extend(frame(0x9, true, b"ping"));
            bytes.extend(frame(0x0, false, b""));
            bytes.extend(frame(0x0, true, &wire[0][half..]));
            bytes.extend(frame(0x2 | RSV1, true, &wire[1]));
            bytes.extend(frame(0x1, true, b"plain"));
            bytes.extend(frame(0x1 | RSV1, true, &wire[2]));
            let events = decode_all_ways(&bytes, 65535, Some(&p)).unwrap();
            assert_eq!(
                events,
                vec![
                    Event::Ping(Bytes::from_static(b"ping")),
                    Event::Message(Message::text(long)),
                    Event::Message(Message::binary(vec![7; 3000])),
                    Event::Message(Message::text("plain")),
                    Event::Message(Message::text(short)),
                ]
            );
        }
    }

    #[test]
    fn rsv1_is_a_protocol_error_where_it_does_not_belong() {
        let p = params(true);
        let wire = compress_all(&[b"hello"], &p).remove(0);
        let is_protocol = |bytes: Vec<u8>, params: Option<&DeflateParams>| {
            assert!(matches!(
                decode_all_ways(&bytes, 65535, params),
                Err(Violation::Protocol(_))
            ));
        };
        is_protocol(frame(0x1 | RSV1, true, &wire), None);
        let mut on_continuation = frame(0x1 | RSV1, false, &wire);
        on_continuation.extend(frame(RSV1, true, b""));
        is_protocol(on_continuation, Some(&p));
        is_protocol(frame(0x9 | RSV1, true, b""), Some(&p));
        is_protocol(frame(0x8 | RSV1, true, &[0x03, 0xe8]), Some(&p));
        // RSV2 and RSV3 stay reserved.
        is_protocol(frame(0x1 | 0x20, true, &wire), Some(&p));
    }

    #[test]
    fn limits_apply_to_inflated_data() {
        let p = params(true);
        let message = text(30);
        let len = message.len();
        let wire = compress_all(&[message.as_bytes()], &p).remove(0);
        assert!(wire.len() * 4 < len);
        let bytes = frame(0x1 | RSV1, true, &wire);
        assert_eq!(decode_all_ways(&bytes, len, Some(&p)).unwrap().len(), 1);
        assert_eq!(
            decode_all_ways(&bytes, len - 1, Some(&p)),
            Err(Violation::TooBig)
        );
        // The wire size has its own budget: endless empty stored blocks.
        let empty_blocks = [0x00, 0x00, 0x00, 0xff, 0xff].repeat(40);
        let bytes = frame(0x2 | RSV1, true, &empty_blocks);
        assert_eq!(max_compressed(10), 1039);
        assert_eq!(decode_in_steps(&bytes, 7, 10, Some(&p)).unwrap().len(), 1);
        let mut flood = frame(0x2 | RSV1, false, &empty_blocks);
        for _ in 0..6 {
            flood.extend(frame(0x0, false, &empty_blocks));
        }
        assert_eq!(
            decode_in_steps(&flood, 7, 10, Some(&p)),
            Err(Violation::TooBig)
        );
    }

    #[test]
    fn invalid_text_fails_as_soon_as_it_is_inflated() {
        let p = params(true);
        let mut payload = "κόσμε".as_bytes().to_vec();
        payload.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]);
        // Incompressible after the bad bytes, so the frame is long.
        let mut x = 1u32;
        payload.extend((0..20_000).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8 & 0x7f
        }));
        let wire = compress_all(&[&payload], &p).remove(0);
        let bytes = frame(0x1 | RSV1, true, &wire);
        assert_eq!(
            decode_all_ways(&bytes, 65535, Some(&p)),
            Err(Violation::InvalidUtf8)
        );
        let mut decoder = Decoder::with_compression(Role::Server, 65535, Some(&p));
        let mut input = &bytes[..200];
        assert_eq!(decoder.decode(&mut input), Err(Violation::InvalidUtf8));
    }

    #[test]
    fn corrupt_data_closes_with_1007() {
        let p = params(true);
        let bytes = frame(0x2 | RSV1, true, &[0xff, 0xff, 0xff]);
        let violation = decode_all_ways(&bytes, 65535, Some(&p)).unwrap_err();
        assert_eq!(violation, Violation::BadCompressedData);
        assert_eq!(violation.close().0, 1007);
    }

    #[test]
    fn a_bomb_closes_with_1009_after_at_most_the_limit() {
        let bomb = crate::deflate::round_trip_tests::zero_bomb(64);
        assert!(
            bomb.len() < max_compressed(65535),
            "the wire budget lets it in"
        );
        let p = params(false);
        let mut decoder = Decoder::with_compression(Role::Client, 65535, Some(&p));
        let mut bytes = vec![0x82 | RSV1, 127];
        bytes.extend_from_slice(&(bomb.len() as u64).to_be_bytes());
        bytes.extend_from_slice(&bomb);
        let mut input = &bytes[..];
        assert_eq!(decoder.decode(&mut input), Err(Violation::TooBig));
        let held = decoder.message.as_ref().map_or(0, |m| match &m.body {
            Body::Plain(data) => data.capacity(),
            Body::Inflated(out) => out.capacity(),
        });
        assert!(held <= 65535, "{held} bytes held");
    }
}
