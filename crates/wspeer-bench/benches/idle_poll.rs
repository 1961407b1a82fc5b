//! The cost of an idle `WebSocketPeer::poll()`: an open client/server pair of
//! facade peers on loopback, and `poll()` on the client with nothing arriving.
//! The target is under 100 ns (`docs/benchmarks.md`).
//!
//! ```text
//! cargo bench -p wspeer-bench --bench idle_poll
//! ```

use criterion::{Criterion, criterion_group, criterion_main};

fn idle_poll(c: &mut Criterion) {
    let mut pair = wspeer_bench::idle_poll::open_pair().expect("an open peer pair");
    c.bench_function("idle WebSocketPeer::poll", |b| {
        b.iter(|| {
            pair.client.poll();
            std::hint::black_box(pair.client.available_packet_count())
        });
    });
    assert_eq!(
        pair.client.available_packet_count(),
        0,
        "the peer stayed idle"
    );
}

criterion_group!(benches, idle_poll);
criterion_main!(benches);
