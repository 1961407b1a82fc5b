//! The integration tests of `wspeer-variant`, one module per subject, linked
//! into one binary. `serde_dictionaries`, beside it, needs the `serde` feature.

mod byte_vectors;
mod fuzz_seeds;
mod hostile;
mod roundtrip;
