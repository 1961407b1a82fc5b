//! Bounds on unfinished handshakes that never lock anyone out.
//!
//! A server cannot tell a slow client from an attacker that trickles its
//! request to hold connections open. Refusing new connections once some count
//! is reached would let such an attacker shut the server for everyone, so a
//! new connection past a cap drops the handshake that has waited longest
//! instead, first among the new one's own address, then among all. A client
//! that sends its request promptly is done long before it is the oldest,
//! however many slow ones arrive around it.
//!
//! Only a handshake that has had its chance is dropped: one whose task has
//! run and found its request incomplete. In a burst of connections accepted
//! before any of their tasks ran, a cap reached with no such handshake drops
//! the newest connection instead, so that the ones that came first, a prompt
//! client among them, are not dropped unread.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    fmt,
    future::poll_fn,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    task::Poll,
};

use futures_util::task::AtomicWaker;

/// Where handshakes are counted together: one IPv4 address, or one IPv6 /64
/// (a subscriber usually holds a whole /64, so counting single IPv6 addresses
/// would bound nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6Prefix(u64),
}

impl Source {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Source::V4(v4.into()),
            // A dual-stack socket reports IPv4 clients as mapped addresses.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.into()),
                None => Source::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Set once a handshake is dropped to make room; wakes the handshake's task.
#[derive(Debug, Default)]
struct Eviction {
    /// The handshake ran and is waiting for its peer: it may be dropped.
    waited: AtomicBool,
    evicted: AtomicBool,
    waker: AtomicWaker,
}

impl Eviction {
    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.waker.wake();
    }
}

#[derive(Debug)]
struct Entry {
    source: Source,
    eviction: Arc<Eviction>,
}

#[derive(Debug, Default)]
struct Pending {
    next_id: u64,
    /// Every unfinished handshake, oldest first (ids only grow).
    by_age: BTreeMap<u64, Entry>,
    /// Each source's unfinished handshakes, oldest first.
    by_source: HashMap<Source, VecDeque<u64>>,
    evicted: u64,
}

impl Pending {
    fn remove_from_source(&mut self, source: Source, id: u64) {
        if let Some(ids) = self.by_source.get_mut(&source) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.by_source.remove(&source);
            }
        }
    }

    fn evict(&mut self, id: u64) {
        if let Some(entry) = self.by_age.remove(&id) {
            self.remove_from_source(entry.source, id);
            entry.eviction.evict();
            self.evicted += 1;
        }
    }

    fn has_waited(&self, id: u64) -> bool {
        self.by_age
            .get(&id)
            .is_some_and(|e| e.eviction.waited.load(Ordering::Acquire))
    }

    /// The oldest handshake of `source` that may be dropped.
    fn oldest_waited_of(&self, source: Source) -> Option<u64> {
        let ids = self.by_source.get(&source)?;
        ids.iter().copied().find(|&id| self.has_waited(id))
    }

    /// The oldest handshake of all that may be dropped. The oldest have almost
    /// always waited; the search is bounded for the rare burst that has not.
    fn oldest_waited(&self) -> Option<u64> {
        self.by_age
            .iter()
            .take(OLDEST_SEARCHED)
            .find(|(_, e)| e.eviction.waited.load(Ordering::Acquire))
            .map(|(&id, _)| id)
    }
}

/// How many of the oldest handshakes a full limiter looks through for one it
/// may drop.
const OLDEST_SEARCHED: usize = 256;

/// Counts the unfinished handshakes of one server (a [`Listener`], or a
/// facade `TcpServer`) and drops the longest-waiting one when a new connection
/// would go past [`Config::max_pending_handshakes`] in all or
/// [`Config::max_pending_handshakes_per_ip`] from its address. Cheap to clone:
/// clones share the count.
///
/// [`Listener`]: crate::Listener
/// [`Config::max_pending_handshakes`]: crate::Config::max_pending_handshakes
/// [`Config::max_pending_handshakes_per_ip`]: crate::Config::max_pending_handshakes_per_ip
#[derive(Clone)]
pub struct HandshakeLimiter {
    max_pending: usize,
    max_per_source: usize,
    pending: Arc<Mutex<Pending>>,
}

