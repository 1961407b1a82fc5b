//! UTF-8 checking of text that arrives in pieces (RFC 6455 §8.1: fail fast).

/// Checks a text message piece by piece, carrying a character split between
/// pieces, so that the first invalid byte is found as soon as it arrives.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Stream {
    tail: [u8; 4],
    tail_len: usize,
}

/// The bytes so far are not the start of any valid UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Stream {
    /// Checks the next piece of the text.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        // First finish the character the previous piece left incomplete.
        while self.tail_len > 0 {
            let Some((&byte, rest)) = input.split_first() else {
                return Ok(());
            };
            self.tail[self.tail_len] = byte;
            self.tail_len += 1;
            input = rest;
            match std::str::from_utf8(&self.tail[..self.tail_len]) {
                Ok(_) => self.tail_len = 0,
                Err(e) if e.error_len().is_none() && self.tail_len < 4 => {}
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let rest = &input[e.valid_up_to()..];
                self.tail[..rest.len()].copy_from_slice(rest);
                self.tail_len = rest.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// The text has ended: it is valid unless it stopped inside a character.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        match std::mem::take(&mut self.tail_len) {
            0 => Ok(()),
            _ => Err(InvalidUtf8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_in_steps(bytes: &[u8], step: usize) -> Result<(), InvalidUtf8> {
        let mut stream = Utf8Stream::default();
        for piece in bytes.chunks(step) {
            stream.feed(piece)?;
        }
        stream.finish()
    }

    #[test]
    fn valid_text_passes_in_any_split() {
        let text = "héllo wörld ✓ 𝄞".repeat(20);
        for step in [1, 2, 3, 5, 7, 64, text.len()] {
            assert_eq!(check_in_steps(text.as_bytes(), step), Ok(()), "step {step}");
        }
    }

    #[test]
    fn the_first_bad_byte_fails_at_once() {
        let mut bytes = "κόσμε".as_bytes().to_vec();
        let bad_at = bytes.len();
        bytes.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]); // beyond U+10FFFF
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.feed(&bytes[..bad_at + 1]), Ok(()));
        assert_eq!(
            stream.feed(&bytes[bad_at + 1..bad_at + 2]),
            Err(InvalidUtf8)
        );
    }

    #[test]
    fn text_ending_inside_a_character_fails() {
        assert_eq!(check_in_steps(&[b'a', 0xe2, 0x82], 1), Err(InvalidUtf8));
        assert_eq!(check_in_steps("€".as_bytes(), 1), Ok(()));
    }
}
