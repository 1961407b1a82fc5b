//! permessage-deflate measurements for docs/benchmarks.md: memory held per
//! connection in each mode, a decompression bomb's peak memory, the flate2
//! backends (zlib-rs, which wspeer uses, against miniz_oxide) on chat-like
//! text, and the size threshold below which compressing does not pay.
//!
//! `cargo run --release -p wspeer-bench --example deflate`

#![allow(clippy::print_stdout)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
    time::Instant,
};

use wspeer_bench::deflate_echo::corpus;
use wspeer_core::{
    DeflateConfig, DeflateParams, Side,
    deflate::{MessageDeflater, MessageInflater},
};

/// Counts the bytes allocated now and the most at once.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        // SAFETY: as the caller promised for `layout`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Relaxed);
        // SAFETY: as the caller promised for `ptr` and `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn now() -> usize {
    NOW.load(Relaxed)
}

fn params(no_takeover: bool, bits: u8) -> DeflateParams {
    let mut p = DeflateParams::default();
    p.server_no_context_takeover = no_takeover;
    p.client_no_context_takeover = no_takeover;
    p.server_max_window_bits = bits;
    p.client_max_window_bits = bits;
    p
}

/// Bytes a connection's deflater and inflater hold after exchanging one
/// message each way, on a thread whose shared state is already warm.
fn held_per_connection(no_takeover: bool, bits: u8, level: u8, message: &[u8]) -> (usize, usize) {
    let p = params(no_takeover, bits);
    let config = DeflateConfig::default().level(level);
    // Warm the thread's shared state, which is not the connection's.
    let mut warm = MessageDeflater::new(Side::Server, &p, &config);
    let mut wire = Vec::new();
    warm.compress(message, &mut wire);
    let mut warm_in = MessageInflater::new(Side::Client, &p);
    let mut out = Vec::new();
    warm_in.inflate(&wire, &mut out, 1 << 20).unwrap();
    warm_in.finish(&mut out, 1 << 20).unwrap();
    let mut compressed = Vec::new();
    MessageDeflater::new(Side::Server, &p, &config).compress(message, &mut compressed);
    let mut wire = Vec::with_capacity(8192);
    let mut out = Vec::with_capacity(8192);
    let before = now();
    let deflaters: Vec<_> = (0..100)
        .map(|_| {
            let mut deflater = Box::new(MessageDeflater::new(Side::Server, &p, &config));
            wire.clear();
            deflater.compress(message, &mut wire);
            deflater
        })
        .collect();
    let sending = (now() - before - deflaters.capacity() * size_of::<usize>()) / 100;
    let before = now();
    let inflaters: Vec<_> = (0..100)
        .map(|_| {
            let mut inflater = Box::new(MessageInflater::new(Side::Client, &p));
            out.clear();
            inflater.inflate(&compressed, &mut out, 1 << 20).unwrap();
            inflater.finish(&mut out, 1 << 20).unwrap();
            inflater
        })
        .collect();
    let receiving = (now() - before - inflaters.capacity() * size_of::<usize>()) / 100;
    drop((deflaters, inflaters));
    (sending, receiving)
}

/// What the thread-shared state costs a thread, once, in no-takeover mode.
fn shared_per_thread(message: Vec<u8>) -> usize {
    std::thread::spawn(move || {
        let p = params(true, 15);
        let before = now();
        let mut deflater = MessageDeflater::new(Side::Server, &p, &DeflateConfig::default());
        let mut wire = Vec::new();
        deflater.compress(&message, &mut wire);
        let mut inflater = MessageInflater::new(Side::Client, &p);
        let mut out = Vec::new();
        inflater.inflate(&wire, &mut out, 1 << 20).unwrap();
        inflater.finish(&mut out, 1 << 20).unwrap();
        now() - before - wire.capacity() - out.capacity()
    })
    .join()
    .unwrap()
}

/// Deflate data that inflates to `mib` MiB of zeros (about 1 KiB per MiB).
fn zero_bomb(mib: usize) -> Vec<u8> {
    let p = params(false, 15);
    let mut deflater = MessageDeflater::new(Side::Client, &p, &DeflateConfig::default().level(9));
    let zeros = vec![0u8; 1 << 20];
    let (mut first, mut next) = (Vec::new(), Vec::new());
    deflater.compress(&zeros, &mut first);
    deflater.compress(&zeros, &mut next);
    let mut bomb = first;
    for _ in 1..mib {
        bomb.extend_from_slice(&[0, 0, 0xff, 0xff]);
        bomb.extend_from_slice(&next);
    }
    bomb
}

