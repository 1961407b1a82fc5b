//! Support code for wspeer's integration tests: a listener that
//! hands out accepted connections, raw HTTP and frame helpers and a
//! raw server for peers that misbehave on purpose, probes of memory and tasks for the hostile-client tests,
//! and the Python `websockets` runner for interop tests.

pub mod frames;
pub mod probe;
pub mod python;
pub mod raw_http;
pub mod raw_server;
pub mod server;
pub mod wave;

/// The shared bounded waits, here so that every test module finds them at the root.
pub use wspeer_testkit::wait::{WAIT, eventually, within};
