//! The Godot 3 codec: the 9-byte header every multiplayer message carries
//! (Godot 3's `websocket_multiplayer_peer.h` and `.cpp`). Integers are little-endian.
//!
//! ```text
//! offset size field
//! 0      1    type  MessageType: SYS_NONE = 0 (payload), SYS_ADD = 1, SYS_DEL = 2, SYS_ID = 3
//! 1      4    from  i32
//! 5      4    to    i32: >1 a peer, 1 the server, 0 everyone, <0 everyone but -to
//! 9      N    payload (system messages: the i32 peer id, 13 bytes in all)
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::violation::Violation;

/// `PROTO_SIZE`: the header.
const PROTO_SIZE: usize = 9;
/// `SYS_PACKET_SIZE`: a system message, header and id.
const SYS_PACKET_SIZE: usize = 13;

/// What a message carries: the header's first byte, Godot 3's `SYS_*` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    /// `SYS_NONE`: an application payload.
    Payload = 0,
    /// `SYS_ADD`: a peer joined.
    AddPeer = 1,
    /// `SYS_DEL`: a peer left.
    DelPeer = 2,
    /// `SYS_ID`: the id the server gave you.
    Id = 3,
}

impl TryFrom<u8> for MessageType {
    type Error = Violation;

    /// Fails with [`Violation::UnknownType`] on a byte Godot 3 does not send.
    fn try_from(kind: u8) -> Result<Self, Violation> {
        match kind {
            0 => Ok(Self::Payload),
            1 => Ok(Self::AddPeer),
            2 => Ok(Self::DelPeer),
            3 => Ok(Self::Id),
            kind => Err(Violation::UnknownType { kind }),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(kind: MessageType) -> u8 {
        kind as u8
    }
}

/// The header of a Godot 3 multiplayer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What the message carries.
    pub kind: MessageType,
    /// The sender's id.
    pub from: i32,
    /// The target.
    pub to: i32,
}

/// Splits a message into its header and payload; fails under 9 bytes or on an
/// unknown type byte.
pub fn decode(message: &[u8]) -> Result<(Header, &[u8]), Violation> {
    let too_short = || Violation::TooShort {
        len: message.len(),
        need: PROTO_SIZE,
    };
    let (&kind, rest) = message.split_first().ok_or_else(too_short)?;
    let (from, rest) = split_i32(rest).ok_or_else(too_short)?;
    let (to, payload) = split_i32(rest).ok_or_else(too_short)?;
    let kind = MessageType::try_from(kind)?;
    Ok((Header { kind, from, to }, payload))
}

/// Reads the peer id of a system message's payload (at least 4 bytes; Godot
/// ignores any more).
pub fn decode_sys_id(payload: &[u8]) -> Result<i32, Violation> {
    split_i32(payload)
        .map(|(id, _)| id)
        .ok_or(Violation::TooShort {
            len: PROTO_SIZE + payload.len(),
            need: SYS_PACKET_SIZE,
        })
}

/// A message: header, then payload.
pub fn encode(header: Header, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(PROTO_SIZE + payload.len());
    out.put_u8(header.kind.into());
    out.put_i32_le(header.from);
    out.put_i32_le(header.to);
    out.put_slice(payload);
    out.freeze()
}

/// A system message as Godot's server sends it (`_send_sys`): from 1, to 0,
/// the id as payload.
pub fn encode_sys(kind: MessageType, id: i32) -> [u8; SYS_PACKET_SIZE] {
    let mut out = [0u8; SYS_PACKET_SIZE];
    out[0] = kind.into();
    out[1..5].copy_from_slice(&1i32.to_le_bytes());
    out[5..9].copy_from_slice(&0i32.to_le_bytes());
    out[9..13].copy_from_slice(&id.to_le_bytes());
    out
}

fn split_i32(bytes: &[u8]) -> Option<(i32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((i32::from_le_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from Godot 3's `websocket_multiplayer_peer.cpp`: [type u8][from i32 LE][to i32 LE][payload].

    #[test]
    fn system_message_vectors() {
        assert_eq!(
            encode_sys(MessageType::Id, 1234),
            [3, 1, 0, 0, 0, 0, 0, 0, 0, 0xd2, 0x04, 0, 0]
        );
        assert_eq!(
            encode_sys(MessageType::AddPeer, 1),
            [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        );
        assert_eq!(
            encode_sys(MessageType::DelPeer, 0x7fff_fffe),
            [2, 1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0x7f]
        );
    }

    #[test]
    fn payload_vectors() {
        let message = encode(
            Header {
                kind: MessageType::Payload,
                from: 5,
                to: -7,
            },
            b"hi",
        );
        assert_eq!(
            &message[..],
            [0, 5, 0, 0, 0, 0xf9, 0xff, 0xff, 0xff, b'h', b'i']
        );
        let (header, payload) = decode(&message).unwrap();
        assert_eq!(
            header,
            Header {
                kind: MessageType::Payload,
                from: 5,
                to: -7
            }
        );
        assert_eq!(payload, b"hi");
    }

    #[test]
    fn an_empty_payload_is_a_bare_header() {
        let (header, payload) = decode(&[0, 2, 0, 0, 0, 1, 0, 0, 0]).unwrap();
        assert_eq!((header.from, header.to), (2, 1));
        assert!(payload.is_empty());
    }

    #[test]
    fn type_bytes() {
        for kind in [
            MessageType::Payload,
            MessageType::AddPeer,
            MessageType::DelPeer,
            MessageType::Id,
        ] {
            assert_eq!(MessageType::try_from(u8::from(kind)), Ok(kind));
        }
        assert_eq!(
            decode(&[4, 2, 0, 0, 0, 1, 0, 0, 0]),
            Err(Violation::UnknownType { kind: 4 })
        );
    }

    #[test]
    fn short_messages() {
        for len in 0..PROTO_SIZE {
            assert_eq!(
                decode(&vec![0; len]),
                Err(Violation::TooShort {
                    len,
                    need: PROTO_SIZE
                })
            );
        }
        assert_eq!(decode_sys_id(&[1, 0, 0, 0]), Ok(1));
        assert_eq!(decode_sys_id(&[1, 0, 0, 0, 9]), Ok(1));
        assert_eq!(
            decode_sys_id(&[1, 0, 0]),
            Err(Violation::TooShort { len: 12, need: 13 })
        );
    }
}
