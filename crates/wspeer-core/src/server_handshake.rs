//! The server side of the opening handshake (RFC 6455 §4.2), written here rather
//! than taken from tungstenite so that every refusal gets a clear HTTP status and
//! the request head has a hard size limit.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::{
    codec::{Role, Upgraded},
    config::Config,
    deflate::{DeflateParams, negotiate},
    error::{ConnectError, Side},
    http_head::{HeadError, plausible_request, read_head},
    http_service::{Admission, BodyError, HttpRequest, HttpResponse, read_body},
};

/// Most headers a request may carry before it is refused with 431.
const MAX_HEADERS: usize = 64;

/// What a successful server handshake learned from the request.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) requested_url: String,
    pub(crate) selected_protocol: String,
    /// The permessage-deflate parameters agreed, if compression is on.
    pub(crate) compression: Option<DeflateParams>,
    /// What the application's [`HttpService::admit`](crate::HttpService::admit)
    /// gave this connection to hold.
    pub(crate) admission: Admission,
}

/// A refused request: the status line and a human-readable reason, which is sent
/// as the body of the response.
#[derive(Debug)]
struct Refusal {
    status: &'static str,
    reason: String,
    extra_header: Option<&'static str>,
    /// The application's own answer, sent as it is.
    custom: Option<Box<HttpResponse>>,
}

impl Refusal {
    fn custom(response: HttpResponse) -> Self {
        Self {
            custom: Some(Box::new(response)),
            ..Self::new("", "")
        }
    }

    fn new(status: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            extra_header: None,
            custom: None,
        }
    }
}

/// Reads the upgrade request from `stream`, answers it, and returns the WebSocket.
/// `scheme` is `"ws"` or `"wss"`, used for the requested URL.
pub(crate) async fn accept<S>(
    mut stream: S,
    config: &Config,
    scheme: &str,
) -> Result<(Upgraded<S>, Accepted), ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Grown to what arrives: an unfinished request holds only its own bytes.
    let mut buf = BytesMut::new();
    let head_len = read_head(
        &mut stream,
        &mut buf,
        config.max_handshake_head_size,
        plausible_request,
    )
    .await;
    // A body is read for the application's HTTP service only (plain requests).
    let body = match (&head_len, &config.http_service) {
        (Ok(len), Some(service)) => {
            read_body(&mut stream, &mut buf, *len, service.0.max_body_size()).await
        }
        _ => Ok(Bytes::new()),
    };
    let body = match body {
        Ok(body) => Ok(body),
        Err(BodyError::Refused(status, reason)) => Err(Refusal::new(status, reason)),
        Err(BodyError::Io(e)) => return Err(e.into()),
        Err(BodyError::Closed) => return Err(ConnectError::ClosedDuringHandshake(Side::Client)),
    };
    let outcome = match head_len {
        Ok(len) => body.and_then(|body| {
            let end = len + body.len();
            parse_with_body(&buf[..len], body, config, scheme).map(|ok| (end, ok))
        }),
        Err(HeadError::TooLarge) => Err(Refusal::new(
            "431 Request Header Fields Too Large",
            format!(
                "the request head is over {} bytes",
                config.max_handshake_head_size
            ),
        )),
        Err(HeadError::Malformed) => Err(Refusal::new("400 Bad Request", "malformed HTTP request")),
        Err(HeadError::Io(e)) => return Err(e.into()),
        Err(HeadError::Eof) => return Err(ConnectError::ClosedDuringHandshake(Side::Client)),
    };
    match outcome {
        Ok((len, (response, accepted))) => {
            stream.write_all(response.as_bytes()).await?;
            stream.flush().await?;
            // A copy, not a split: a split would keep the whole head buffer
            // alive for the connection's life (measured: 4 KiB per connection).
            let early = Bytes::copy_from_slice(&buf[len..]);
            let upgraded = Upgraded {
                stream,
                early,
                role: Role::Server,
                compression: accepted.compression,
            };
            Ok((upgraded, accepted))
        }
        Err(Refusal {
            custom: Some(response),
            ..
        }) => {
            let _ = stream.write_all(&response.to_bytes()).await;
            let _ = stream.shutdown().await;
            Err(ConnectError::AnsweredOverHttp(response.status))
        }
        Err(refusal) => {
            let body = format!("{}\n", refusal.reason);
            let extra = refusal
                .extra_header
                .map(|h| format!("{h}\r\n"))
                .unwrap_or_default();
            let response = format!(
                "HTTP/1.1 {}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                refusal.status,
                body.len()
            );
            // Best effort: the client may already be gone.
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
            Err(ConnectError::RequestRefused {
                status: status_code(refusal.status),
                reason: refusal.reason,
            })
        }
    }
}

