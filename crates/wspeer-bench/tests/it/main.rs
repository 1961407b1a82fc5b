//! The integration tests of `wspeer-bench`, one module per subject, linked
//! into one binary.

mod chat_soak;
mod hold;
mod smoke;
