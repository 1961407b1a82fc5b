//! A token bucket: how many messages a client may send, on average and in a burst.

use std::time::Instant;

/// A client's allowance of messages.
#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self {
            per_second,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes one message's token at `now`; false when none is left.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_rate() {
        let start = Instant::now();
        let mut limit = RateLimit::new(10.0, 3.0);
        limit.last = start;
        assert!((0..3).all(|_| limit.allow(start)));
        assert!(!limit.allow(start));
        // 100 ms at 10/s gives one more.
        assert!(limit.allow(start + Duration::from_millis(100)));
        assert!(!limit.allow(start + Duration::from_millis(100)));
    }
}
