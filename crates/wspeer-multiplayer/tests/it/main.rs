//! The integration tests of `wspeer-multiplayer`, one module per subject, linked
//! into one binary.

mod support;

mod async_server;
mod fuzz_regressions;
mod godot3_interop;
mod godot3_variant;
mod peer_failures;
mod peer_targets;
mod proto_client;
mod proto_godot3;
mod proto_godot4;
mod proto_scenarios;
