//! What a client asks for in its WebSocket URL's query, beyond the demo:
//! `room=NAME` (start there, not in the lobby), `after=ID` (resume: the lines
//! of that room after this id, then the live stream) and `ids=1` (frames as
//! JSON with line ids; implied by `after`). A client that asks for none of them
//! (Godot's demo) gets the demo's plain lines.
//!
//! The query is checked before the upgrade: anything malformed is refused with
//! HTTP 400 and the reason.

use crate::history::{LineId, MAX_ID};

/// Longest room name, in bytes.
pub const MAX_ROOM_BYTES: usize = 32;

/// Longest query a client may send, in bytes (the head limit bounds it too).
const MAX_QUERY: usize = 4096;

/// What a client asked for on connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joining {
    /// The room to start in (`None`: the lobby).
    pub room: Option<String>,
    /// Resume after this id.
    pub after: Option<LineId>,
    /// JSON frames with ids.
    pub ids: bool,
}

/// Whether `room` is a valid room name; why not, if it is not.
pub fn check_room(room: &str) -> Result<(), String> {
    let valid = !room.is_empty()
        && room.len() <= MAX_ROOM_BYTES
        && room
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "Invalid room {room:?}: 1-{MAX_ROOM_BYTES} letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A line id as a client writes it: decimal digits only, at most [`MAX_ID`].
pub fn parse_id(text: &str) -> Result<LineId, String> {
    let id = (!text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<LineId>().ok())
        .flatten()
        .filter(|id| *id <= MAX_ID);
    id.ok_or_else(|| format!("invalid line id {text:?}: a whole number from 0 to {MAX_ID}"))
}

/// What the request target (or URL) `target` asks for.
pub fn parse(target: &str) -> Result<Joining, String> {
    let Some((_, query)) = target.split_once('?') else {
        return Ok(Joining::default());
    };
    if query.len() > MAX_QUERY {
        return Err(format!("the query is over {MAX_QUERY} bytes"));
    }
    let mut joining = Joining::default();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "room" => {
                let room = percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .map_err(|_| "the room is not UTF-8".to_owned())?;
                check_room(&room)?;
                joining.room = Some(room.into_owned());
            }
            "after" => {
                joining.after = Some(parse_id(value)?);
                joining.ids = true;
            }
            "ids" => joining.ids |= value != "0",
            _ => {}
        }
    }
    Ok(joining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_client_asks_for() {
        assert_eq!(parse("/test/"), Ok(Joining::default()));
        assert_eq!(parse("/?token=x"), Ok(Joining::default()));
        assert_eq!(
            parse("/?room=games&after=42"),
            Ok(Joining {
                room: Some("games".into()),
                after: Some(42),
                ids: true
            })
        );
        assert_eq!(parse("/?ids=1").map(|j| j.ids), Ok(true));
        assert_eq!(parse("/?ids=0").map(|j| j.ids), Ok(false));
        assert_eq!(
            parse("/?room=%C3%A9t%C3%A9").map(|j| j.room),
            Ok(Some("été".into()))
        );
    }

    #[test]
    fn hostile_queries_are_refused() {
        for bad in [
            "/?after=-1",
            "/?after=",
            "/?after=+5",
            "/?after=1e3",
            "/?after=99999999999999999999999",
            "/?after=9007199254740992",
            "/?room=",
            "/?room=a%20b",
            "/?room=%FF",
            "/?room=abcdefghijklmnopqrstuvwxyz0123456789",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("/?x={}", "a".repeat(5000))).is_err());
        assert_eq!(parse_id("9007199254740991"), Ok(MAX_ID));
    }
}
