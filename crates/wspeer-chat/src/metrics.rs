//! Counters of the chat server, served as Prometheus text on `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Every counter and gauge; shared by all sessions.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Connections open now: admitted (the `101` decided) and not yet ended.
    pub connections: AtomicU64,
    /// Rooms with at least one member now.
    pub rooms: AtomicU64,
    /// Chat messages received from clients.
    pub messages_in: AtomicU64,
    /// Messages sent to clients (one per delivery).
    pub messages_out: AtomicU64,
    /// Payload bytes received.
    pub bytes_in: AtomicU64,
    /// Payload bytes sent.
    pub bytes_out: AtomicU64,
    /// Upgrade requests refused (server full).
    pub refused: AtomicU64,
    /// Upgrades refused for a bad token (HTTP 401).
    pub refused_auth: AtomicU64,
    /// Clients kicked by a moderator.
    pub kicked: AtomicU64,
    /// Mutes given by moderators.
    pub muted: AtomicU64,
    /// Clients closed for being too slow to read.
    pub dropped_slow: AtomicU64,
    /// Clients closed for sending too fast.
    pub rate_limited: AtomicU64,
    /// 1 while connected to Redis (cluster delivery on), else 0.
    pub redis_connected: AtomicU64,
    /// Lines this server published to the cluster.
    pub cluster_published: AtomicU64,
    /// Lines that arrived from the cluster (this server's own included).
    pub cluster_received: AtomicU64,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 15] = [
            (
                "wspeer_chat_connections",
                "gauge",
                "Connections open now.",
                &self.connections,
            ),
            (
                "wspeer_chat_rooms",
                "gauge",
                "Rooms with members now.",
                &self.rooms,
            ),
            (
                "wspeer_chat_messages_in_total",
                "counter",
                "Chat messages received.",
                &self.messages_in,
            ),
            (
                "wspeer_chat_messages_out_total",
                "counter",
                "Messages delivered to clients.",
                &self.messages_out,
            ),
            (
                "wspeer_chat_bytes_in_total",
                "counter",
                "Payload bytes received.",
                &self.bytes_in,
            ),
            (
                "wspeer_chat_bytes_out_total",
                "counter",
                "Payload bytes delivered.",
                &self.bytes_out,
            ),
            (
                "wspeer_chat_refused_total",
                "counter",
                "Upgrades refused: server full.",
                &self.refused,
            ),
            (
                "wspeer_chat_refused_auth_total",
                "counter",
                "Upgrades refused: bad token.",
                &self.refused_auth,
            ),
            (
                "wspeer_chat_kicked_total",
                "counter",
                "Clients kicked by a moderator.",
                &self.kicked,
            ),
            (
                "wspeer_chat_muted_total",
                "counter",
                "Mutes given by moderators.",
                &self.muted,
            ),
            (
                "wspeer_chat_dropped_slow_total",
                "counter",
                "Clients closed for reading too slowly.",
                &self.dropped_slow,
            ),
            (
                "wspeer_chat_rate_limited_total",
                "counter",
                "Clients closed for sending too fast.",
                &self.rate_limited,
            ),
            (
                "wspeer_chat_redis_connected",
                "gauge",
                "1 while connected to Redis, else 0.",
                &self.redis_connected,
            ),
            (
                "wspeer_chat_cluster_published_total",
                "counter",
                "Lines published to the cluster.",
                &self.cluster_published,
            ),
            (
                "wspeer_chat_cluster_received_total",
                "counter",
                "Lines received from the cluster.",
                &self.cluster_received,
            ),
        ];
        let deflate = wspeer_core::compression_totals();
        let compression = [
            (
                "wspeer_chat_compressed_messages_out_total",
                "Messages sent compressed (permessage-deflate).",
                deflate.sent_messages,
            ),
            (
                "wspeer_chat_compressed_payload_bytes_out_total",
                "Their payload bytes before compression.",
                deflate.sent_payload_bytes,
            ),
            (
                "wspeer_chat_compressed_wire_bytes_out_total",
                "Their payload bytes on the wire, compressed.",
                deflate.sent_wire_bytes,
            ),
            (
                "wspeer_chat_compressed_messages_in_total",
                "Compressed messages received.",
                deflate.received_messages,
            ),
            (
                "wspeer_chat_compressed_payload_bytes_in_total",
                "Their payload bytes once inflated.",
                deflate.received_payload_bytes,
            ),
            (
                "wspeer_chat_compressed_wire_bytes_in_total",
                "Their payload bytes on the wire, compressed.",
                deflate.received_wire_bytes,
            ),
        ];
        let mut out = String::new();
        let mut row = |name: &str, kind: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        for (name, kind, help, value) in rows {
            row(name, kind, help, value.load(Relaxed));
        }
        for (name, help, value) in compression {
            row(name, "counter", help, value);
        }
        out
    }
}
