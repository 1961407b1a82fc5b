//! The chat lines of the workload: `h<seq>.<room>.<sent ns>`, said by one held
//! client and read back by every other member of its room as
//! `[<id>] Says: h<seq>.<room>.<sent ns>`. The send instant is in nanoseconds
//! since the run's start, on the one clock every client of the bench shares.

/// One line as a receiver reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Said {
    /// The line's number in the run (from 0).
    pub(crate) seq: u64,
    /// The room it was said in.
    pub(crate) room: u32,
    /// When it was written, in nanoseconds since the run's start.
    pub(crate) sent_ns: u64,
}

impl Said {
    /// What the sender says.
    pub(crate) fn text(&self) -> String {
        format!("h{}.{}.{}", self.seq, self.room, self.sent_ns)
    }

    /// Reads a broadcast `[<id>] Says: h<seq>.<room>.<ns>`; `None` for any
    /// other text (presence lines, someone else's words).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let said = text.split_once("] Says: h")?.1;
        let mut parts = said.split('.');
        let seq = parts.next()?.parse().ok()?;
        let room = parts.next()?.parse().ok()?;
        let sent_ns = parts.next()?.parse().ok()?;
        parts
            .next()
            .is_none()
            .then_some(Self { seq, room, sent_ns })
    }
}

/// Appends a masked text frame carrying `text` to `out` (a client must mask;
/// the key is fixed, since the server unmasks every byte all the same).
pub(crate) fn encode_text(text: &str, out: &mut Vec<u8>) {
    const KEY: [u8; 4] = [0x37, 0xa1, 0x5c, 0x0e];
    let payload = text.as_bytes();
    out.push(0x81); // FIN + text
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&KEY);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
}

/// The payload of one complete unmasked server frame (as
/// [`crate::frame::server_frame`] measured it, `len` bytes in all).
pub(crate) fn server_payload(frame: &[u8]) -> &[u8] {
    let at = match frame.get(1).map(|b| b & 0x7f) {
        Some(126) => 4,
        Some(127) => 10,
        _ => 2,
    };
    frame.get(at..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_said_line_reads_back_from_its_broadcast() {
        let said = Said {
            seq: 41,
            room: 999,
            sent_ns: 12_345_678_901,
        };
        let broadcast = format!("[1073741824] Says: {}", said.text());
        assert_eq!(Said::parse(&broadcast), Some(said));
        assert_eq!(Said::parse("[17] connected"), None);
        assert_eq!(Said::parse("[17] Says: hello"), None);
        assert_eq!(Said::parse("[17] Says: h1.2"), None);
        assert_eq!(Said::parse("[17] Says: h1.2.3.4"), None);
    }

    #[test]
    fn text_frames_unmask_to_the_text() {
        for len in [0, 5, 125, 126, 300, 70_000] {
            let text = "x".repeat(len);
            let mut out = Vec::new();
            encode_text(&text, &mut out);
            let (header, key_at) = match len {
                n if n < 126 => (2, 2),
                n if n <= 0xffff => (4, 4),
                _ => (10, 10),
            };
            assert_eq!(out[0], 0x81);
            assert_eq!(out.len(), header + 4 + len);
            let key = &out[key_at..key_at + 4];
            let plain: Vec<u8> = out[header + 4..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            assert_eq!(plain, text.as_bytes());
        }
        let frame = [0x81, 3, b'a', b'b', b'c'];
        assert_eq!(server_payload(&frame), b"abc");
    }
}
