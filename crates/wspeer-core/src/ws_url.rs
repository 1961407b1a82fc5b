//! Parsing `ws://` and `wss://` URLs the way Godot's `connect_to_url` reads them.

use std::fmt;

use url::{Host, Url};

use crate::error::ConnectError;

/// Plain or TLS WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `ws://`, default port 80.
    Ws,
    /// `wss://`, default port 443.
    Wss,
}

impl Scheme {
    /// The port used when the URL gives none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
}

/// A WebSocket URL taken apart: what a client connects to and asks for.
///
/// As in Godot: a URL without a scheme is `ws://`; the port defaults to 80 or 443;
/// an empty path is `/`; the query stays in the request target; a fragment and any
/// `user:password@` are dropped; the host is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    original: String,
    scheme: Scheme,
    host: String,
    port: u16,
    resource: String,
}

impl WsUrl {
    /// Parses `url`; every failure is [`ConnectError::InvalidUrl`] or
    /// [`ConnectError::UnsupportedScheme`].
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        let invalid = |reason: &str| ConnectError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(invalid("the URL is empty"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("ws://{trimmed}")
        };
        let parsed = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match parsed.scheme() {
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => return Err(ConnectError::UnsupportedScheme(other.to_owned())),
        };
        let host = match parsed.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("the URL has no host")),
        };
        let port = parsed.port().unwrap_or(scheme.default_port());
        if port == 0 {
            return Err(invalid("port 0 cannot be connected to"));
        }
        let mut resource = parsed.path().to_owned();
        if resource.is_empty() {
            resource.push('/');
        }
        if let Some(query) = parsed.query() {
            resource.push('?');
            resource.push_str(query);
        }
        Ok(Self {
            original: url.to_owned(),
            scheme,
            host,
            port,
            resource,
        })
    }

    /// The URL exactly as given (Godot's `get_requested_url` on a client).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// `ws` or `wss`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host name or IP address, lower-cased, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, given or default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: path and query.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The `Host` header value: brackets around IPv6, the port only when it is not
    /// the scheme's default (RFC 6455 §4.1).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL rebuilt without fragment or credentials, as sent to the server.
    pub fn request_uri(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        };
        format!("{scheme}://{}{}", self.host_header(), self.resource)
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parts() {
        let u = WsUrl::parse("ws://Example.COM/chat?room=1#frag").unwrap();
        assert_eq!(u.scheme(), Scheme::Ws);
        assert_eq!(u.host(), "example.com");
        assert_eq!(u.port(), 80);
        assert_eq!(u.resource(), "/chat?room=1");
        assert_eq!(u.host_header(), "example.com");
        assert_eq!(u.as_str(), "ws://Example.COM/chat?room=1#frag");

        let u = WsUrl::parse("wss://h").unwrap();
        assert_eq!((u.port(), u.resource()), (443, "/"));

        let u = WsUrl::parse("localhost:9080").unwrap();
        assert_eq!(u.scheme(), Scheme::Ws);
        assert_eq!(u.port(), 9080);
        assert_eq!(u.host_header(), "localhost:9080");
    }

    #[test]
    fn ipv6_and_credentials() {
        let u = WsUrl::parse("ws://user:pw@[::1]:8000/x").unwrap();
        assert_eq!(u.host(), "::1");
        assert_eq!(u.port(), 8000);
        assert_eq!(u.host_header(), "[::1]:8000");
        assert_eq!(u.request_uri(), "ws://[::1]:8000/x");
    }

    #[test]
    fn errors_are_distinct() {
        assert!(matches!(
            WsUrl::parse("http://example.com"),
            Err(ConnectError::UnsupportedScheme(s)) if s == "http"
        ));
        assert!(matches!(
            WsUrl::parse(""),
            Err(ConnectError::InvalidUrl { .. })
        ));
        assert!(matches!(
            WsUrl::parse("ws://host:99999/"),
            Err(ConnectError::InvalidUrl { .. })
        ));
        assert!(matches!(
            WsUrl::parse("ws://"),
            Err(ConnectError::InvalidUrl { .. })
        ));
    }
}
