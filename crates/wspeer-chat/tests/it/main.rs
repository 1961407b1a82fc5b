//! The integration tests of `wspeer-chat`, one module per subject, linked
//! into one binary. `memory.rs`, beside this folder, has a binary of its own
//! so that nothing else loads the machine while it watches the server's RSS.

mod support;

mod api;
mod auth;
mod binary;
mod browser;
mod chat;
mod cluster;
mod godot_chat;
mod hostile;
mod moderation;
mod nginx;
mod resume;
