//! One WebSocket data message: its payload and whether it travels as text.

use std::fmt;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// The frame type of a data message (Godot's `WriteMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A text frame: the payload is valid UTF-8.
    Text,
    /// A binary frame.
    Binary,
}

/// A complete WebSocket data message.
///
/// The payload is reference-counted, so cloning a message or handing it on to
/// many connections copies no bytes. A text message always holds valid UTF-8.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    payload: Payload,
}

/// The payload with its frame type; text is kept as tungstenite's checked UTF-8
/// so that it is validated once, never again on the way in or out.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Payload {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl From<Payload> for Message {
    fn from(payload: Payload) -> Self {
        Self { payload }
    }
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Payload::Text(Utf8Bytes::from(text.into())).into()
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Payload::Binary(data.into()).into()
    }

    /// A text message from bytes, which must be valid UTF-8. Godot sends such bytes
    /// unchecked and lets the peer close with 1007; we refuse them here instead.
    pub fn text_from_bytes(data: impl Into<Bytes>) -> Result<Self, std::str::Utf8Error> {
        Ok(Payload::Text(Utf8Bytes::try_from(data.into())?).into())
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self.payload {
            Payload::Text(_) => MessageKind::Text,
            Payload::Binary(_) => MessageKind::Binary,
        }
    }

    /// Whether this is a text message (Godot's `was_string_packet`).
    pub fn is_text(&self) -> bool {
        matches!(self.payload, Payload::Text(_))
    }

    /// The payload bytes.
    pub fn payload(&self) -> &Bytes {
        match &self.payload {
            Payload::Text(text) => text.as_ref(),
            Payload::Binary(data) => data,
        }
    }

    /// The payload, consuming the message.
    pub fn into_payload(self) -> Bytes {
        match self.payload {
            Payload::Text(text) => text.into(),
            Payload::Binary(data) => data,
        }
    }

    /// The text of a text message; `None` for a binary one.
    pub fn as_text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text(text) => Some(text.as_str()),
            Payload::Binary(_) => None,
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.payload().len()
    }

    /// Whether the payload is empty (zero-length messages are allowed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        match self.as_text() {
            Some(text) if text.len() <= SHOWN => write!(f, "Text({text:?})"),
            Some(_) => write!(f, "Text({} bytes)", self.len()),
            None if self.len() <= SHOWN => write!(f, "Binary({:?})", &self.payload()[..]),
            None => write!(f, "Binary({} bytes)", self.len()),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::text(text)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::binary(data)
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::binary(Bytes::copy_from_slice(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        let text = Message::text("héllo");
        assert!(text.is_text());
        assert_eq!(text.as_text(), Some("héllo"));
        let bin = Message::binary(vec![1, 2, 3]);
        assert_eq!(bin.kind(), MessageKind::Binary);
        assert_eq!(bin.as_text(), None);
        assert_eq!(bin.len(), 3);
    }

    #[test]
    fn invalid_utf8_text_is_refused() {
        assert!(Message::text_from_bytes(vec![0xff, 0xfe]).is_err());
        assert!(Message::text_from_bytes(&b"ok"[..]).is_ok());
    }
}