impl fmt::Debug for HandshakeLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeLimiter")
            .field("max_pending", &self.max_pending)
            .field("max_per_source", &self.max_per_source)
            .field("pending", &self.pending())
            .finish()
    }
}

impl HandshakeLimiter {
    /// A limiter with these caps (each at least 1).
    pub fn new(max_pending: usize, max_pending_per_ip: usize) -> Self {
        Self {
            max_pending: max_pending.max(1),
            max_per_source: max_pending_per_ip.max(1),
            pending: Arc::default(),
        }
    }

    /// A limiter with `config`'s caps.
    pub fn from_config(config: &crate::Config) -> Self {
        Self::new(
            config.max_pending_handshakes,
            config.max_pending_handshakes_per_ip,
        )
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Every update leaves the maps consistent, so a poisoned lock is usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new connection from `peer`. Past a cap, the longest-waiting
    /// handshake of its address (or of all) is dropped; if none of those has
    /// run yet, the new connection is: its slot comes back already evicted.
    /// The slot is freed when it is dropped: when the handshake ends.
    pub fn admit(&self, peer: SocketAddr) -> HandshakeSlot {
        let source = Source::of(peer.ip());
        let mut pending = self.lock();
        let eviction = Arc::new(Eviction::default());
        let from_source = pending.by_source.get(&source).map_or(0, VecDeque::len);
        let room = (from_source < self.max_per_source
            || pending
                .oldest_waited_of(source)
                .map(|id| pending.evict(id))
                .is_some())
            && (pending.by_age.len() < self.max_pending
                || pending
                    .oldest_waited()
                    .map(|id| pending.evict(id))
                    .is_some());
        let id = pending.next_id;
        pending.next_id += 1;
        if room {
            pending.by_age.insert(
                id,
                Entry {
                    source,
                    eviction: eviction.clone(),
                },
            );
            pending.by_source.entry(source).or_default().push_back(id);
        } else {
            eviction.evict();
            pending.evicted += 1;
        }
        HandshakeSlot {
            limiter: self.clone(),
            id,
            source,
            eviction,
        }
    }

    /// Handshakes counted now.
    pub fn pending(&self) -> usize {
        self.lock().by_age.len()
    }

    /// Handshakes dropped to make room since the limiter was made.
    pub fn evicted(&self) -> u64 {
        self.lock().evicted
    }
}

/// One unfinished handshake counted by a [`HandshakeLimiter`]; dropping it
/// frees its place.
pub struct HandshakeSlot {
    limiter: HandshakeLimiter,
    id: u64,
    source: Source,
    eviction: Arc<Eviction>,
}

impl fmt::Debug for HandshakeSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeSlot")
            .field("id", &self.id)
            .field("evicted", &self.is_evicted())
            .finish()
    }
}

impl HandshakeSlot {
    /// Whether this handshake was dropped to make room for newer ones.
    pub fn is_evicted(&self) -> bool {
        self.eviction.evicted.load(Ordering::Acquire)
    }

    /// The handshake ran and waits for its peer: from now on it may be
    /// dropped to make room.
    pub(crate) fn mark_waited(&self) {
        self.eviction.waited.store(true, Ordering::Release);
    }