fn bomb() {
    let bomb = zero_bomb(1024);
    let limit = 64 * 1024;
    let mut inflater = MessageInflater::new(Side::Server, &params(true, 15));
    let mut out = Vec::new();
    let before = now();
    PEAK.store(before, Relaxed);
    let start = Instant::now();
    let mut consumed = 0;
    let mut result = Ok(());
    for piece in bomb.chunks(4096) {
        consumed += piece.len();
        result = inflater.inflate(piece, &mut out, limit);
        if result.is_err() {
            break;
        }
    }
    println!(
        "| {} KiB inflating to 1 GiB, limit 64 KiB | {result:?} after {consumed} input bytes, {} output | peak {} KiB above the start | {:.1} µs |",
        bomb.len() / 1024,
        out.len(),
        (PEAK.load(Relaxed) - before) / 1024,
        start.elapsed().as_secs_f64() * 1e6
    );
}

/// Compression with miniz_oxide, reused across messages (reset per message,
/// as wspeer does with no context takeover), raw deflate, sync flush.
struct Miniz {
    compressor: Box<miniz_oxide::deflate::core::CompressorOxide>,
    inflater: Box<miniz_oxide::inflate::stream::InflateState>,
}

impl Miniz {
    fn new(level: u8) -> Self {
        use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
        let flags = create_comp_flags_from_zip_params(i32::from(level), -15, 0);
        Self {
            compressor: Box::new(CompressorOxide::new(flags)),
            inflater: miniz_oxide::inflate::stream::InflateState::new_boxed(
                miniz_oxide::DataFormat::Raw,
            ),
        }
    }

    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        use miniz_oxide::deflate::core::{TDEFLFlush, compress};
        self.compressor.reset();
        out.resize(payload.len() + payload.len() / 16 + 64, 0);
        let (_, _, written) = compress(&mut self.compressor, payload, out, TDEFLFlush::Sync);
        out.truncate(written.saturating_sub(4));
    }

    fn inflate(&mut self, payload: &[u8], out: &mut Vec<u8>, expect: usize) {
        use miniz_oxide::{MZFlush, inflate::stream::inflate};
        self.inflater.reset(miniz_oxide::DataFormat::Raw);
        out.resize(expect + 1, 0);
        let mut input = payload.to_vec();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let result = inflate(&mut self.inflater, &input, out, MZFlush::Sync);
        out.truncate(result.bytes_written);
    }
}

fn backends(messages: &[Vec<u8>]) {
    let total_in: usize = messages.iter().map(Vec::len).sum();
    for level in [1u8, 2, 6] {
        // zlib-rs, through wspeer's own types.
        let p = params(true, 15);
        let config = DeflateConfig::default().level(level);
        let mut deflater = MessageDeflater::new(Side::Server, &p, &config);
        let mut inflater = MessageInflater::new(Side::Client, &p);
        let (mut wire, mut out) = (Vec::new(), Vec::new());
        let compressed: Vec<Vec<u8>> = messages
            .iter()
            .map(|m| {
                let mut w = Vec::new();
                deflater.compress(m, &mut w);
                w
            })
            .collect();
        let rounds = 5;
        let start = Instant::now();
        for _ in 0..rounds {
            for m in messages {
                wire.clear();
                deflater.compress(black_box(m), &mut wire);
            }
        }
        let zlib_compress = start.elapsed().as_nanos() as f64 / (rounds * messages.len()) as f64;
        let start = Instant::now();
        for _ in 0..rounds {
            for c in &compressed {
                out.clear();
                inflater.inflate(black_box(c), &mut out, 1 << 20).unwrap();
                inflater.finish(&mut out, 1 << 20).unwrap();
            }
        }
        let zlib_inflate = start.elapsed().as_nanos() as f64 / (rounds * messages.len()) as f64;
        let zlib_out: usize = compressed.iter().map(Vec::len).sum();

        let mut miniz = Miniz::new(level);
        let compressed: Vec<Vec<u8>> = messages
            .iter()
            .map(|m| {
                let mut w = Vec::new();
                miniz.compress(m, &mut w);
                w
            })
            .collect();
        for (c, m) in compressed.iter().zip(messages) {
            miniz.inflate(c, &mut out, m.len());
            assert_eq!(&out, m, "miniz round trip");
        }
        let start = Instant::now();
        for _ in 0..rounds {
            for m in messages {
                miniz.compress(black_box(m), &mut wire);
            }
        }
        let miniz_compress = start.elapsed().as_nanos() as f64 / (rounds * messages.len()) as f64;
        let start = Instant::now();
        for _ in 0..rounds {
            for (c, m) in compressed.iter().zip(messages) {
                miniz.inflate(black_box(c), &mut out, m.len());
            }
        }
        let miniz_inflate = start.elapsed().as_nanos() as f64 / (rounds * messages.len()) as f64;
        let miniz_out: usize = compressed.iter().map(Vec::len).sum();
        for (name, out, c, i) in [
            ("zlib-rs", zlib_out, zlib_compress, zlib_inflate),
            ("miniz_oxide", miniz_out, miniz_compress, miniz_inflate),
        ] {
            println!(
                "| {name} | {level} | {:.2} | {:.1} | {:.1} |",
                total_in as f64 / out as f64,
                c / 1000.0,
                i / 1000.0
            );
        }
    }
}

