//! Frame headers (RFC 6455 §5.2): 2 to 14 bytes before each payload.

use super::Violation;

/// The longest header: 2 bytes, an 8-byte length and a 4-byte mask.
pub(crate) const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// The frame types of RFC 6455 §5.2; every other opcode is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    pub(crate) fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    /// RSV1: "this message is compressed" when permessage-deflate was
    /// negotiated (RFC 7692 §6). Whether it is allowed is the decoder's call.
    pub(crate) rsv1: bool,
    pub(crate) opcode: OpCode,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) payload_len: u64,
}

/// How many bytes the header starting with `first_two` takes.
pub(crate) fn header_len(first_two: [u8; 2]) -> usize {
    let length_bytes = match first_two[1] & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask_bytes = if first_two[1] & 0x80 != 0 { 4 } else { 0 };
    2 + length_bytes + mask_bytes
}

/// Parses the header at the start of `buf`. `Ok(None)` means more bytes are
/// needed; otherwise returns the header and its length. Checks what the header
/// alone can tell: RSV2, RSV3 and reserved opcodes, the length's top bit, and
/// the control-frame rules. Masking and RSV1 are for the caller, which knows
/// its role and what was negotiated.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Header, usize)>, Violation> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    let len = header_len([b0, b1]);
    if buf.len() < len {
        return Ok(None);
    }
    if b0 & 0x30 != 0 {
        // No extension we support uses RSV2 or RSV3.
        return Err(Violation::Protocol("reserved bits set"));
    }
    let opcode = OpCode::from_bits(b0 & 0x0F).ok_or(Violation::Protocol("reserved opcode"))?;
    let fin = b0 & 0x80 != 0;
    let (payload_len, mask_at) = match b1 & 0x7F {
        126 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&buf[2..10]);
            let n = u64::from_be_bytes(bytes);
            if n >> 63 != 0 {
                return Err(Violation::Protocol("payload length has its top bit set"));
            }
            (n, 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = (b1 & 0x80 != 0).then(|| {
        [
            buf[mask_at],
            buf[mask_at + 1],
            buf[mask_at + 2],
            buf[mask_at + 3],
        ]
    });
    if opcode.is_control() {
        if !fin {
            return Err(Violation::Protocol("fragmented control frame"));
        }
        if payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(Violation::Protocol("control frame over 125 bytes"));
        }
    }
    Ok(Some((
        Header {
            fin,
            rsv1: b0 & 0x40 != 0,
            opcode,
            mask,
            payload_len,
        },
        len,
    )))
}

/// Appends the header of a final (unfragmented) uncompressed frame to `out`.
pub(crate) fn encode(out: &mut Vec<u8>, opcode: OpCode, payload_len: usize, mask: Option<[u8; 4]>) {
    encode_frame(out, FrameBits::whole(opcode), payload_len, mask);
}

/// The bits of a frame's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameBits {
    pub(crate) fin: bool,
    /// Set on the first frame of a compressed message only (RFC 7692 §6).
    pub(crate) rsv1: bool,
    pub(crate) opcode: OpCode,
}

impl FrameBits {
    /// A final, uncompressed frame.
    pub(crate) fn whole(opcode: OpCode) -> Self {
        Self {
            fin: true,
            rsv1: false,
            opcode,
        }
    }

    /// A final frame that carries a whole compressed message.
    pub(crate) fn compressed(opcode: OpCode) -> Self {
        Self {
            rsv1: true,
            ..Self::whole(opcode)
        }
    }
}

/// Appends the header of any frame to `out`: fragments (`fin` clear),
/// compressed messages (`rsv1` set on their first frame).
pub(crate) fn encode_frame(
    out: &mut Vec<u8>,
    bits: FrameBits,
    payload_len: usize,
    mask: Option<[u8; 4]>,
) {
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let fin = if bits.fin { 0x80 } else { 0 };
    let rsv1 = if bits.rsv1 { 0x40 } else { 0 };
    out.push(fin | rsv1 | bits.opcode.bits());
    match payload_len {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize, mask: Option<[u8; 4]>) {
        let mut out = Vec::new();
        encode(&mut out, OpCode::Binary, len, mask);
        let (header, used) = parse(&out).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert_eq!(header_len([out[0], out[1]]), out.len());
        assert_eq!(
            header,
            Header {
                fin: true,
                rsv1: false,
                opcode: OpCode::Binary,
                mask,
                payload_len: len as u64
            }
        );
        // One byte short is "need more", never an error.
        assert_eq!(parse(&out[..out.len() - 1]), Ok(None));
    }

    #[test]
    fn every_length_form_round_trips() {
        for len in [0, 1, 125, 126, 65535, 65536, 1 << 40] {
            round_trip(len, None);
            round_trip(len, Some([1, 2, 3, 4]));
        }
    }

    #[test]
    fn fragments_and_compressed_frames_encode_their_bits() {
        let mut out = Vec::new();
        let bits = FrameBits {
            fin: false,
            rsv1: true,
            opcode: OpCode::Text,
        };
        encode_frame(&mut out, bits, 3, None);
        assert_eq!(out, [0x41, 3]);
        let (header, _) = parse(&out).unwrap().unwrap();
        assert!(!header.fin && header.rsv1 && header.opcode == OpCode::Text);
        out.clear();
        encode_frame(&mut out, FrameBits::compressed(OpCode::Binary), 0, None);
        assert_eq!(out, [0xC2, 0]);
    }

    #[test]
    fn bad_headers_are_refused() {
        let refused = |bytes: &[u8]| parse(bytes).is_err();
        assert!(refused(&[0x82 | 0x20, 0x00]), "RSV2");
        assert!(refused(&[0x82 | 0x10, 0x00]), "RSV3");
        assert!(refused(&[0x83, 0x00]), "reserved data opcode");
        assert!(refused(&[0x8B, 0x00]), "reserved control opcode");
        assert!(refused(&[0x09, 0x00]), "fragmented ping");
        assert!(refused(&[0x89, 126, 0, 126]), "ping of 126 bytes");
        assert!(refused(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]), "top bit");
        assert_eq!(parse(&[0x81]), Ok(None));
        // RSV1 is parsed; the decoder decides (it needs permessage-deflate).
        assert!(parse(&[0xC1, 0x00]).unwrap().unwrap().0.rsv1);
        assert_eq!(parse(&[]), Ok(None));
    }
}
