//! Plain HTTP on a WebSocket port: an application hook that answers requests
//! which are not upgrades (a web page, a health check, metrics, a small JSON
//! API) and may refuse upgrades before they happen (too many connections).
//!
//! A request body is read only when it comes with `Content-Length`, up to
//! [`HttpService::max_body_size`] (413 past it); a chunked body is refused with
//! 411 (Length Required): no HTTP client needs chunks for a small body, and
//! one framing only leaves no room for request smuggling.

use std::{fmt, sync::Arc};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Default of [`HttpService::max_body_size`].
const MAX_BODY_SIZE: usize = 64 * 1024;

/// A request head, as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    /// Every header, names as sent.
    pub headers: Vec<(String, String)>,
    /// Whether it asks for a WebSocket upgrade (`Upgrade: websocket`).
    pub websocket: bool,
    /// The body (`Content-Length` bytes; empty when there is none).
    pub body: Bytes,
}

impl HttpRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// A complete response, sent instead of the upgrade; the connection then closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code, such as 200 or 503.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A response with a body of the given type.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: content_type.to_owned(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The response as bytes on the wire (`Connection: close`).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason_phrase(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            if is_safe(name) && is_safe(value) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn is_safe(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\r' || b == b'\n')
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Answers HTTP requests on a WebSocket port. [`respond`](Self::respond) is
/// called for every request head before the upgrade: return a response to send
/// it (and close), or `None` to go on (upgrade a WebSocket request; answer 426
/// to anything else). [`admit`](Self::admit) is called once an upgrade request
/// has passed every check, just before the `101` goes out.
pub trait HttpService: Send + Sync + 'static {
    /// The response for `request`, if this service answers it.
    fn respond(&self, request: &HttpRequest) -> Option<HttpResponse>;

    /// The last word on an upgrade that passed every check: `Err(response)`
    /// refuses it with that response; `Ok(admission)` lets it through, and the
    /// connection keeps `admission` until its task ends (closed, failed, or
    /// the `101` could not be written). Reserve a slot here, not in `respond`:
    /// this is the only place where a reservation is sure to be released.
    /// Default: admit, holding nothing.
    fn admit(&self, request: &HttpRequest) -> Result<Admission, HttpResponse> {
        let _ = request;
        Ok(Admission::default())
    }

    /// The largest request body read for [`respond`](Self::respond); a larger
    /// `Content-Length` gets 413 before any of it is read. Default 64 KiB.
    fn max_body_size(&self) -> usize {
        MAX_BODY_SIZE
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Refused with this status line and reason.
    Refused(&'static str, String),
    /// The client closed the connection first.
    Closed,
    /// The socket failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for BodyError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// The body length the request head announces, if it may be read.
fn body_length(head: &[u8], limit: usize) -> Result<(usize, bool), BodyError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if request.parse(head).is_err() {
        return Ok((0, false)); // the handshake refuses the head itself
    }
    let bad = |why: &str| BodyError::Refused("400 Bad Request", why.to_owned());
    let mut length: Option<u64> = None;
    let mut expects_continue = false;
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value).map_err(|_| bad("a header is not UTF-8"))?;
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(BodyError::Refused(
                "411 Length Required",
                "send the body with Content-Length, not Transfer-Encoding".to_owned(),
            ));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            let parsed = (!value.is_empty()
                && value.len() <= 19
                && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| bad("invalid Content-Length"))?;
            if length.is_some_and(|l| l != parsed) {
                return Err(bad("conflicting Content-Length headers"));
            }
            length = Some(parsed);
        } else if header.name.eq_ignore_ascii_case("expect") {
            expects_continue = value.trim().eq_ignore_ascii_case("100-continue");
        }
    }
    let length = length.unwrap_or(0);
    if length > limit as u64 {
        return Err(BodyError::Refused(
            "413 Content Too Large",
            format!("the body is over {limit} bytes"),
        ));
    }
    Ok((length as usize, expects_continue))
}

/// Reads the body that the head in `buf[..head_len]` announces (at most
/// `limit` bytes) after what `buf` already holds.
pub(crate) async fn read_body<S>(
    stream: &mut S,
    buf: &mut BytesMut,
    head_len: usize,
    limit: usize,
) -> Result<Bytes, BodyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (length, expects_continue) = body_length(&buf[..head_len], limit)?;
    if length == 0 {
        return Ok(Bytes::new());
    }
    if expects_continue && buf.len() == head_len {
        // curl waits a second for this before sending a body over 1 KiB.
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let end = head_len + length;
    while buf.len() < end {
        let want = (end - buf.len()) as u64;
        if (&mut *stream).take(want).read_buf(buf).await? == 0 {
            return Err(BodyError::Closed);
        }
    }
    Ok(Bytes::copy_from_slice(&buf[head_len..end]))
}