/// The code of a status line such as `"400 Bad Request"`.
fn status_code(status: &str) -> u16 {
    status
        .split(' ')
        .next()
        .and_then(|code| code.parse().ok())
        .unwrap_or(400)
}

/// [`parse_with_body`] for a request without a body.
#[cfg(test)]
fn parse_request(
    head: &[u8],
    config: &Config,
    scheme: &str,
) -> Result<(String, Accepted), Refusal> {
    parse_with_body(head, Bytes::new(), config, scheme)
}

/// Checks the request and builds the `101` response, or says why not; an
/// HTTP service sees `body` with the head.
fn parse_with_body(
    head: &[u8],
    body: Bytes,
    config: &Config,
    scheme: &str,
) -> Result<(String, Accepted), Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(Refusal::new("400 Bad Request", "incomplete HTTP request"));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(
                "431 Request Header Fields Too Large",
                format!("more than {MAX_HEADERS} headers"),
            ));
        }
        Err(e) => {
            return Err(Refusal::new(
                "400 Bad Request",
                format!("malformed HTTP request: {e}"),
            ));
        }
    }
    let seen = config.http_service.as_ref().map(|_| HttpRequest {
        body,
        ..seen_request(&request)
    });
    if let (Some(service), Some(seen)) = (&config.http_service, &seen)
        && let Some(response) = service.0.respond(seen)
    {
        return Err(Refusal::custom(response));
    }
    let header = |name: &str| -> Vec<&str> {
        request
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect()
    };
    let Checked {
        key,
        host,
        selected,
        compression,
    } = check_request(request.method, request.version == Some(1), header, config)?;
    let admission = match (&config.http_service, &seen) {
        (Some(service), Some(seen)) => service.0.admit(seen).map_err(Refusal::custom)?,
        _ => Admission::default(),
    };

    let target = request.path.unwrap_or("/");
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    if let Some(protocol) = &selected {
        response.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    if let Some(agreement) = &compression {
        response.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            agreement.response
        ));
    }
    for (name, value) in &config.handshake_headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    Ok((
        response,
        Accepted {
            requested_url: format!("{scheme}://{host}{target}"),
            selected_protocol: selected.unwrap_or_default(),
            compression: compression.map(|agreement| agreement.params),
            admission,
        },
    ))
}

/// What an upgrade request that passed every check asks for.
struct Checked {
    key: String,
    host: String,
    selected: Option<String>,
    /// permessage-deflate, when configured and offered.
    compression: Option<negotiate::Agreement>,
}

