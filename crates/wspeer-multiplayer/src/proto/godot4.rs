//! The Godot 4 codec: `WebSocketMultiplayerPeer`'s id packet, and the
//! `SceneMultiplayer` packets around it (`websocket_multiplayer_peer.cpp`, `scene_multiplayer.cpp`). Everything is
//! little-endian.
//!
//! ```text
//! id packet (server → new client, first message):   [i32 id]              4 bytes, id >= 2
//! add peer  (server → client):                       [0x07][0x01][i32 id]  6 bytes
//! del peer  (server → client):                       [0x07][0x02][i32 id]  6 bytes
//! relay     (client → server: id = target;          [0x07][0x03][i32 id][inner packet]
//!            server → client: id = source)
//! raw bytes (multiplayer.send_bytes):                [0x03][bytes]
//! ```
//!
//! Byte 0 of a `SceneMultiplayer` packet is the command in its low 3 bits
//! (`CMD_MASK`); the high bits are flags, ignored here as Godot ignores them for
//! `SYS` and `RAW`.

use bytes::{BufMut, Bytes, BytesMut};

use crate::violation::Violation;

/// Size of the id packet.
const ID_PACKET_SIZE: usize = 4;
/// The bits of byte 0 that hold the command.
const CMD_MASK: u8 = 0x07;
/// `NETWORK_COMMAND_RAW`: bytes sent with `send_bytes`.
const CMD_RAW: u8 = 3;
/// `NETWORK_COMMAND_SYS`: peer announcements and relays.
const CMD_SYS: u8 = 7;
/// `SYS_CMD_SIZE`: command, sub-command and the i32 peer id.
const SYS_CMD_SIZE: usize = 6;

/// Byte 1 of a `SYS` packet: Godot's `SYS_COMMAND_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum SysCommand {
    Auth = 0,
    AddPeer = 1,
    DelPeer = 2,
    Relay = 3,
}

impl TryFrom<u8> for SysCommand {
    type Error = Violation;

    fn try_from(sys: u8) -> Result<Self, Violation> {
        match sys {
            0 => Ok(Self::Auth),
            1 => Ok(Self::AddPeer),
            2 => Ok(Self::DelPeer),
            3 => Ok(Self::Relay),
            kind => Err(Violation::UnknownType { kind }),
        }
    }
}

/// The id packet for `id`.
pub fn encode_id(id: i32) -> [u8; ID_PACKET_SIZE] {
    id.to_le_bytes()
}

/// Reads an id packet: exactly 4 bytes holding an id of at least 2 (Godot does
/// not check the frame type, nor do we).
pub fn decode_id(packet: &[u8]) -> Result<i32, Violation> {
    let bytes: [u8; ID_PACKET_SIZE] = packet
        .try_into()
        .map_err(|_| Violation::BadIdPacket { len: packet.len() })?;
    let id = i32::from_le_bytes(bytes);
    if id < 2 {
        return Err(Violation::InvalidId { id });
    }
    Ok(id)
}

/// A `SceneMultiplayer` packet, as far as this layer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenePacket<'a> {
    /// `[7][1][id]`: a peer joined.
    AddPeer(i32),
    /// `[7][2][id]`: a peer left.
    DelPeer(i32),
    /// `[7][3][id][inner]`: a relayed packet; `id` is the target on the way to
    /// the server and the source on the way back.
    Relay {
        /// Target (to the server) or source (from the server).
        peer: i32,
        /// The packet inside, at least one byte.
        inner: &'a [u8],
    },
    /// `[7][0]…`: authentication, which wspeer does not do.
    Auth,
    /// Any other command (raw bytes, RPCs, replication): the whole packet.
    Other(&'a [u8]),
}

