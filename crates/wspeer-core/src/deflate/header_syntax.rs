//! The grammar of `Sec-WebSocket-Extensions` (RFC 6455 §9.1): a comma list of
//! extensions, each a token and `;`-separated parameters, a parameter a token
//! with an optional token or quoted-string value. Nothing about deflate here.

use crate::config::is_token_byte;

/// One element of the list: an extension name and its parameters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    pub(crate) name: String,
    /// Names and values as written (a quoted value unquoted).
    pub(crate) params: Vec<(String, Option<String>)>,
}

/// An element that does not follow the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Parses every value of the header, in order, as one list. Each element
/// stands alone: a malformed one is `Err` in its place, so a server can
/// decline just that offer. Empty elements are skipped (RFC 9110 §5.6.1).
/// An unterminated quote makes the rest of that header value one element.
pub(crate) fn parse_list<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<Result<Extension, Malformed>> {
    values
        .into_iter()
        .flat_map(split_elements)
        .filter(|element| !element.trim().is_empty())
        .map(parse_extension)
        .collect()
}

/// Splits at the commas outside quoted strings.
fn split_elements(value: &str) -> Vec<&str> {
    split_unquoted(value, b',').0
}

fn parse_extension(element: &str) -> Result<Extension, Malformed> {
    let mut parts = split_params(element)?.into_iter();
    let name = token(parts.next().ok_or(Malformed)?)?;
    let params = parts.map(parse_param).collect::<Result<_, _>>()?;
    Ok(Extension {
        name: name.to_owned(),
        params,
    })
}

/// Splits at the semicolons outside quoted strings; refuses an unclosed quote.
fn split_params(element: &str) -> Result<Vec<&str>, Malformed> {
    match split_unquoted(element, b';') {
        (parts, false) => Ok(parts),
        (_, true) => Err(Malformed),
    }
}

/// Splits `value` at each `separator` outside quoted strings (a backslash
/// escapes the next byte inside one); also says whether a quote was left
/// open.
fn split_unquoted(value: &str, separator: u8) -> (Vec<&str>, bool) {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, byte) in value.bytes().enumerate() {
        match (quoted, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => quoted = !quoted,
            (false, _, b) if b == separator => {
                pieces.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&value[start..]);
    (pieces, quoted)
}

fn parse_param(part: &str) -> Result<(String, Option<String>), Malformed> {
    let Some((name, value)) = part.split_once('=') else {
        return Ok((token(part)?.to_owned(), None));
    };
    let name = token(name)?;
    let value = value.trim_matches(is_space);
    let value = match value.strip_prefix('"') {
        // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
        Some(rest) => token(&unquote(rest.strip_suffix('"').ok_or(Malformed)?)?)?.to_owned(),
        None => token(value)?.to_owned(),
    };
    Ok((name.to_owned(), Some(value)))
}

/// The text of a quoted string's inside, escapes removed.
fn unquote(inside: &str) -> Result<String, Malformed> {
    let mut out = String::with_capacity(inside.len());
    let mut chars = inside.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or(Malformed)?),
            '"' => return Err(Malformed),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `text` without surrounding whitespace, if it is a non-empty token.
fn token(text: &str) -> Result<&str, Malformed> {
    let text = text.trim_matches(is_space);
    if !text.is_empty() && text.bytes().all(is_token_byte) {
        Ok(text)
    } else {
        Err(Malformed)
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> Result<Extension, Malformed> {
        Ok(Extension {
            name: name.into(),
            params: params
                .iter()
                .map(|(n, v)| ((*n).into(), v.map(Into::into)))
                .collect(),
        })
    }

    #[test]
    fn lists_split_across_and_within_headers() {
        let parsed = parse_list([
            "permessage-deflate; client_max_window_bits, foo",
            " , x-webkit-deflate-frame ;a=1 ; b = \"2\"",
        ]);
        assert_eq!(
            parsed,
            vec![
                ext("permessage-deflate", &[("client_max_window_bits", None)]),
                ext("foo", &[]),
                ext(
                    "x-webkit-deflate-frame",
                    &[("a", Some("1")), ("b", Some("2"))]
                ),
            ]
        );
    }

    #[test]
    fn quoted_values_may_hold_separators_only_if_they_unquote_to_tokens() {
        assert_eq!(
            parse_list(["a; b=\"1\\0\""]),
            vec![ext("a", &[("b", Some("10"))])]
        );
        // A comma or semicolon inside quotes does not split, and is no token.
        assert_eq!(
            parse_list(["a; b=\"1,2\", c"]),
            vec![Err(Malformed), ext("c", &[])]
        );
        assert_eq!(parse_list(["a; b=\"1;2\""]), vec![Err(Malformed)]);
    }

    #[test]
    fn malformed_elements_are_refused_one_by_one() {
        for bad in [
            "a;",
            "a; =1",
            "a; b=",
            "a; b=\"",
            "a; b=\"1",
            "a b",
            "a; b c=1",
            "a; b=1 2",
            ";b",
            "a; b=\"\"",
            "a; b=\"1\"x",
            "é",
        ] {
            assert_eq!(parse_list([bad]), vec![Err(Malformed)], "{bad:?}");
        }
        assert_eq!(parse_list(["a;;b, c"]), vec![Err(Malformed), ext("c", &[])]);
        assert!(parse_list(["", " , ,"]).is_empty());
    }
}
