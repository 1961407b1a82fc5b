//! Compressors and decompressors shared by the connections of a thread, for
//! the directions with no context takeover: such a state is empty at every
//! message start, so any connection may use it, and an idle connection needs
//! none.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress};

/// Spare decompressors a thread keeps. One is enough when messages arrive
/// whole; more are only in use while several connections of the thread are
/// inside a compressed message at once, and those beyond this are dropped.
const SPARE_INFLATERS: usize = 4;

thread_local! {
    /// Boxed: a connection holds one by pointer, so it moves in and out whole.
    #[allow(clippy::vec_box)]
    static INFLATERS: RefCell<Vec<Box<Decompress>>> = const { RefCell::new(Vec::new()) };
    /// One compressor per (window bits, level) in use on the thread: at most
    /// seven windows (9..=15) times the levels configured.
    static DEFLATERS: RefCell<Vec<((u8, u8), Compress)>> = const { RefCell::new(Vec::new()) };
}

/// A raw-deflate decompressor with the largest window, which reads what any
/// smaller window produced, so one kind serves every connection.
pub(crate) fn take_inflater() -> Box<Decompress> {
    INFLATERS
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_else(|| Box::new(Decompress::new_with_window_bits(false, 15)))
}

/// Gives a decompressor back, reset, for the next message on this thread.
pub(crate) fn return_inflater(mut inflater: Box<Decompress>) {
    inflater.reset(false);
    INFLATERS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < SPARE_INFLATERS {
            pool.push(inflater);
        }
    });
}

/// Runs `f` with this thread's compressor for `window_bits` (9..=15) and
/// `level`, reset before it is used again.
pub(crate) fn with_deflater<R>(
    window_bits: u8,
    level: u8,
    f: impl FnOnce(&mut Compress) -> R,
) -> R {
    let key = (window_bits, level);
    let taken = DEFLATERS.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().position(|(k, _)| *k == key)?;
        Some(pool.swap_remove(at).1)
    });
    let mut deflater = taken.unwrap_or_else(|| new_deflater(window_bits, level));
    let result = f(&mut deflater);
    deflater.reset();
    DEFLATERS.with(|pool| pool.borrow_mut().push((key, deflater)));
    result
}

/// A raw-deflate compressor (no zlib header, RFC 7692 §7.2.1).
pub(crate) fn new_deflater(window_bits: u8, level: u8) -> Compress {
    Compress::new_with_window_bits(Compression::new(u32::from(level)), false, window_bits)
}

/// The decompressor a connection keeps when its peer keeps its context:
/// a window as large as the peer's, at least 9 bits (zlib compresses with 9
/// when 8 is asked for; a real 256-byte window's output reads with 9 too).
pub(crate) fn new_inflater(window_bits: u8) -> Decompress {
    Decompress::new_with_window_bits(false, window_bits.max(9))
}
