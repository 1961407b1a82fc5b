//! Our [`Config`] translated into tungstenite's settings.

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::config::Config;

/// tungstenite writes to the socket once this many bytes are buffered; we flush
/// after every batch anyway, so this only splits very large batches.
const WRITE_BUFFER_SIZE: usize = 16 * 1024;

pub(crate) fn ws_config(config: &Config) -> WebSocketConfig {
    // We only hand tungstenite a message after `poll_ready`, so its buffer holds at
    // most one batch plus one message; the cap is a second line of defence.
    let max_write = match config.outbound_buffer_size {
        0 => usize::MAX,
        n => WRITE_BUFFER_SIZE + 2 * n + 1024,
    };
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_write_buffer_size(max_write)
        .max_message_size(Some(config.inbound_buffer_size))
        .max_frame_size(Some(config.inbound_buffer_size))
}
