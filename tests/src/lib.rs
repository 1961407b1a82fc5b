//! Support code for wspeer's integration tests.