/// Every rule an upgrade request must follow (RFC 6455 §4.2.1, Godot's
/// subprotocol rule, the origin policy), whoever parsed it; `header` gives
/// every value of a header, by name.
fn check_request<'a>(
    method: Option<&str>,
    http11: bool,
    header: impl Fn(&str) -> Vec<&'a str>,
    config: &Config,
) -> Result<Checked, Refusal> {
    if method != Some("GET") {
        return Err(Refusal::new(
            "405 Method Not Allowed",
            "a WebSocket upgrade must use GET",
        ));
    }
    if !http11 {
        return Err(Refusal::new(
            "400 Bad Request",
            "a WebSocket upgrade needs HTTP/1.1",
        ));
    }
    let has_token = |name: &str, token: &str| {
        header(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    let host = match header("host").as_slice() {
        [host] if !host.trim().is_empty() => host.trim().to_owned(),
        [] | [_] => {
            return Err(Refusal::new(
                "400 Bad Request",
                "missing Host header (RFC 6455 §4.2.1)",
            ));
        }
        _ => return Err(Refusal::new("400 Bad Request", "more than one Host header")),
    };
    if !has_token("upgrade", "websocket") {
        return Err(Refusal {
            extra_header: Some("Upgrade: websocket"),
            ..Refusal::new(
                "426 Upgrade Required",
                "this is a WebSocket endpoint: send Upgrade: websocket",
            )
        });
    }
    if !has_token("connection", "upgrade") {
        return Err(Refusal::new(
            "400 Bad Request",
            "missing Connection: Upgrade",
        ));
    }
    if header("sec-websocket-version").first().map(|v| v.trim()) != Some("13") {
        return Err(Refusal {
            extra_header: Some("Sec-WebSocket-Version: 13"),
            ..Refusal::new(
                "426 Upgrade Required",
                "only WebSocket version 13 is supported",
            )
        });
    }
    let key = match header("sec-websocket-key").as_slice() {
        [key] if is_valid_key(key.trim()) => key.trim().to_owned(),
        _ => {
            return Err(Refusal::new(
                "400 Bad Request",
                "missing or invalid Sec-WebSocket-Key",
            ));
        }
    };
    let offered: Vec<&str> = header("sec-websocket-protocol")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let selected = select_protocol(&offered, &config.supported_protocols)?;
    let origin = match header("origin").as_slice() {
        [] => None,
        [origin] => Some(*origin),
        _ => {
            return Err(Refusal::new(
                "400 Bad Request",
                "more than one Origin header",
            ));
        }
    };
    config
        .origin_policy
        .check(origin, &host)
        .map_err(|reason| Refusal::new("403 Forbidden", reason))?;
    // Offers we cannot take are declined, never refused (RFC 7692 §7).
    let compression = config.permessage_deflate.as_ref().and_then(|settings| {
        negotiate::server_accept(header("sec-websocket-extensions"), settings)
    });
    Ok(Checked {
        key,
        host,
        selected,
        compression,
    })
}

/// An upgrade request that another HTTP server parsed (an axum route, a hyper
/// service), judged by the rules of wspeer's own server handshake:
/// `Ok` with the `101`'s `Sec-WebSocket-Accept` value and the subprotocol to
/// answer with, or the status and reason to refuse it with. `headers` are the
/// request's, in order, names in any case.
pub fn check_upgrade(
    method: &str,
    http11: bool,
    headers: &[(&str, &str)],
    config: &Config,
) -> Result<UpgradeAccepted, UpgradeRefused> {
    let header = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    };
    match check_request(Some(method), http11, header, config) {
        Ok(checked) => Ok(UpgradeAccepted {
            accept_key: derive_accept_key(checked.key.as_bytes()),
            protocol: checked.selected,
            extensions: checked.compression.as_ref().map(|a| a.response.clone()),
            compression: checked.compression.map(|a| a.params),
        }),
        Err(refusal) => Err(UpgradeRefused {
            status: status_code(refusal.status),
            reason: refusal.reason,
            header: refusal.extra_header.and_then(|h| h.split_once(": ")),
        }),
    }
}

/// An upgrade [`check_upgrade`] let through.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpgradeAccepted {
    /// The `Sec-WebSocket-Accept` value of the `101`.
    pub accept_key: String,
    /// The subprotocol to name in `Sec-WebSocket-Protocol`, if any.
    pub protocol: Option<String>,
    /// The value of `Sec-WebSocket-Extensions` to answer with, if any
    /// (permessage-deflate, when [`Config::permessage_deflate`] is set and
    /// the client offered it).
    pub extensions: Option<String>,
    /// What that answer agrees to.
    pub compression: Option<DeflateParams>,
}

