//! What servers of a cluster write to Redis, and the keys they write it under.
//!
//! Lines go on one pub/sub channel as `ID JSON`: the line's id in its room (0
//! for a line without one) and a JSON object
//! (`{"origin":…,"room":…,"except":…,"text":…,"keep":…}`). A room's kept lines
//! are stored the same way in its history list. Presence is one JSON array of
//! `{"room","name"}` per server.

use serde::{Deserialize, Serialize};

use crate::hub::{Act, ClientId, RoomLine};

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

/// The history list of one room (newest first: `LPUSH` + `LTRIM`), entries
/// as published (`ID JSON`).
pub(crate) fn history_key(room: &str) -> String {
    format!("wspeer-chat:lines:{room}")
}

/// The id counter of one room (`INCR`).
pub(crate) fn line_id_key(room: &str) -> String {
    format!("wspeer-chat:line-id:{room}")
}

/// A moderation act's key while it lasts (a mute: its end, in Unix seconds).
pub(crate) fn mute_key(name: &str) -> String {
    format!("wspeer-chat:mute:{name}")
}

/// The pattern of every mute key.
pub(crate) const MUTES: &str = "wspeer-chat:mute:*";

/// What starts a moderation act on the channel (`act JSON`).
pub(crate) const ACT: &str = "act ";

/// A moderation act on the wire, with the server that decided it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireAct {
    /// The deciding server's id (which has applied it already).
    pub(crate) origin: String,
    /// The act.
    pub(crate) act: Act,
}

impl WireAct {
    /// `act` decided by `origin`, as published.
    pub(crate) fn encode(origin: &str, act: &Act) -> String {
        let wire = Self {
            origin: origin.to_owned(),
            act: act.clone(),
        };
        format!("{ACT}{}", serde_json::to_string(&wire).unwrap_or_default())
    }

    /// A published act; `None` for a line or anything malformed.
    pub(crate) fn decode(payload: &[u8]) -> Option<Self> {
        serde_json::from_slice(payload.strip_prefix(ACT.as_bytes())?).ok()
    }
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

    /// A line without an id, as published (`0 JSON`).
    pub(crate) fn unnumbered(origin: &str, line: &RoomLine) -> String {
        format!("0 {}", Self::encode(origin, line))
    }

    /// Decodes a published line or a history entry; `None` for anything
    /// malformed.
    pub(crate) fn decode(payload: &[u8]) -> Option<RoomLine> {
        let payload = std::str::from_utf8(payload).ok()?;
        let (id, json) = payload.split_once(' ')?;
        let id = crate::joining::parse_id(id).ok()?;
        let wire: Self = serde_json::from_str(json).ok()?;
        Some(RoomLine {
            room: wire.room,
            except: wire.except,
            text: wire.text,
            keep: wire.keep,
            id: (id > 0).then_some(id),
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
            id: None,
        };
        let encoded = WireLine::unnumbered("s1", &line);
        assert_eq!(WireLine::decode(encoded.as_bytes()), Some(line.clone()));
        let numbered = format!("17 {}", WireLine::encode("s1", &line));
        let decoded = WireLine::decode(numbered.as_bytes()).unwrap();
        assert_eq!(decoded.id, Some(17));
        assert_eq!(WireLine::decode(b"0 {not json"), None);
        assert_eq!(WireLine::decode(b"0 {\"text\":1}"), None);
        assert_eq!(WireLine::decode(b"-1 {}"), None);
        assert_eq!(WireLine::decode(b"no id"), None);
        let act = Act::Kick {
            name: "bob".into(),
            by: "mo".into(),
        };
        let wire = WireAct::encode("s1", &act);
        assert_eq!(WireLine::decode(wire.as_bytes()), None);
        let back = WireAct::decode(wire.as_bytes()).unwrap();
        assert_eq!((back.origin.as_str(), back.act), ("s1", act));
        assert!(WireAct::decode(b"act {}").is_none());
    }
}