/// Reads a `SceneMultiplayer` packet. Fails on an empty packet, a `SYS` packet
/// under 6 bytes, a relay with nothing inside, or an unknown `SYS` command.
pub fn decode(packet: &[u8]) -> Result<ScenePacket<'_>, Violation> {
    let Some(&first) = packet.first() else {
        return Err(Violation::TooShort { len: 0, need: 1 });
    };
    if first & CMD_MASK != CMD_SYS {
        return Ok(ScenePacket::Other(packet));
    }
    let command = packet.get(1).map(|&sys| SysCommand::try_from(sys));
    let peer = packet
        .get(2..SYS_CMD_SIZE)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes);
    let too_short = |need| Violation::TooShort {
        len: packet.len(),
        need,
    };
    match (command, peer) {
        // An auth packet has a layout of its own, which nothing here reads.
        (Some(Ok(SysCommand::Auth)), _) => Ok(ScenePacket::Auth),
        (None, _) | (_, None) => Err(too_short(SYS_CMD_SIZE)),
        (Some(Err(unknown)), Some(_)) => Err(unknown),
        (Some(Ok(SysCommand::AddPeer)), Some(peer)) => Ok(ScenePacket::AddPeer(peer)),
        (Some(Ok(SysCommand::DelPeer)), Some(peer)) => Ok(ScenePacket::DelPeer(peer)),
        (Some(Ok(SysCommand::Relay)), Some(peer)) => match packet.get(SYS_CMD_SIZE..) {
            Some(inner) if !inner.is_empty() => Ok(ScenePacket::Relay { peer, inner }),
            _ => Err(too_short(SYS_CMD_SIZE + 1)),
        },
    }
}

/// Whether `packet` is a `SYS` packet.
pub fn is_sys(packet: &[u8]) -> bool {
    packet.first().is_some_and(|b| b & CMD_MASK == CMD_SYS)
}

/// Whether `packet` is a raw-bytes packet (`send_bytes`) with at least one byte
/// of payload.
pub fn is_raw(packet: &[u8]) -> bool {
    packet.len() >= 2 && packet[0] & CMD_MASK == CMD_RAW
}

/// What `send_bytes` sent, for a packet addressed to this peer: `Ok(Some(1))`
/// (the payload starts at byte 1) for raw bytes, `Ok(None)` for any other
/// command (an RPC, replication), an error for a raw packet with no payload
/// (Godot: "Invalid packet received. Size too small").
pub(crate) fn raw_payload_start(packet: &[u8]) -> Result<Option<usize>, Violation> {
    match packet.first() {
        Some(b) if b & CMD_MASK == CMD_RAW && packet.len() >= 2 => Ok(Some(1)),
        Some(b) if b & CMD_MASK == CMD_RAW => Err(Violation::TooShort {
            len: packet.len(),
            need: 2,
        }),
        Some(_) => Ok(None),
        None => Err(Violation::TooShort { len: 0, need: 2 }),
    }
}

/// `[7][1][id]`.
pub fn encode_add_peer(id: i32) -> [u8; SYS_CMD_SIZE] {
    encode_sys(SysCommand::AddPeer, id)
}

/// `[7][2][id]`.
pub fn encode_del_peer(id: i32) -> [u8; SYS_CMD_SIZE] {
    encode_sys(SysCommand::DelPeer, id)
}

fn encode_sys(sys: SysCommand, id: i32) -> [u8; SYS_CMD_SIZE] {
    let [a, b, c, d] = id.to_le_bytes();
    [CMD_SYS, sys as u8, a, b, c, d]
}

/// `[7][3][peer][inner]`.
pub fn encode_relay(peer: i32, inner: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(SYS_CMD_SIZE + inner.len());
    out.put_u8(CMD_SYS);
    out.put_u8(SysCommand::Relay as u8);
    out.put_i32_le(peer);
    out.put_slice(inner);
    out.freeze()
}

/// `[3][data]`: what `multiplayer.send_bytes(data)` puts on the wire.
pub fn encode_raw(data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + data.len());
    out.put_u8(CMD_RAW);
    out.put_slice(data);
    out.freeze()
}

