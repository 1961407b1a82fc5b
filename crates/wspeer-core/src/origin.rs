//! Which web pages may open a WebSocket to a server: the `Origin` check that
//! stops cross-site WebSocket hijacking (a page on another site connecting with
//! the visitor's cookies).
//!
//! Browsers always send `Origin` with a WebSocket upgrade and scripts cannot
//! forge it; other clients (Godot, Python, command-line tools) usually send
//! none. So a request without `Origin` is not from a browser page and passes:
//! the check guards against pages, not against programs, which can send any
//! header they like.

/// The `Origin` rule of a server, applied before the upgrade; a refused
/// request gets `403 Forbidden` with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// Every origin (the default): right for servers that browsers reach with
    /// no cookie or other ambient credential, and for servers with no browser
    /// clients at all.
    #[default]
    Any,
    /// A request with an `Origin` must come from the server's own host (the
    /// `Origin`'s host and port are the `Host` header's, whatever the scheme)
    /// or from one of these origins (`scheme://host[:port]`, compared without
    /// regard to ASCII case, default ports implied). `Origin: null` (a sandboxed
    /// frame, a `file:` page) passes only if `"null"` is listed. A request
    /// without `Origin` passes.
    SameHostOr(Vec<String>),
}

impl OriginPolicy {
    /// Whether a request with these `Origin` and `Host` header values may be
    /// upgraded; `Err` says why not.
    pub(crate) fn check(&self, origin: Option<&str>, host: &str) -> Result<(), String> {
        let (Self::SameHostOr(allowed), Some(origin)) = (self, origin) else {
            return Ok(());
        };
        let origin = origin.trim();
        if allowed.iter().any(|a| same_origin(a, origin)) {
            return Ok(());
        }
        if let Some((scheme, authority)) = split_origin(origin)
            && same_authority(authority, host, default_port(scheme))
        {
            return Ok(());
        }
        Err(format!(
            "origin {origin:?} may not open a WebSocket here (only this server's own pages{})",
            if allowed.is_empty() {
                String::new()
            } else {
                format!(" and {}", allowed.join(", "))
            }
        ))
    }
}

/// `scheme://authority` split in two; `None` for anything else (`null`).
fn split_origin(origin: &str) -> Option<(&str, &str)> {
    let (scheme, authority) = origin.split_once("://")?;
    (!scheme.is_empty() && !authority.is_empty() && !authority.contains('/'))
        .then_some((scheme, authority))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Two origins are the same: scheme, host and port, default ports implied.
fn same_origin(a: &str, b: &str) -> bool {
    match (split_origin(a.trim()), split_origin(b)) {
        (Some((scheme_a, auth_a)), Some((scheme_b, auth_b))) => {
            scheme_a.eq_ignore_ascii_case(scheme_b)
                && same_authority(auth_a, auth_b, default_port(scheme_a))
        }
        // `null` and other opaque origins match only themselves.
        _ => a.trim().eq_ignore_ascii_case(b),
    }
}

/// Host and port of two authorities are equal; a missing port is `default`.
fn same_authority(a: &str, b: &str, default: Option<u16>) -> bool {
    let (host_a, port_a) = host_and_port(a, default);
    let (host_b, port_b) = host_and_port(b, default);
    host_a.eq_ignore_ascii_case(host_b) && port_a == port_b
}

/// `host[:port]` or `[v6]:port` split, the port parsed; an unparsable port is
/// kept as `None`, which only equals another missing one.
fn host_and_port(authority: &str, default: Option<u16>) -> (&str, Option<u16>) {
    let authority = authority.trim();
    let (host, port) = match authority.rfind(':') {
        // An IPv6 literal's own colons are inside the brackets.
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    match port {
        Some(port) => (host, port.parse().ok()),
        None => (host, default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str]) -> OriginPolicy {
        OriginPolicy::SameHostOr(allowed.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn any_lets_everything_through() {
        assert!(
            OriginPolicy::Any
                .check(Some("https://evil.example"), "a:1")
                .is_ok()
        );
    }

    #[test]
    fn no_origin_is_not_a_browser_page() {
        assert!(policy(&[]).check(None, "chat.example:8000").is_ok());
    }

    #[test]
    fn the_servers_own_pages_pass() {
        let p = policy(&[]);
        assert!(
            p.check(Some("http://chat.example:8000"), "chat.example:8000")
                .is_ok()
        );
        assert!(
            p.check(Some("HTTP://Chat.Example:8000"), "chat.example:8000")
                .is_ok()
        );
        // Default ports are implied on either side.
        assert!(
            p.check(Some("https://chat.example"), "chat.example:443")
                .is_ok()
        );
        assert!(
            p.check(Some("http://chat.example:80"), "chat.example")
                .is_ok()
        );
        assert!(p.check(Some("http://[::1]:8000"), "[::1]:8000").is_ok());
    }

    #[test]
    fn other_sites_are_refused() {
        let p = policy(&[]);
        let refused = p.check(Some("https://evil.example"), "chat.example:8000");
        assert!(refused.unwrap_err().contains("evil.example"));
        assert!(
            p.check(Some("http://chat.example:8001"), "chat.example:8000")
                .is_err()
        );
        assert!(
            p.check(Some("http://chat.example.evil"), "chat.example")
                .is_err()
        );
        assert!(p.check(Some("null"), "chat.example").is_err());
        assert!(
            p.check(Some("http://chat.example/path"), "chat.example")
                .is_err()
        );
        assert!(p.check(Some(""), "chat.example").is_err());
    }

    #[test]
    fn listed_origins_pass_exactly() {
        let p = policy(&["https://app.example", "null"]);
        assert!(p.check(Some("https://app.example"), "api.example").is_ok());
        assert!(
            p.check(Some("https://app.example:443"), "api.example")
                .is_ok()
        );
        assert!(p.check(Some("null"), "api.example").is_ok());
        // Another scheme is another origin.
        assert!(p.check(Some("http://app.example"), "api.example").is_err());
        assert!(
            p.check(Some("https://app.example:8443"), "api.example")
                .is_err()
        );
    }
}