/// What an admitted connection holds for its whole life: any value, dropped
/// when the connection's task ends. A connection counter's guard is the usual
/// one (see [`HttpService::admit`]). It may also carry a note for the
/// application's side of the connection ([`with_note`](Self::with_note)).
#[derive(Default)]
pub struct Admission(Option<Box<dyn Send>>, Option<String>);

impl Admission {
    /// Holds `value` until the connection ends.
    pub fn hold(value: impl Send + 'static) -> Self {
        Self(Some(Box::new(value)), None)
    }

    /// Passes `note` on to the connection: its
    /// [`ConnectionInfo::admitted`](crate::ConnectionInfo::admitted), which is
    /// how what `admit` learned from the request (an identity from a cookie,
    /// say) reaches whoever serves the WebSocket.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.1 = Some(note.into());
        self
    }

    /// The note, taken out for the connection's info.
    pub(crate) fn take_note(&mut self) -> Option<String> {
        self.1.take()
    }
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Admission(holding)"
        } else {
            "Admission(empty)"
        })
    }
}

impl<F> HttpService for F
where
    F: Fn(&HttpRequest) -> Option<HttpResponse> + Send + Sync + 'static,
{
    fn respond(&self, request: &HttpRequest) -> Option<HttpResponse> {
        self(request)
    }
}

/// A shared [`HttpService`] in a [`Config`](crate::Config): equal when it is the
/// same service.
#[derive(Clone)]
pub struct HttpServiceRef(pub(crate) Arc<dyn HttpService>);

impl HttpServiceRef {
    /// Wraps a service.
    pub fn new(service: impl HttpService) -> Self {
        Self(Arc::new(service))
    }
}

impl fmt::Debug for HttpServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpService")
    }
}

impl PartialEq for HttpServiceRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for HttpServiceRef {}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    /// Reads the body of `head` + `sent` as the server would, with `limit`.
    async fn body_of(head: &str, sent: &[u8], limit: usize) -> Result<Bytes, BodyError> {
        let (mut client, mut server) = duplex(1 << 20);
        client.write_all(sent).await.unwrap();
        drop(client);
        let mut buf = BytesMut::from(head.as_bytes());
        read_body(&mut server, &mut buf, head.len(), limit).await
    }

    fn status(result: Result<Bytes, BodyError>) -> &'static str {
        match result {
            Err(BodyError::Refused(status, _)) => status,
            other => panic!("not refused: {other:?}"),
        }
    }

    const POST: &str = "POST /x HTTP/1.1\r\nHost: h\r\n";

    #[tokio::test]
    async fn bodies_come_with_content_length_and_within_the_limit() {
        let head = format!("{POST}Content-Length: 5\r\n\r\n");
        assert_eq!(&body_of(&head, b"hello", 10).await.unwrap()[..], b"hello");
        assert!(
            body_of(&format!("{POST}\r\n"), b"", 10)
                .await
                .unwrap()
                .is_empty()
        );
        let head = format!("{POST}Content-Length: 11\r\n\r\n");
        assert_eq!(
            status(body_of(&head, b"", 10).await),
            "413 Content Too Large"
        );
        let head = format!("{POST}Transfer-Encoding: chunked\r\n\r\n");
        assert_eq!(
            status(body_of(&head, b"5\r\nhello\r\n0\r\n\r\n", 10).await),
            "411 Length Required"
        );
        for length in ["-1", "1e3", "", "99999999999999999999999", "5, 6"] {
            let head = format!("{POST}Content-Length: {length}\r\n\r\n");
            assert_eq!(
                status(body_of(&head, b"hello", 10).await),
                "400 Bad Request",
                "{length}"
            );
        }
        let head = format!("{POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert_eq!(
            status(body_of(&head, b"hello!", 10).await),
            "400 Bad Request"
        );
        let head = format!("{POST}Content-Length: 5\r\n\r\n");
        assert!(matches!(
            body_of(&head, b"hel", 10).await,
            Err(BodyError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_client_that_expects_100_continue_gets_it() {
        let (mut client, mut server) = duplex(4096);
        let head = format!("{POST}Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
        let mut buf = BytesMut::from(head.as_bytes());
        let reading = read_body(&mut server, &mut buf, head.len(), 10);
        let talking = async {
            let mut answer = [0u8; 25];
            client.read_exact(&mut answer).await.unwrap();
            assert_eq!(&answer, b"HTTP/1.1 100 Continue\r\n\r\n");
            client.write_all(b"ok").await.unwrap();
        };
        let (body, ()) = tokio::join!(reading, talking);
        assert_eq!(&body.unwrap()[..], b"ok");
    }

    #[test]
    fn an_admission_passes_its_note_on() {
        let mut admission = Admission::hold(5u8).with_note("who");
        assert_eq!(admission.take_note().as_deref(), Some("who"));
        assert_eq!(Admission::default().take_note(), None);
    }

    #[test]
    fn unauthorized_has_its_reason() {
        let bytes = HttpResponse::text(401, "no").to_bytes();
        assert!(bytes.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    }
}
