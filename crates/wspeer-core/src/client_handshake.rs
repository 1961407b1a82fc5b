//! The client side of the opening handshake (RFC 6455 §4.1), written here so that
//! the frames that arrive with the server's response are kept and every failure
//! says what the server did.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};

use crate::{
    codec::{Role, Upgraded},
    config::Config,
    deflate::{DeflateParams, negotiate},
    error::{ConnectError, Side},
    http_head::{HeadError, plausible_response, read_head},
    ws_url::WsUrl,
};

/// Most headers a response may carry.
const MAX_HEADERS: usize = 64;

/// What the server's answer agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// The subprotocol the server chose (empty when none).
    pub(crate) selected_protocol: String,
    /// permessage-deflate, when we offered it and the server accepted.
    pub(crate) compression: Option<DeflateParams>,
}

/// Sends the upgrade request for `url` and checks the answer; returns the
/// WebSocket and what the server agreed to.
pub(crate) async fn handshake<S>(
    mut stream: S,
    url: &WsUrl,
    config: &Config,
) -> Result<(Upgraded<S>, Agreed), ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let key = generate_key();
    stream
        .write_all(request(url, config, &key).as_bytes())
        .await?;
    stream.flush().await?;

    let mut buf = BytesMut::with_capacity(1024);
    let head_len = match read_head(
        &mut stream,
        &mut buf,
        config.max_handshake_head_size,
        plausible_response,
    )
    .await
    {
        Ok(len) => len,
        Err(HeadError::Io(e)) => return Err(e.into()),
        Err(HeadError::Malformed) => {
            return Err(ConnectError::MalformedHead(
                "the server's answer is not HTTP".into(),
            ));
        }
        Err(HeadError::Eof) => return Err(ConnectError::ClosedDuringHandshake(Side::Server)),
        Err(HeadError::TooLarge) => {
            return Err(ConnectError::MalformedHead(format!(
                "the server's response head is over {} bytes",
                config.max_handshake_head_size
            )));
        }
    };
    let selected = check_response(&buf[..head_len], &buf[head_len..], config, &key)?;
    // A copy, not a split: a split would keep the whole head buffer alive for
    // the connection's life.
    let early = Bytes::copy_from_slice(&buf[head_len..]);
    let upgraded = Upgraded {
        stream,
        early,
        role: Role::Client,
        compression: selected.compression,
    };
    Ok((upgraded, selected))
}

/// The request, with Godot's header order and its comma-joined protocol list.
fn request(url: &WsUrl, config: &Config, key: &str) -> String {
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        url.resource(),
        url.host_header()
    );
    if !config.supported_protocols.is_empty() {
        request.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            config.supported_protocols.join(",")
        ));
    }
    if let Some(settings) = &config.permessage_deflate {
        request.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            negotiate::client_offer(settings)
        ));
    }
    for (name, value) in &config.handshake_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Checks the server's response head; `after` is what followed it (the body of
