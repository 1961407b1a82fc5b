//! The messages of the compression benchmarks (this module's echo, and
//! `examples/deflate.rs`): chat-like text, and bytes that do not compress,
//! both 200 B to 4 KiB, the same every run.

/// A small deterministic generator (a 64-bit LCG): the corpus is the same in
/// every run, so runs compare.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// `count` chat messages: JSON lines of a chat's words, 200 B to 4 KiB each.
pub fn chat_text(count: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "the", "game", "starts", "in", "five", "minutes", "who", "is", "joining", "tonight", "I",
        "can't", "find", "the", "invite", "link", "anyone", "seen", "my", "last", "message",
        "sure", "thing", "let's", "meet", "at", "the", "usual", "server", "lol", "that", "was",
        "close", "good", "match", "everyone", "brb", "coffee", "ok", "ready", "when", "you", "are",
    ];
    const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank"];
    let mut rng = Lcg(12345);
    (0..count)
        .map(|_| {
            let target = 200 + rng.below(3900);
            let mut out = String::new();
            while out.len() < target {
                let words: Vec<&str> = (0..3 + rng.below(12))
                    .map(|_| WORDS[rng.below(WORDS.len())])
                    .collect();
                out.push_str(&format!(
                    "{{\"from\":\"{}\",\"ts\":{},\"text\":\"{}\"}}\n",
                    USERS[rng.below(USERS.len())],
                    1_760_000_000 + rng.below(100_000),
                    words.join(" ")
                ));
            }
            out
        })
        .collect()
}

/// `count` messages of random bytes, 200 B to 4 KiB each: what compression
/// cannot shrink (already compressed assets, encrypted payloads).
pub fn random_binary(count: usize) -> Vec<Vec<u8>> {
    let mut rng = Lcg(67890);
    (0..count)
        .map(|_| {
            let len = 200 + rng.below(3900);
            (0..len).map(|_| rng.below(256) as u8).collect()
        })
        .collect()
}
