//! The integration tests of `wspeer-examples`, one module per subject, linked
//! into one binary. Beside this folder, `autobahn` (ten minutes of conformance
//! cases) and `memory_after_wave` (which watches a server's RSS) each have a
//! binary of their own, so that nothing else loads the machine under them.

mod axum_echo;
mod godot_examples_interop;
mod variant_echo;
