//! An idle `poll()` allocates nothing. A counting allocator counts only the
//! allocations of the thread under test; the background runtime is not counted.

mod support;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; the counter is
// a const-initialised thread-local, which allocates nothing.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn idle_poll_allocates_nothing() {
    let (mut server, mut client) = support::pair();
    // Settle: both open, nothing in flight.
    for _ in 0..10 {
        server.poll();
        client.poll();
    }
    COUNTING.with(|c| c.set(true));
    for _ in 0..1000 {
        client.poll();
        server.poll();
        let _ = client.ready_state();
        let _ = client.available_packet_count();
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(COUNT.with(Cell::get), 0, "an idle poll allocated");
}