/// a refusal, or early frames). Returns what the server agreed to.
fn check_response(
    head: &[u8],
    after: &[u8],
    config: &Config,
    key: &str,
) -> Result<Agreed, ConnectError> {
    let fail = |why: String| Err(ConnectError::InvalidUpgrade(why));
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ConnectError::MalformedHead(
                "incomplete HTTP response".into(),
            ));
        }
        Err(e) => {
            return Err(ConnectError::MalformedHead(format!(
                "the server's answer is not HTTP: {e}"
            )));
        }
    }
    let code = response.code.unwrap_or(0);
    if code != 101 {
        let body = String::from_utf8_lossy(&after[..after.len().min(300)]);
        return Err(ConnectError::Rejected {
            status: code,
            reason: response.reason.unwrap_or("").to_owned(),
            body: body.trim().to_owned(),
        });
    }
    let header = |name: &str| -> Option<&str> {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(str::trim)
    };
    let has_token = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("upgrade", "websocket") {
        return fail("the 101 response lacks Upgrade: websocket".into());
    }
    if !has_token("connection", "upgrade") {
        return fail("the 101 response lacks Connection: Upgrade".into());
    }
    if header("sec-websocket-accept") != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return fail("the server's Sec-WebSocket-Accept does not match our key".into());
    }
    let extensions: Vec<&str> = response
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("\u{fffd}"))
        .collect();
    let compression = match (&config.permessage_deflate, extensions.as_slice()) {
        (_, []) => None,
        (None, [first, ..]) => {
            return fail(format!(
                "the server enabled extensions we did not offer: {}",
                first.trim()
            ));
        }
        (Some(settings), values) => {
            Some(negotiate::client_check(values.iter().copied(), settings)?)
        }
    };
    let offered = &config.supported_protocols;
    let selected_protocol = match header("sec-websocket-protocol") {
        None if offered.is_empty() => Ok(String::new()),
        None => Err(ConnectError::ProtocolMismatch(format!(
            "the server chose no subprotocol; we offered [{}]",
            offered.join(", ")
        ))),
        Some(chosen) if offered.is_empty() => Err(ConnectError::ProtocolMismatch(format!(
            "the server chose {chosen:?} but we offered none"
        ))),
        Some(chosen) if offered.iter().any(|p| p == chosen) => Ok(chosen.to_owned()),
        Some(chosen) => Err(ConnectError::ProtocolMismatch(format!(
            "the server chose {chosen:?}; we offered [{}]",
            offered.join(", ")
        ))),
    }?;
    Ok(Agreed {
        selected_protocol,
        compression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn response(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
    }

    #[test]
    fn request_looks_like_godots() {
        let url = WsUrl::parse("ws://example.com:8000/chat?x=1").unwrap();
        let config = Config::default()
            .supported_protocols(["a", "b"])
            .handshake_header("X-Game", "demo");
        let text = request(&url, &config, KEY);
        assert!(text.starts_with("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8000\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: a,b\r\n"));
        assert!(text.ends_with("X-Game: demo\r\n\r\n"));
    }

    #[test]
    fn accepts_a_valid_response() {
        let config = Config::default();
        assert_eq!(
            check_response(response("").as_bytes(), b"", &config, KEY)
                .unwrap()
                .selected_protocol,
            ""
        );
    }

    #[test]
    fn wrong_accept_key_fails() {
        let bad = response("").replace("xOo=", "xOx=");
        assert!(check_response(bad.as_bytes(), b"", &Config::default(), KEY).is_err());
    }

    #[test]
    fn extensions_we_did_not_offer_fail() {
        let with = response("Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let err = check_response(with.as_bytes(), b"", &Config::default(), KEY).unwrap_err();
        assert!(err.to_string().contains("permessage-deflate"));
    }

    #[test]
    fn permessage_deflate_is_offered_and_its_answer_checked() {
        let url = WsUrl::parse("ws://example.com/").unwrap();
        assert!(!request(&url, &Config::default(), KEY).contains("Extensions"));
        let config = Config::default().permessage_deflate(crate::DeflateConfig::default());
        assert!(request(&url, &config, KEY).contains(
            "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; \
             server_no_context_takeover; client_max_window_bits\r\n"
        ));
        let check = |extra: &str| check_response(response(extra).as_bytes(), b"", &config, KEY);
        assert_eq!(check("").unwrap().compression, None, "a server may decline");
        let agreed = check(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
             client_max_window_bits=10\r\n",
        )
        .unwrap();
        let params = agreed.compression.expect("accepted");
        assert_eq!(params.client_max_window_bits, 10);
        assert!(params.server_no_context_takeover && !params.client_no_context_takeover);
        let err = check("Sec-WebSocket-Extensions: permessage-deflate\r\n").unwrap_err();
        assert!(matches!(
            err,
            ConnectError::Extension(crate::ExtensionError::Missing("server_no_context_takeover"))
        ));
        let err = check(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; bogus\r\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn refusal_shows_status_and_body() {
        let head = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\n\r\n";
        let err = check_response(head, b"no thanks\n", &Config::default(), KEY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "WebSocket handshake failed: the server answered HTTP 400 Bad Request instead of 101: no thanks"
        );
    }
}
