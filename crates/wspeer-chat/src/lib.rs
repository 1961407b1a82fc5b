//! A chat server that Godot's `websocket_chat` demo clients join unchanged, and
//! that a browser joins from its own web page on the same port.
//!
//! Demo protocol: subprotocol `demo-chat`, UTF-8 text frames. To everyone but the
//! subject: `[<id>] connected`, `[<id>] disconnected`, `[<id>] Says: <msg>`;
//! `Server says: <text>` from the console. Beyond the demo: `/nick`, `/join`,
//! `/who`, room history, the web page, `/healthz`, `/metrics`, and limits that
//! close misbehaving clients with codes that say why (see `config`). With the
//! Redis [`Backend`], several servers share rooms, ids, presence and history
//! (`docs/deploy.md`).
//!
//! The binary is `wspeer-chat`; tests and embedders call [`run`] on a listener
//! of their own. It is not a general chat framework: one protocol (the demo's,
//! plus commands), rooms in memory or in Redis, and no storage beyond the
//! configured history.

#![warn(clippy::unwrap_used)]

pub mod api;
pub mod auth;
pub mod backend;
pub mod clean;
mod cluster;
pub mod command;
pub mod config;
pub mod frame;
pub mod history;
pub mod http;
pub mod hub;
pub mod joining;
pub mod metrics;
pub mod nick;
pub mod rate;
mod server;
mod session;
mod slot;

pub use backend::Backend;
pub use config::ChatConfig;
pub use server::{Server, run};
