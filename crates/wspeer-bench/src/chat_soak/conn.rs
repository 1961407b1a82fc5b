//! One connection of a soak client: opened with the resume query, read as the
//! chat's JSON frames, and ended either politely (a close handshake) or
//! abruptly (the socket shut down and reset, no close frame: a network drop
//! or a killed tab as the server sees it).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use serde::Deserialize;
use wspeer_core::{Config, Message, WebSocket};

use super::check::{LineId, Token};

/// One open connection.
pub(crate) struct Conn {
    pub(crate) ws: WebSocket,
    /// The same socket, kept to reset it: the connection's task owns the other.
    raw: std::net::TcpStream,
}

/// A frame the chat sent, as far as the soak cares.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A kept line of the room: its id, and the soak's token if a client said it.
    Line { id: LineId, said: Option<Said> },
    /// Who and where we are: the first frame of every connection.
    Welcome,
    /// Lines after the id we resumed after are no longer kept.
    Gap,
    /// Anything else (presence lines, replies).
    Other,
}

/// A soak line: who said it, when, and whether it was its sender's last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Said {
    pub(crate) token: Token,
    /// Microseconds from the run's start to its sending.
    pub(crate) sent_us: u64,
    pub(crate) fin: bool,
}

impl Said {
    /// The text a client says: `c<client>.<conn>.<seq>.<sent µs>` (`f` for its
    /// last line instead of `c`).
    pub(crate) fn text(&self) -> String {
        let Token { client, conn, seq } = self.token;
        let kind = if self.fin { 'f' } else { 'c' };
        format!("{kind}{client}.{conn}.{seq}.{}", self.sent_us)
    }

    fn parse(text: &str) -> Option<Self> {
        let fin = match text.as_bytes().first()? {
            b'c' => false,
            b'f' => true,
            _ => return None,
        };
        let mut parts = text[1..].split('.');
        let mut next = || parts.next()?.parse::<u64>().ok();
        let (client, conn, seq, sent_us) = (next()?, next()?, next()?, next()?);
        Some(Self {
            token: Token {
                client: client.try_into().ok()?,
                conn: conn.try_into().ok()?,
                seq: seq.try_into().ok()?,
            },
            sent_us,
            fin,
        })
    }
}

#[derive(Deserialize)]
struct Json<'a> {
    id: Option<LineId>,
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
    event: Option<&'a str>,
}

impl Frame {
    /// Reads one message of the chat (`ids=1` frames).
    pub(crate) fn parse(message: &Message) -> anyhow::Result<Self> {
        let text = message.as_text().context("a binary message")?;
        let json: Json<'_> =
            serde_json::from_str(text).with_context(|| format!("not a chat frame: {text}"))?;
        Ok(match (json.id, json.event) {
            (Some(id), _) => Frame::Line {
                id,
                said: json
                    .text
                    .split_once("] Says: ")
                    .and_then(|s| Said::parse(s.1)),
            },
            (None, Some("welcome")) => Frame::Welcome,
            (None, Some("gap")) => Frame::Gap,
            _ => Frame::Other,
        })
    }
}

impl Conn {
    /// Connects to `addr` in `room`, resuming after `after` when given.
    pub(crate) async fn open(
        addr: SocketAddr,
        room: &str,
        after: Option<LineId>,
        config: Arc<Config>,
    ) -> anyhow::Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let std = tcp.into_std()?;
        let raw = std.try_clone()?;
        let tcp = tokio::net::TcpStream::from_std(std)?;
        let query = match after {
            Some(after) => format!("room={room}&after={after}"),
            None => format!("room={room}&ids=1"),
        };
        let url = format!("ws://{addr}/?{query}");
        let ws = wspeer_core::connect_on(tcp, &url, config).await?;
        Ok(Self { ws, raw })
    }

    /// Ends with a close handshake (waiting up to 5 s for the server's reply).
    pub(crate) async fn close_politely(self) {
        if self.ws.close(1000, "bye").is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.ws.closed()).await;
        }
    }

    /// Ends with no close frame: the socket is shut down, then reset when
    /// closed (SO_LINGER 0), so what the client had not yet written is lost.
    pub(crate) fn drop_abruptly(self) {
        let _ = socket2::SockRef::from(&self.raw).set_linger(Some(Duration::ZERO));
        let _ = self.raw.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_tokens_read_back() {
        let said = Said {
            token: Token {
                client: 7,
                conn: 2,
                seq: 40,
            },
            sent_us: 123_456,
            fin: true,
        };
        let text = format!(
            r#"{{"id":17,"room":"r1","text":"[99] Says: {}"}}"#,
            said.text()
        );
        assert_eq!(
            Frame::parse(&Message::text(text)).expect("a line"),
            Frame::Line {
                id: 17,
                said: Some(said)
            }
        );
        let welcome = r#"{"event":"welcome","name":"5","room":"r1","moderator":false,"text":"You are [5] in r1"}"#;
        assert_eq!(
            Frame::parse(&Message::text(welcome)).expect("welcome"),
            Frame::Welcome
        );
        let presence = r#"{"text":"[5] connected"}"#;
        assert_eq!(
            Frame::parse(&Message::text(presence)).expect("other"),
            Frame::Other
        );
        assert!(Frame::parse(&Message::text("[5] connected")).is_err());
    }
}
