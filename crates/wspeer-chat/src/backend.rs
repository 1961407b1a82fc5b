//! Where a server's lines go: to its own members only ([`Backend::Local`], the
//! default), or through Redis to every server of a cluster ([`Backend::Redis`]).

/// How a chat server shares rooms with other servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// One server, everything in memory: the embedded default.
    #[default]
    Local,
    /// A cluster of servers sharing one Redis: lines go through Redis pub/sub,
    /// ids, presence and history live in Redis. `url` is `redis://HOST:PORT`.
    Redis {
        /// The Redis server, as `redis://HOST:PORT[/DB]`.
        url: String,
    },
}

impl Backend {
    /// The Redis backend for `url`, checked for syntax (nothing is connected yet).
    pub fn redis(url: &str) -> Result<Self, String> {
        redis::Client::open(url).map_err(|e| format!("invalid Redis URL {url:?}: {e}"))?;
        Ok(Self::Redis {
            url: url.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_are_checked() {
        assert!(Backend::redis("redis://127.0.0.1:6379").is_ok());
        assert!(Backend::redis("http://nope").is_err());
        assert_eq!(Backend::default(), Backend::Local);
    }
}
