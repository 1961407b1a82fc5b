//! The heartbeat: a ping every interval, and a peer that leaves one
//! unanswered for a whole interval is dropped.

use std::time::{Duration, Instant};

/// What the heartbeat asks for when its time comes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Beat {
    /// Nothing yet.
    Wait,
    /// Send a ping.
    Ping,
    /// The last ping went unanswered for a whole interval.
    Dead,
}

#[derive(Debug)]
pub(super) struct Heartbeat {
    interval: Duration,
    /// When the next ping is due, or the last one's answer overdue.
    next: Instant,
    /// A ping is out (or due) and no pong has come back since.
    waiting: bool,
}

impl Heartbeat {
    pub(super) fn new(interval: Duration, now: Instant) -> Self {
        Self {
            interval,
            next: now + interval,
            waiting: false,
        }
    }

    pub(super) fn deadline(&self) -> Instant {
        self.next
    }

    pub(super) fn pong(&mut self) {
        self.waiting = false;
    }

    /// Called with the time after the wake-up's reads, so that a pong among
    /// them counts. `paused`: we stopped reading ourselves (the application's
    /// inbound queue is full), so the pong may be among the bytes we have not
    /// read; then the peer gets another interval.
    pub(super) fn tick(&mut self, now: Instant, paused: bool) -> Beat {
        if now < self.next {
            return Beat::Wait;
        }
        self.next = now + self.interval;
        match (self.waiting, paused) {
            (false, _) => {
                self.waiting = true;
                Beat::Ping
            }
            (true, true) => Beat::Wait,
            (true, false) => Beat::Dead,
        }
    }
}