fn threshold(messages: &[Vec<u8>]) {
    let text: Vec<u8> = messages.concat();
    let p = params(true, 15);
    let mut deflater = MessageDeflater::new(Side::Server, &p, &DeflateConfig::default());
    let mut inflater = MessageInflater::new(Side::Client, &p);
    for size in [16usize, 32, 64, 96, 128, 192, 256, 512, 1024] {
        let samples: Vec<&[u8]> = (0..200).map(|i| &text[i * 997..i * 997 + size]).collect();
        let (mut wire, mut out) = (Vec::new(), Vec::new());
        let mut compressed_total = 0;
        let start = Instant::now();
        for s in &samples {
            wire.clear();
            deflater.compress(black_box(s), &mut wire);
            compressed_total += wire.len();
            out.clear();
            inflater.inflate(&wire, &mut out, 1 << 20).unwrap();
            inflater.finish(&mut out, 1 << 20).unwrap();
        }
        let ns = start.elapsed().as_nanos() as f64 / samples.len() as f64;
        let compressed = compressed_total as f64 / samples.len() as f64;
        println!(
            "| {size} | {compressed:.0} | {:+.0}% | {:.1} |",
            (compressed / size as f64 - 1.0) * 100.0,
            ns / 1000.0
        );
    }
}

fn main() {
    let messages: Vec<Vec<u8>> = corpus::chat_text(400)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    let sample = &messages[0];
    println!(
        "Memory held per connection after a message each way (sample {} B):\n",
        sample.len()
    );
    println!(
        "| mode | window bits | level | sending (deflater) | receiving (inflater) |\n|---|---|---|---|---|"
    );
    let (s, r) = held_per_connection(true, 15, 1, sample);
    println!("| no context takeover | any | 1 | {s} | {r} |");
    for bits in [9, 12, 15] {
        for level in [1, 6] {
            let (s, r) = held_per_connection(false, bits, level, sample);
            println!("| context takeover | {bits} | {level} | {s} | {r} |");
        }
    }
    println!(
        "\nShared by the thread's connections, once (no takeover, 15 bits, level 1): {} bytes\n",
        shared_per_thread(sample.clone())
    );
    println!("| bomb | result | memory | time |\n|---|---|---|---|");
    bomb();
    let total: usize = messages.iter().map(Vec::len).sum();
    println!(
        "\nBackends on {} chat-like messages ({} KiB, 200 B–4 KiB), no context takeover, best of one run:\n",
        messages.len(),
        total / 1024
    );
    println!(
        "| backend | level | ratio | µs to compress a message | µs to inflate a message |\n|---|---|---|---|---|"
    );
    backends(&messages);
    println!("\nThreshold: chat text cut to each size, no takeover, level 1:\n");
    println!(
        "| payload bytes | compressed bytes | change | µs to compress + inflate |\n|---|---|---|---|"
    );
    threshold(&messages);
}
