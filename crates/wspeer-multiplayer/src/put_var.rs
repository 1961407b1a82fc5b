//! `put_var` / `get_var` on the multiplayer peer, in the Variant encoding of
//! the generation its [`Protocol`] speaks.

use wspeer_variant::{DecodeError, EncodeError, Encoding, Variant};

use crate::{GetPacketError, MultiplayerPeer, Protocol, PutPacketError};

/// Why `MultiplayerPeer::put_var` failed.
#[derive(Debug, thiserror::Error)]
pub enum PutVarError {
    /// The value has no encoding in the protocol's generation.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The packet could not be sent.
    #[error(transparent)]
    Put(#[from] PutPacketError),
}

/// Why `MultiplayerPeer::get_var` failed.
#[derive(Debug, thiserror::Error)]
pub enum GetVarError {
    /// No packet is waiting.
    #[error(transparent)]
    Unavailable(#[from] GetPacketError),
    /// The packet is not a valid Variant (it has been consumed).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Protocol {
    /// The Variant encoding of this protocol's Godot generation.
    pub fn variant_encoding(self) -> Encoding {
        match self {
            Protocol::Godot4 => Encoding::Godot4,
            Protocol::Godot3 => Encoding::Godot3,
        }
    }
}

impl MultiplayerPeer {
    /// Sends `value` to the target peer (Godot's `put_var`), encoded for the
    /// protocol's generation.
    pub fn put_var(&mut self, value: &Variant) -> Result<(), PutVarError> {
        let bytes = wspeer_variant::encode(value, self.protocol().variant_encoding())?;
        Ok(self.put_packet(&bytes)?)
    }

    /// Takes the next packet and decodes it (Godot's `get_var`); see
    /// [`packet_peer`](Self::packet_peer) for its sender. Objects only as ids.
    pub fn get_var(&mut self) -> Result<Variant, GetVarError> {
        let packet = self.get_packet()?;
        Ok(wspeer_variant::decode(
            &packet,
            self.protocol().variant_encoding(),
        )?)
    }
}
