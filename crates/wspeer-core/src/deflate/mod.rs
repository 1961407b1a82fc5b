//! permessage-deflate (RFC 7692): negotiation, and compression of messages
//! with bounded memory.
//!
//! - `settings`: what an endpoint is willing to negotiate ([`DeflateConfig`]);
//! - `header_syntax`: the `Sec-WebSocket-Extensions` grammar;
//! - `negotiate`: offers, the server's choice and answer, the client's check;
//! - `params`: what was agreed ([`DeflateParams`]), per direction;
//! - `pool`: the per-thread compressors and decompressors used when there is
//!   no context takeover, so that an idle connection holds none;
//! - `inflate`: received messages, inflated with a hard output limit;
//! - `compress`: messages we send;
//! - `totals`: what compression saved, process-wide ([`compression_totals`]).
//!
//! The decoder (`codec::decoder`) inflates compressed messages as their
//! frames arrive; the writer compresses with [`MessageDeflater`] and sets RSV1
//! with `codec::header::encode_frame`.

pub(crate) mod compress;
pub(crate) mod header_syntax;
pub(crate) mod inflate;
pub(crate) mod negotiate;
pub(crate) mod params;
pub(crate) mod pool;
pub(crate) mod settings;
pub(crate) mod totals;

pub use compress::MessageDeflater;
pub use inflate::{InflateError, MessageInflater};
pub use params::DeflateParams;
pub use settings::{DEFAULT_THRESHOLD, DeflateConfig};
pub use totals::{CompressionTotals, compression_totals};

#[cfg(test)]
mod negotiate_tests;
#[cfg(test)]
pub(crate) mod round_trip_tests;
