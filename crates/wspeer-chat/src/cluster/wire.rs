//! What servers of a cluster write to Redis, and the keys they write it under.
//!
//! Lines are JSON objects (`{"origin":…,"room":…,"except":…,"text":…,"keep":…}`) on
//! one pub/sub channel; presence is one JSON array of `{"room","name"}` per server.

use serde::{Deserialize, Serialize};

use crate::hub::{ClientId, RoomLine};

/// The pub/sub channel every line goes through.
pub(crate) const CHANNEL: &str = "wspeer-chat:lines";
/// The set of server ids that have published presence.
pub(crate) const SERVERS: &str = "wspeer-chat:servers";
/// The counter ids are drawn from (`INCRBY`).
pub(crate) const IDS: &str = "wspeer-chat:ids";

/// The presence key of one server: its members, with an expiry.
pub(crate) fn presence_key(server: &str) -> String {
    format!("wspeer-chat:presence:{server}")
}

/// The history list of one room (newest first: `LPUSH` + `LTRIM`).
pub(crate) fn history_key(room: &str) -> String {
    format!("wspeer-chat:history:{room}")
}

/// A [`RoomLine`] on the wire, with the server that published it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireLine {
    /// The publishing server's id.
    pub(crate) origin: String,
    /// The room, or `None` for every room.
    pub(crate) room: Option<String>,
    /// The client who must not get it.
    pub(crate) except: Option<ClientId>,
    /// The text.
    pub(crate) text: String,
    /// Whether it goes into history.
    pub(crate) keep: bool,
}

impl WireLine {
    /// Encodes `line` as published by `origin`.
    pub(crate) fn encode(origin: &str, line: &RoomLine) -> String {
        let wire = Self {
            origin: origin.to_owned(),
            room: line.room.clone(),
            except: line.except,
            text: line.text.clone(),
            keep: line.keep,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Decodes a published line; `None` for anything malformed.
    pub(crate) fn decode(payload: &[u8]) -> Option<RoomLine> {
        let wire: Self = serde_json::from_slice(payload).ok()?;
        Some(RoomLine {
            room: wire.room,
            except: wire.except,
            text: wire.text,
            keep: wire.keep,
        })
    }
}

/// One member in a server's presence record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Present {
    /// The member's room.
    pub(crate) room: String,
    /// Its name as `/who` shows it (nick or id).
    pub(crate) name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_garbage_is_refused() {
        let line = RoomLine {
            room: Some("lobby".into()),
            except: Some(7),
            text: "[7] Says: \"hi\"\n".into(),
            keep: true,
        };
        let encoded = WireLine::encode("s1", &line);
        assert_eq!(WireLine::decode(encoded.as_bytes()), Some(line));
        assert_eq!(WireLine::decode(b"{not json"), None);
        assert_eq!(WireLine::decode(b"{\"text\":1}"), None);
    }
}