/// An upgrade [`check_upgrade`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpgradeRefused {
    /// The status to answer with (400, 403, 405, 426).
    pub status: u16,
    /// Why, for the response body.
    pub reason: String,
    /// A header the refusal must carry (`Upgrade` or `Sec-WebSocket-Version`
    /// on a 426), as name and value.
    pub header: Option<(&'static str, &'static str)>,
}

/// The request as an [`HttpService`](crate::HttpService) sees it.
fn seen_request(request: &httparse::Request<'_, '_>) -> HttpRequest {
    let websocket = request.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("upgrade")
            && std::str::from_utf8(h.value).is_ok_and(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
            })
    });
    HttpRequest {
        method: request.method.unwrap_or("").to_owned(),
        path: request.path.unwrap_or("").to_owned(),
        headers: request
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        websocket,
        body: Bytes::new(),
    }
}

/// Godot's rule: the first protocol in the client's order that the server
/// supports. A client that offers protocols none of which is supported, or none
/// when the server requires one, is refused.
fn select_protocol(offered: &[&str], supported: &[String]) -> Result<Option<String>, Refusal> {
    if offered.is_empty() && supported.is_empty() {
        return Ok(None);
    }
    match offered.iter().find(|p| supported.iter().any(|s| s == *p)) {
        Some(p) => Ok(Some((*p).to_owned())),
        None => Err(Refusal::new(
            "400 Bad Request",
            format!(
                "no supported subprotocol: the client offered [{}], the server accepts [{}]",
                offered.join(", "),
                supported.join(", ")
            ),
        )),
    }
}

