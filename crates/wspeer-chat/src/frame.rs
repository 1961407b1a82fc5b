//! How a client sees what the server sends: the demo's plain text lines, or,
//! for a client that connected with `ids=1` or `after=ID` (the web page), one
//! JSON object a frame, every one with the `text` a demo client would see:
//!
//! - `{"id":17,"room":"lobby","text":"[bob] Says: hi"}`: a kept room line;
//! - `{"text":"[bob] connected"}`: anything without an id (presence, replies,
//!   `Server says:`, lines sent while Redis is down);
//! - `{"event":"welcome","name":…,"room":…,"moderator":…,"text":…}`: on
//!   connect, after `/join` and `/nick`;
//! - `{"event":"members","room":…,"names":[…],"text":…}`: the answer to `/who`;
//! - `{"event":"gap","room":…,"after":ID,"text":…}`: lines after ID were missed.

use serde_json::json;
use wspeer_core::Message;

use crate::history::{Gap, LineId};

/// A line as a client that asked for ids gets it.
pub fn line(id: Option<LineId>, room: Option<&str>, text: &str) -> Message {
    let value = match (id, room) {
        (Some(id), Some(room)) => json!({ "id": id, "room": room, "text": text }),
        _ => json!({ "text": text }),
    };
    Message::text(value.to_string())
}

/// Who the client is and where: sent to a client with ids.
pub fn welcome(name: &str, room: &str, moderator: bool) -> Message {
    let text = format!("You are [{name}] in {room}");
    Message::text(
        json!({ "event": "welcome", "name": name, "room": room, "moderator": moderator, "text": text })
            .to_string(),
    )
}

/// A room's members, for `/who`.
pub fn members(room: &str, names: &[String], text: &str) -> Message {
    Message::text(
        json!({ "event": "members", "room": room, "names": names, "text": text }).to_string(),
    )
}

/// The demo text telling a client it missed lines.
pub fn gap_text(room: &str, gap: Gap) -> String {
    match gap {
        Gap::Lost { after } => format!(
            "Some lines of {room} after #{after} are no longer kept: you may have missed them"
        ),
        Gap::Unknown { after } => {
            format!("{room} has no line #{after} (its history was reset): here is all it keeps")
        }
    }
}

/// The gap notice for a client with ids.
pub fn gap(room: &str, gap: Gap) -> Message {
    let after = match gap {
        Gap::Lost { after } | Gap::Unknown { after } => after,
    };
    let reset = matches!(gap, Gap::Unknown { .. });
    Message::text(
        json!({ "event": "gap", "room": room, "after": after, "reset": reset, "text": gap_text(room, gap) })
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_json_with_the_demo_text() {
        let m = line(Some(7), Some("lobby"), "[a] Says: \"hi\"");
        assert_eq!(
            m.as_text(),
            Some(r#"{"id":7,"room":"lobby","text":"[a] Says: \"hi\""}"#)
        );
        assert_eq!(
            line(None, Some("lobby"), "x").as_text(),
            Some(r#"{"text":"x"}"#)
        );
        let g = gap("lobby", Gap::Lost { after: 3 });
        let value: serde_json::Value = serde_json::from_str(g.as_text().unwrap()).unwrap();
        assert_eq!(value["event"], "gap");
        assert_eq!(value["after"], 3);
        assert_eq!(value["reset"], false);
    }
}
