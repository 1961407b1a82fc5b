//! The integration tests of `wspeer-tests`, one module per subject, linked
//! into one binary.

mod core_admission;
mod core_close;
mod core_close_race;
mod core_connect_errors;
mod core_handshake;
mod core_handshake_timeout;
mod core_heartbeat;
mod core_limits;
mod core_protocol_errors;
mod core_python_interop;
mod core_roundtrip;
mod core_serve;
mod core_snapshot;
mod core_transport;
mod fuzz_regressions;
mod hostile_deflate;
mod hostile_frames;
mod hostile_handshake;
mod hostile_load;
mod hostile_slow_handshakes;
mod hostile_vanishing;
mod tls_python_interop;