/// A key is the base64 encoding of 16 bytes: 22 characters and `==`.
fn is_valid_key(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && key[..22]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &str) -> String {
        format!(
            "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8000\r\nUpgrade: websocket\r\n\
             Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
             Sec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    }

    #[test]
    fn accepts_rfc_example() {
        let (response, accepted) =
            parse_request(request("").as_bytes(), &Config::default(), "ws").unwrap();
        // RFC 6455 §1.3's worked example.
        assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(!response.contains("Sec-WebSocket-Protocol"));
        assert_eq!(accepted.requested_url, "ws://example.com:8000/chat?x=1");
    }

    #[test]
    fn client_order_picks_the_protocol() {
        let config = Config::default().supported_protocols(["b", "a"]);
        let req = request("Sec-WebSocket-Protocol: c, a\r\nSec-WebSocket-Protocol: b\r\n");
        let (response, accepted) = parse_request(req.as_bytes(), &config, "ws").unwrap();
        assert_eq!(accepted.selected_protocol, "a");
        assert!(response.contains("Sec-WebSocket-Protocol: a\r\n"));
    }

    #[test]
    fn protocol_mismatch_is_refused() {
        let config = Config::default().supported_protocols(["demo-chat"]);
        let refusal = parse_request(request("").as_bytes(), &config, "ws").unwrap_err();
        assert_eq!(refusal.status, "400 Bad Request");
        assert!(refusal.reason.contains("demo-chat"));
        let req = request("Sec-WebSocket-Protocol: x\r\n");
        assert!(parse_request(req.as_bytes(), &Config::default(), "ws").is_err());
    }

    #[test]
    fn plain_http_gets_426() {
        let req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let refusal = parse_request(req.as_bytes(), &Config::default(), "ws").unwrap_err();
        assert_eq!(refusal.status, "426 Upgrade Required");
    }

    #[test]
    fn garbage_gets_400() {
        let refusal =
            parse_request(b"\x16\x03\x01hello\r\n\r\n", &Config::default(), "ws").unwrap_err();
        assert_eq!(refusal.status, "400 Bad Request");
    }

    #[test]
    fn bad_key_and_version() {
        let req = request("").replace(KEY, "short");
        assert!(parse_request(req.as_bytes(), &Config::default(), "ws").is_err());
        let req = request("").replace("Version: 13", "Version: 8");
        let refusal = parse_request(req.as_bytes(), &Config::default(), "ws").unwrap_err();
        assert_eq!(refusal.status, "426 Upgrade Required");
    }

    #[test]
    fn host_is_required() {
        let req = request("").replace("Host: example.com:8000\r\n", "");
        let refusal = parse_request(req.as_bytes(), &Config::default(), "ws").unwrap_err();
        assert_eq!(refusal.status, "400 Bad Request");
        assert!(refusal.reason.contains("Host"));
        let req = request("Host: other.example\r\n");
        let refusal = parse_request(req.as_bytes(), &Config::default(), "ws").unwrap_err();
        assert_eq!(refusal.status, "400 Bad Request");
    }

    #[test]
    fn origin_policy_is_applied() {
        let config = Config::default().allowed_origins(["https://app.example"]);
        let evil = request("Origin: https://evil.example\r\n");
        let refusal = parse_request(evil.as_bytes(), &config, "ws").unwrap_err();
        assert_eq!(refusal.status, "403 Forbidden");
        assert!(refusal.reason.contains("evil.example"));
        for ok in [
            "Origin: https://app.example\r\n",
            "Origin: http://example.com:8000\r\n",
            "",
        ] {
            assert!(
                parse_request(request(ok).as_bytes(), &config, "ws").is_ok(),
                "{ok}"
            );
        }
        // The default lets any page in.
        assert!(parse_request(evil.as_bytes(), &Config::default(), "ws").is_ok());
    }

    #[test]
    fn admit_decides_last() {
        struct Full;
        impl crate::HttpService for Full {
            fn respond(&self, _: &HttpRequest) -> Option<HttpResponse> {
                None
            }
            fn admit(&self, request: &HttpRequest) -> Result<Admission, HttpResponse> {
                assert!(request.websocket);
                Err(HttpResponse::text(503, "full"))
            }
        }
        let config = Config::default().http_service(Full);
        let refusal = parse_request(request("").as_bytes(), &config, "ws").unwrap_err();
        assert_eq!(refusal.custom.map(|r| r.status), Some(503));
        // A request refused by an earlier check never reaches `admit`.
        let bad = request("").replace("Version: 13", "Version: 8");
        let refusal = parse_request(bad.as_bytes(), &config, "ws").unwrap_err();
        assert_eq!(refusal.status, "426 Upgrade Required");
    }

    #[test]
    fn permessage_deflate_is_negotiated_only_when_configured() {
        let offer =
            request("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
        let (response, accepted) =
            parse_request(offer.as_bytes(), &Config::default(), "ws").unwrap();
        assert!(!response.contains("Sec-WebSocket-Extensions"));
        assert_eq!(accepted.compression, None);
        let config = Config::default().permessage_deflate(crate::DeflateConfig::default());
        let (response, accepted) = parse_request(offer.as_bytes(), &config, "ws").unwrap();
        assert!(response.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
             client_no_context_takeover\r\n"
        ));
        let params = accepted.compression.expect("negotiated");
        assert!(params.server_no_context_takeover && params.client_no_context_takeover);
        // A bad offer is declined: the upgrade goes on uncompressed.
        let bad = request("Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n");
        let (response, accepted) = parse_request(bad.as_bytes(), &config, "ws").unwrap();
        assert!(!response.contains("Sec-WebSocket-Extensions") && accepted.compression.is_none());
        // So does a client that offers nothing (Godot).
        let (_, accepted) = parse_request(request("").as_bytes(), &config, "ws").unwrap();
        assert_eq!(accepted.compression, None);
        let checked = check_upgrade(
            "GET",
            true,
            &[
                ("Host", "x"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", KEY),
                ("Sec-WebSocket-Extensions", "permessage-deflate"),
            ],
            &config,
        )
        .unwrap();
        assert!(checked.extensions.is_some() && checked.compression.is_some());
    }

    #[test]
    fn custom_headers_are_sent() {
        let config = Config::default().handshake_header("X-Server", "wspeer");
        let (response, _) = parse_request(request("").as_bytes(), &config, "ws").unwrap();
        assert!(response.ends_with("X-Server: wspeer\r\n\r\n"));
    }
}
