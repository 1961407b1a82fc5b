//! Helpers shared by this crate's tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod game;
pub mod godot;
pub mod net;
