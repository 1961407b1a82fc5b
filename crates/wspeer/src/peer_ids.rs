//! The random unique peer ids a server hands out, as Godot draws them.
//!
//! Godot draws a client id by hashing the clock, the data path and two pointers,
//! masks it to 31 bits and draws again while it is 0 or 1, so ids are random in
//! `[2, 2^31 − 1]`. It never checks them against the ids in use; we do.

use std::{
    fmt,
    hash::{BuildHasher, RandomState},
};

/// Draws after which [`IdGenerator`] stops drawing and scans for a free id, so
/// that a source that keeps returning used ids cannot hang the server.
const MAX_DRAWS: usize = 1024;

/// Where a server's new peer ids come from: random by default; tests give a
/// scripted source. Whatever the source returns, [`next_unused`] only gives
/// ids in `[2, 2^31 − 1]` that the caller does not have in use.
///
/// Godot 3's [`WebSocketServer`](crate::godot3::WebSocketServer) draws its
/// client ids here, and so do `wspeer-multiplayer`'s servers.
///
/// ```
/// use wspeer::IdGenerator;
///
/// let mut script = [7, 7, 9].into_iter();
/// let mut ids = IdGenerator::from_fn(move || script.next().unwrap_or(11));
/// // 7 is in use, so the second draw is skipped too.
/// assert_eq!(ids.next_unused(|id| id == 7), 9);
/// assert_eq!(ids.next_unused(|_| false), 11);
/// ```
///
/// [`next_unused`]: IdGenerator::next_unused
pub struct IdGenerator {
    source: Box<dyn FnMut() -> u32 + Send>,
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdGenerator")
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::random()
    }
}

impl IdGenerator {
    /// Random ids, as Godot draws them: SipHash of a counter under a key the
    /// standard library seeds from the operating system.
    pub fn random() -> Self {
        let keys = RandomState::new();
        let mut drawn: u64 = 0;
        Self::from_fn(move || {
            drawn = drawn.wrapping_add(1);
            // Truncation keeps the low 32 bits, which are as random as the rest.
            keys.hash_one(drawn) as u32
        })
    }

    /// Ids from `source`: raw candidates, masked to 31 bits; 0, 1 and ids in use
    /// are skipped.
    pub fn from_fn(source: impl FnMut() -> u32 + Send + 'static) -> Self {
        Self {
            source: Box::new(source),
        }
    }

    /// The next id that `in_use` does not claim, in `[2, 2^31 − 1]`. After
    /// 1024 draws that all miss, the lowest free id instead; `i32::MAX` if
    /// `in_use` claims every id.
    pub fn next_unused(&mut self, in_use: impl Fn(i32) -> bool) -> i32 {
        for _ in 0..MAX_DRAWS {
            let id = ((self.source)() & 0x7fff_ffff) as i32;
            if id >= 2 && !in_use(id) {
                return id;
            }
        }
        // Only a broken source gets here; a server has fewer than 2^31 − 2
        // peers, so the scan ends.
        (2..=i32::MAX).find(|&id| !in_use(id)).unwrap_or(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_in_range() {
        let mut ids = IdGenerator::random();
        for _ in 0..1000 {
            let id = ids.next_unused(|_| false);
            assert!(id >= 2);
        }
    }

    #[test]
    fn reserved_and_used_ids_are_skipped() {
        let mut script = vec![0, 1, 0x8000_0001, 7, 7, 9].into_iter();
        let mut ids = IdGenerator::from_fn(move || script.next().unwrap_or(11));
        // 0x8000_0001 masks to 1, which is reserved; 7 is in use.
        assert_eq!(ids.next_unused(|id| id == 7), 9);
        assert_eq!(ids.next_unused(|_| false), 11);
    }

    #[test]
    fn a_stuck_source_falls_back_to_a_scan() {
        let mut ids = IdGenerator::from_fn(|| 5);
        assert_eq!(ids.next_unused(|id| id == 5 || id == 2), 3);
    }
}
