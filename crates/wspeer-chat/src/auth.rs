//! Verified identities: a JWT signed with the server's HMAC secret (HS256),
//! given as the `token` query parameter of the WebSocket URL or as the
//! [`TOKEN_COOKIE`] cookie (an `HttpOnly` cookie the page's script never sees;
//! the query parameter wins when both come). Its subject
//! (`sub`) becomes the client's name; `"moderator": true` makes it a moderator.
//! A token that is expired, malformed or wrongly signed is refused before the
//! upgrade (HTTP 401 with the reason).

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::{Deserialize, Serialize};

/// The claims the chat reads from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's name, shown as `[sub]`.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch (required).
    pub exp: u64,
    /// Whether the user may `/kick` and `/mute`.
    #[serde(default)]
    pub moderator: bool,
}

/// A verified user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The name, from `sub`.
    pub name: String,
    /// From the `moderator` claim.
    pub moderator: bool,
}

/// The server's token key.
#[derive(Clone)]
pub struct Auth {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth(HS256)")
    }
}

impl Auth {
    /// Tokens signed with `secret` (HS256; at least 32 bytes, as RFC 7518
    /// requires of an HS256 key).
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err(format!(
                "the auth secret has {} bytes; HS256 needs at least 32",
                secret.len()
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            key: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// The secret in `path`, a trailing newline aside.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the auth secret {}: {e}", path.display()))?;
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        Self::new(&bytes[..end])
    }

    /// The identity in `token`, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Identity, String> {
        let claims = decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| format!("invalid token: {e}"))?
            .claims;
        crate::nick::check(&claims.sub).map_err(|why| format!("invalid token subject: {why}"))?;
        Ok(Identity {
            name: claims.sub,
            moderator: claims.moderator,
        })
    }
}

/// The cookie a token may come in.
pub const TOKEN_COOKIE: &str = "wspeer_token";

/// The [`TOKEN_COOKIE`] of a request, if any.
pub fn token_in_cookie(request: &wspeer_core::HttpRequest) -> Option<&str> {
    request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == TOKEN_COOKIE).then_some(value.trim_matches('"'))
        })
        .filter(|t| !t.is_empty())
}

/// The `token` query parameter of a request target or URL, if any.
pub fn token_in(target: &str) -> Option<&str> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn mint(sub: &str, exp: u64, secret: &[u8]) -> String {
        let claims = Claims {
            sub: sub.into(),
            exp,
            moderator: true,
        };
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn good_tokens_pass_and_bad_ones_say_why() {
        let auth = Auth::new(SECRET).unwrap();
        let identity = auth.verify(&mint("alice", now() + 60, SECRET)).unwrap();
        assert_eq!(identity.name, "alice");
        assert!(identity.moderator);
        let expired = auth.verify(&mint("alice", now() - 60, SECRET)).unwrap_err();
        assert!(expired.contains("ExpiredSignature"), "{expired}");
        let forged = auth
            .verify(&mint(
                "alice",
                now() + 60,
                b"another secret, long enough......",
            ))
            .unwrap_err();
        assert!(forged.contains("InvalidSignature"), "{forged}");
        assert!(auth.verify("not.a.token").is_err());
        assert!(auth.verify(&mint("Server", now() + 60, SECRET)).is_err());
        assert!(Auth::new(b"short").is_err());
    }

    #[test]
    fn the_token_parameter() {
        assert_eq!(token_in("/?token=abc"), Some("abc"));
        assert_eq!(token_in("ws://h/x?a=1&token=abc&b=2"), Some("abc"));
        assert_eq!(token_in("/?token="), None);
        assert_eq!(token_in("/"), None);
        let request = |cookie: &str| wspeer_core::HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            headers: vec![("Cookie".into(), cookie.into())],
            websocket: true,
            body: Default::default(),
        };
        assert_eq!(
            token_in_cookie(&request("a=1; wspeer_token=abc; b=2")),
            Some("abc")
        );
        assert_eq!(
            token_in_cookie(&request("wspeer_token=\"abc\"")),
            Some("abc")
        );
        assert_eq!(token_in_cookie(&request("xwspeer_token=abc")), None);
        assert_eq!(token_in_cookie(&request("wspeer_token=")), None);
    }
}
