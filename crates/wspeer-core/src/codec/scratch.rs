//! The read buffer shared by every connection that runs on a thread.
//!
//! A read lands here first and is decoded at once, so an idle connection holds
//! no read buffer at all: it only owns the bytes it could not hand on yet (a
//! frame that is partly there, input behind a full inbound queue).

use std::cell::RefCell;

thread_local! {
    static READ: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's read buffer of `len` bytes (it grows to the
/// largest `read_buffer_size` in use on the thread).
pub(crate) fn with_read_buffer<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    READ.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, 0);
            }
            f(&mut buffer[..len])
        }
        // Only if `f` ever re-entered: correct, just slower.
        Err(_) => f(&mut vec![0; len]),
    })
}
