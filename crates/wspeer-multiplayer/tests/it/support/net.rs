//! The tests' view of the crate's simulated network: a server handing out
//! scripted ids, and helpers to build expected messages.

use wspeer_multiplayer::{IdGenerator, Protocol};

pub use wspeer_multiplayer::sim::{Dir, Network as Net};

/// A network whose server hands out `ids` in this order.
pub fn network(protocol: Protocol, ids: &[u32]) -> Net {
    // Owned: the generator outlives the slice.
    let script: Vec<u32> = ids.to_vec();
    let mut script = script.into_iter();
    Net::new(
        protocol,
        IdGenerator::from_fn(move || script.next().expect("the test ran out of scripted ids")),
    )
}

/// `i32` little-endian bytes, for building expected messages.
pub fn le(v: i32) -> [u8; 4] {
    v.to_le_bytes()
}

/// Concatenates byte pieces into one expected message.
pub fn cat(pieces: &[&[u8]]) -> Vec<u8> {
    pieces.concat()
}
