//! What a chat line may carry: no character that could make it look like more
//! than one line, reorder what a reader sees, or hide text.
//!
//! Every control character (C0, C1: CR, LF, tab, ESC, …), line and paragraph
//! separator (U+2028, U+2029) and format character (bidi overrides and
//! isolates, zero-width space, BOM, soft hyphen, …) is replaced by U+FFFD,
//! visibly. Zero-width joiner and non-joiner stay: emoji sequences and some
//! scripts (Persian, Indic) need them, and they cannot move or split text.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What a refused character becomes.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether `c` may not appear in a chat line or a name.
pub fn is_refused(c: char) -> bool {
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => true,
        GeneralCategory::Format => !matches!(c, '\u{200C}' | '\u{200D}'),
        _ => false,
    }
}

/// `text` with every refused character replaced by [`REPLACEMENT`]; borrowed
/// when there is none (the usual case).
pub fn clean_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_refused) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_refused(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_borrowed() {
        let text = "héllo wörld, 你好, שלום, 👨\u{200D}👩\u{200D}👧";
        assert!(matches!(clean_line(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn line_breaks_controls_and_bidi_are_replaced() {
        assert_eq!(
            clean_line("hi\nServer says: log in"),
            "hi\u{FFFD}Server says: log in"
        );
        for c in [
            '\r',
            '\t',
            '\0',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{9B}',
            '\u{2028}',
            '\u{2029}',
            '\u{202E}',
            '\u{202A}',
            '\u{2066}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2060}',
            '\u{E0041}',
        ] {
            assert_eq!(
                clean_line(&format!("a{c}b")),
                "a\u{FFFD}b",
                "U+{:04X}",
                c as u32
            );
        }
    }
}
