//! The integration tests of `wspeer`, one module per subject, linked
//! into one binary. The tests beside this folder each need a process of their
//! own: `idle_poll_allocation` installs a counting allocator, and the others
//! watch the process-wide background runtime start and stop.

#[path = "../support/mod.rs"]
mod support;

mod godot3_signals;
mod godot_interop;
mod godot_variant;
mod peer_lifecycle;
mod peer_limits;
mod peer_messages;
mod peer_tls;
mod tcp_server;