/// `[7][3][peer][3][data]`: raw bytes relayed, built in one copy.
pub fn encode_relay_raw(peer: i32, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(SYS_CMD_SIZE + 1 + data.len());
    out.put_u8(CMD_SYS);
    out.put_u8(SysCommand::Relay as u8);
    out.put_i32_le(peer);
    out.put_u8(CMD_RAW);
    out.put_slice(data);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from `websocket_multiplayer_peer.cpp` and `scene_multiplayer.cpp`: i32 little-endian, SYS = 7, ADD = 1,
    // DEL = 2, RELAY = 3, RAW = 3.

    #[test]
    fn id_packet_vectors() {
        assert_eq!(encode_id(2), [0x02, 0x00, 0x00, 0x00]);
        assert_eq!(encode_id(0x1234_5678), [0x78, 0x56, 0x34, 0x12]);
        assert_eq!(encode_id(i32::MAX), [0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(decode_id(&[0x78, 0x56, 0x34, 0x12]), Ok(0x1234_5678));
        assert_eq!(decode_id(&[2, 0, 0, 0]), Ok(2));
    }

    #[test]
    fn bad_id_packets() {
        assert_eq!(
            decode_id(&[1, 0, 0, 0]),
            Err(Violation::InvalidId { id: 1 })
        );
        assert_eq!(
            decode_id(&[0, 0, 0, 0]),
            Err(Violation::InvalidId { id: 0 })
        );
        assert_eq!(
            decode_id(&[0xff, 0xff, 0xff, 0xff]),
            Err(Violation::InvalidId { id: -1 })
        );
        assert_eq!(
            decode_id(&[2, 0, 0]),
            Err(Violation::BadIdPacket { len: 3 })
        );
        assert_eq!(
            decode_id(&[2, 0, 0, 0, 0]),
            Err(Violation::BadIdPacket { len: 5 })
        );
        assert_eq!(decode_id(&[]), Err(Violation::BadIdPacket { len: 0 }));
    }

    #[test]
    fn sys_vectors() {
        assert_eq!(encode_add_peer(5), [0x07, 0x01, 0x05, 0x00, 0x00, 0x00]);
        assert_eq!(
            encode_del_peer(0x0102_0304),
            [0x07, 0x02, 0x04, 0x03, 0x02, 0x01]
        );
        assert_eq!(
            &encode_relay(-5, &[0x03, 0xaa])[..],
            [0x07, 0x03, 0xfb, 0xff, 0xff, 0xff, 0x03, 0xaa]
        );
        assert_eq!(&encode_raw(b"hi")[..], [0x03, b'h', b'i']);
        assert_eq!(
            &encode_relay_raw(0, b"hi")[..],
            [0x07, 0x03, 0, 0, 0, 0, 0x03, b'h', b'i']
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(&[7, 1, 5, 0, 0, 0]), Ok(ScenePacket::AddPeer(5)));
        assert_eq!(decode(&[7, 2, 5, 0, 0, 0]), Ok(ScenePacket::DelPeer(5)));
        assert_eq!(
            decode(&[7, 3, 0xfb, 0xff, 0xff, 0xff, 3, 0xaa]),
            Ok(ScenePacket::Relay {
                peer: -5,
                inner: &[3, 0xaa]
            })
        );
        // Flag bits above the command are ignored.
        assert_eq!(decode(&[0x17, 1, 5, 0, 0, 0]), Ok(ScenePacket::AddPeer(5)));
        assert_eq!(decode(&[7, 0]), Ok(ScenePacket::Auth));
        assert_eq!(decode(&[3, 1, 2]), Ok(ScenePacket::Other(&[3, 1, 2])));
        assert_eq!(decode(&[0]), Ok(ScenePacket::Other(&[0])));
    }

    #[test]
    fn malformed() {
        assert_eq!(decode(&[]), Err(Violation::TooShort { len: 0, need: 1 }));
        assert_eq!(decode(&[7]), Err(Violation::TooShort { len: 1, need: 6 }));
        assert_eq!(
            decode(&[7, 1, 5, 0, 0]),
            Err(Violation::TooShort { len: 5, need: 6 })
        );
        assert_eq!(
            decode(&[7, 3, 5, 0, 0, 0]),
            Err(Violation::TooShort { len: 6, need: 7 })
        );
        assert_eq!(
            decode(&[7, 9, 5, 0, 0, 0]),
            Err(Violation::UnknownType { kind: 9 })
        );
    }

    #[test]
    fn kinds() {
        assert!(is_sys(&[0x27]));
        assert!(!is_sys(&[3]));
        assert!(is_raw(&[3, 0]));
        assert!(!is_raw(&[3]));
        assert!(!is_raw(&[0, 1]));
    }
}
