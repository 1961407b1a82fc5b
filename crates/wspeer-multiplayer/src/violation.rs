//! What a misbehaving remote peer can send, and how it is logged. Every one of
//! these is dropped, as Godot drops it (or, where Godot does something worse,
//! as the row in `docs/multiplayer.md` says); none is an error to the caller
//! and none can panic.

use std::fmt;

/// One thing a remote peer sent that the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A packet too short for its header (Godot 3: under 9 bytes; Godot 4: a
    /// `SYS` packet under 6 bytes, a relay with nothing inside, an empty packet).
    TooShort {
        /// Its length.
        len: usize,
        /// The least it needs.
        need: usize,
    },
    /// A Godot 3 header whose `from` is not the sender's id ("someone is
    /// cheating").
    WrongFrom {
        /// The id in the header.
        claimed: i32,
    },
    /// A system message (Godot 3 `SYS_ADD/DEL/ID`, Godot 4 `ADD/DEL_PEER`) sent
    /// by a client: only the server sends those.
    SysFromClient {
        /// Its type byte.
        kind: u8,
    },
    /// A message type or `SYS` command this protocol does not have.
    UnknownType {
        /// Its type byte.
        kind: u8,
    },
    /// A relay or target naming a peer that is not connected (or left).
    UnknownTarget {
        /// The target.
        target: i32,
    },
    /// A Godot 3 message addressed to its own sender.
    TargetIsSender,
    /// A relay request while `server_relay` is off.
    RelayDisabled,
    /// A `SYS` packet inside a relay: nothing legitimate nests them.
    NestedSys,
    /// An id the server gave that cannot be one: under 2, our own, or a changed
    /// id after connecting.
    InvalidId {
        /// The id.
        id: i32,
    },
    /// The Godot 4 id packet was not exactly 4 bytes.
    BadIdPacket {
        /// Its length.
        len: usize,
    },
    /// Godot 3: the server announced itself (`SYS_ADD(1)`) before giving our id.
    AddBeforeId,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooShort { len, need } => {
                write!(f, "a {len}-byte packet, under the {need} bytes it needs")
            }
            Violation::WrongFrom { claimed } => {
                write!(f, "a header claiming to come from {claimed}")
            }
            Violation::SysFromClient { kind } => {
                write!(f, "system message {kind} from a client")
            }
            Violation::UnknownType { kind } => write!(f, "unknown message type {kind}"),
            Violation::UnknownTarget { target } => {
                write!(f, "target {target} is not a connected peer")
            }
            Violation::TargetIsSender => f.write_str("a message addressed to its sender"),
            Violation::RelayDisabled => f.write_str("a relay request while server_relay is off"),
            Violation::NestedSys => f.write_str("a SYS packet inside a relay"),
            Violation::InvalidId { id } => write!(f, "invalid peer id {id}"),
            Violation::BadIdPacket { len } => {
                write!(f, "a {len}-byte id packet (it must be 4 bytes)")
            }
            Violation::AddBeforeId => f.write_str("SYS_ADD(1) before SYS_ID"),
        }
    }
}

/// Logs a violation by `peer` (the sender's id; 1 for a server). The packet has
/// been dropped.
pub(crate) fn report(peer: i32, violation: &Violation) {
    tracing::warn!(peer, %violation, "dropped a packet that breaks the multiplayer protocol");
}

/// Logs a violation by a peer that already had one logged at `warn`: at
/// `debug`, so that a hostile client cannot flood the log.
pub(crate) fn report_again(peer: i32, violation: &Violation) {
    tracing::debug!(peer, %violation, "dropped a packet that breaks the multiplayer protocol");
}
