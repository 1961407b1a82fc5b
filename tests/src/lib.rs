//! Support code for wspeer's integration tests: bounded waits, a listener that
//! hands out accepted connections, raw HTTP and frame helpers for peers that
//! misbehave on purpose, probes of memory and tasks for the hostile-client tests,
//! and the Python `websockets` runner for interop tests.

pub mod frames;
pub mod probe;
pub mod python;
pub mod raw_http;
pub mod server;
pub mod wait;
pub mod wave;

pub use wait::{WAIT, eventually, within};