    /// Completes once this handshake is dropped to make room.
    pub(crate) async fn evicted(&self) {
        poll_fn(|cx| {
            if self.is_evicted() {
                return Poll::Ready(());
            }
            self.eviction.waker.register(cx.waker());
            if self.is_evicted() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        let mut pending = self.limiter.lock();
        if pending.by_age.remove(&self.id).is_some() {
            pending.remove_from_source(self.source, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().expect("an IP address"), 4000)
    }

    /// A slot whose handshake has run and waits for its peer.
    fn waiting(limiter: &HandshakeLimiter, ip: &str) -> HandshakeSlot {
        let slot = limiter.admit(addr(ip));
        slot.mark_waited();
        slot
    }

    #[test]
    fn one_address_past_its_cap_drops_its_own_oldest() {
        let limiter = HandshakeLimiter::new(100, 3);
        let slots: Vec<_> = (0..3).map(|_| waiting(&limiter, "10.0.0.1")).collect();
        let other = waiting(&limiter, "10.0.0.2");
        let newest = limiter.admit(addr("10.0.0.1"));
        assert!(slots[0].is_evicted(), "the address's oldest made room");
        assert!(!slots[1].is_evicted() && !slots[2].is_evicted());
        assert!(!other.is_evicted(), "another address is not touched");
        assert!(!newest.is_evicted());
        assert_eq!(limiter.pending(), 4);
        assert_eq!(limiter.evicted(), 1);
    }

    #[test]
    fn past_the_global_cap_the_oldest_of_all_goes() {
        let limiter = HandshakeLimiter::new(3, 10);
        let a = waiting(&limiter, "10.0.0.1");
        let b = waiting(&limiter, "10.0.0.2");
        let c = waiting(&limiter, "10.0.0.1");
        let d = waiting(&limiter, "10.0.0.3");
        assert!(a.is_evicted());
        assert!(!b.is_evicted() && !c.is_evicted() && !d.is_evicted());
        assert_eq!(limiter.pending(), 3);
        // The evicted slot's drop frees nothing twice.
        drop(a);
        assert_eq!(limiter.pending(), 3);
        let e = limiter.admit(addr("10.0.0.4"));
        assert!(b.is_evicted() && !e.is_evicted());
    }

    #[test]
    fn a_handshake_that_has_not_run_is_not_dropped_for_a_newer_one() {
        let limiter = HandshakeLimiter::new(100, 2);
        let first = limiter.admit(addr("10.0.0.1"));
        let second = waiting(&limiter, "10.0.0.1");
        // The oldest has not run yet: the one that has waited goes.
        let third = limiter.admit(addr("10.0.0.1"));
        assert!(!first.is_evicted() && second.is_evicted() && !third.is_evicted());
        // Neither left has run: the newest connection is the one dropped.
        let fourth = limiter.admit(addr("10.0.0.1"));
        assert!(fourth.is_evicted());
        assert!(!first.is_evicted() && !third.is_evicted());
        assert_eq!(limiter.pending(), 2);
        assert_eq!(limiter.evicted(), 2);
        drop(fourth);
        assert_eq!(limiter.pending(), 2);
    }

    #[test]
    fn finished_handshakes_free_their_place() {
        let limiter = HandshakeLimiter::new(2, 2);
        for _ in 0..100 {
            let slot = limiter.admit(addr("10.0.0.1"));
            assert!(!slot.is_evicted());
        }
        assert_eq!(limiter.pending(), 0);
        assert_eq!(limiter.evicted(), 0);
        assert!(
            limiter.lock().by_source.is_empty(),
            "no per-address entry left"
        );
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let limiter = HandshakeLimiter::new(100, 1);
        let first = waiting(&limiter, "2001:db8:1:2::1");
        let same_64 = waiting(&limiter, "2001:db8:1:2:ffff::9");
        assert!(first.is_evicted(), "one /64 is one source");
        let other_64 = waiting(&limiter, "2001:db8:1:3::1");
        assert!(!same_64.is_evicted() && !other_64.is_evicted());
        let v4 = waiting(&limiter, "192.0.2.7");
        let _mapped = waiting(&limiter, "::ffff:192.0.2.7");
        assert!(v4.is_evicted(), "a mapped address is its IPv4 address");
    }

    #[tokio::test]
    async fn eviction_wakes_the_waiting_handshake() {
        let limiter = HandshakeLimiter::new(1, 1);
        let slot = waiting(&limiter, "10.0.0.1");
        let waiting = tokio::spawn(async move { slot.evicted().await });
        tokio::task::yield_now().await;
        let _newer = limiter.admit(addr("10.0.0.2"));
        waiting.await.expect("the evicted handshake was woken");
    }
}
