//! Plain HTTP on a WebSocket port: an application hook that answers requests
//! which are not upgrades (a web page, a health check, metrics) and may refuse
//! upgrades before they happen (too many connections).

use std::{fmt, sync::Arc};

use bytes::Bytes;

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
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
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
}

/// What an admitted connection holds for its whole life: any value, dropped
/// when the connection's task ends. A connection counter's guard is the usual
/// one (see [`HttpService::admit`]).
#[derive(Default)]
pub struct Admission(Option<Box<dyn Send>>);

impl Admission {
    /// Holds `value` until the connection ends.
    pub fn hold(value: impl Send + 'static) -> Self {
        Self(Some(Box::new(value)))
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
