//! Godot 3's signal-style `WebSocketServer` and `WebSocketClient`, built on the
//! Godot 4 facade: the signals become events returned by `poll()`, in order.
//!
//! Where Godot 3 had bugs, these do the right thing (`docs/godot-mapping.md`
//! lists each): a close we started reports `was_clean` true; a full inbound queue
//! holds messages back instead of dropping them; peer ids never collide.

mod client;
mod server;
mod watch;

pub use client::{ClientEvent, WebSocketClient};
pub use server::{ServerEvent, WebSocketServer};

/// Godot 3's buffer settings (`set_buffers`), in its units: kilobytes and packet
/// counts, each direction. Godot rounds them up to powers of two; wspeer uses
/// them as given (bytes = KiB × 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffers {
    /// Inbound byte budget, in KiB (Godot 3 default 64).
    pub input_buffer_size_kb: usize,
    /// Inbound packet count (Godot 3 default 1024).
    pub input_max_packets: usize,
    /// Outbound byte budget, in KiB (Godot 3 default 64).
    pub output_buffer_size_kb: usize,
    /// Outbound packet count (Godot 3 default 1024).
    pub output_max_packets: usize,
}

impl Default for Buffers {
    fn default() -> Self {
        Self {
            input_buffer_size_kb: 64,
            input_max_packets: 1024,
            output_buffer_size_kb: 64,
            output_max_packets: 1024,
        }
    }
}

impl Buffers {
    /// The settings as a connection `Config`. wspeer has one packet limit for both
    /// directions; the larger of the two is used.
    pub(crate) fn apply(&self, config: wspeer_core::Config) -> wspeer_core::Config {
        config
            .inbound_buffer_size(self.input_buffer_size_kb * 1024)
            .outbound_buffer_size(self.output_buffer_size_kb * 1024)
            .max_queued_packets(self.input_max_packets.max(self.output_max_packets))
    }
}
