//! `put_var` / `get_var` (Godot's `PacketPeer`): one Variant per packet, in
//! the generation the caller names.

use wspeer_variant::{DecodeError, EncodeError, Encoding, Variant};

use crate::{GetPacketError, SendError, WebSocketPeer};

/// Why `put_var` failed.
#[derive(Debug, thiserror::Error)]
pub enum PutVarError {
    /// The value has no encoding in the chosen generation.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The packet could not be queued.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Why `get_var` failed.
#[derive(Debug, thiserror::Error)]
pub enum GetVarError {
    /// No packet is available.
    #[error(transparent)]
    Unavailable(#[from] GetPacketError),
    /// The packet is not a valid Variant (it has been consumed).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl WebSocketPeer {
    /// Sends `value` as one packet (Godot's `put_var(value)` with
    /// `full_objects = false`), framed as [`put_packet`](Self::put_packet) frames.
    pub fn put_var(&mut self, value: &Variant, encoding: Encoding) -> Result<(), PutVarError> {
        let bytes = wspeer_variant::encode(value, encoding)?;
        Ok(self.put_packet(&bytes)?)
    }

    /// Takes the oldest packet and decodes it (Godot's `get_var()` with
    /// `allow_objects = false`: objects only as ids, never instantiated).
    pub fn get_var(&mut self, encoding: Encoding) -> Result<Variant, GetVarError> {
        let packet = self.get_packet()?;
        Ok(wspeer_variant::decode(&packet, encoding)?)
    }
}
