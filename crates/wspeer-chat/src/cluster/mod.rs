//! The Redis backend's shared state: what the hub reads without waiting (is
//! Redis up, ids drawn ahead, the other servers' presence) and the queue to the
//! one task that talks to Redis ([`link`]). Nothing here awaits Redis, so the hub
//! and the sessions never wait on it.

mod link;
pub(crate) mod wire;

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::sync::{Notify, mpsc, oneshot};

use crate::hub::{ClientId, RoomLine};

pub(crate) use link::run;

/// How often a server rewrites its presence and reads everyone else's.
pub(crate) const REFRESH: Duration = Duration::from_secs(2);
/// How long a server's presence lives without a refresh (a crashed server's
/// members leave `/who` within this).
pub(crate) const PRESENCE_TTL: Duration = Duration::from_secs(6);
/// Lines waiting for the Redis task; beyond this a line is delivered locally.
const QUEUE: usize = 65_536;
/// Ids drawn from Redis at a time.
pub(crate) const ID_BATCH: u64 = 64;
/// Ids from Redis are in [2, 2^29 + 1]; ids drawn while Redis is down are above.
const REDIS_IDS: u64 = 1 << 29;

/// Work for the Redis task.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Publish a line to every server.
    Line(RoomLine),
    /// Replay a room's history from Redis to one member.
    Replay {
        /// The member.
        id: ClientId,
        /// Its room.
        room: String,
        /// The id it resumes after (`None`: a plain join, every kept line).
        after: Option<crate::history::LineId>,
    },
    /// Send a moderation act to the other servers (a mute is also stored).
    Act(crate::hub::Act),
    /// Send everything queued, remove this server's presence, then answer.
    Flush(oneshot::Sender<()>),
}

/// One server's view of the cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) url: String,
    pub(crate) server_id: String,
    up: AtomicBool,
    tx: mpsc::Sender<Outbound>,
    rx: Mutex<Option<mpsc::Receiver<Outbound>>>,
    ids: Mutex<VecDeque<ClientId>>,
    remote: Mutex<HashMap<String, Vec<String>>>,
    remote_names: Mutex<crate::nick::NameIndex<()>>,
    pub(crate) wake: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cluster {
    /// A cluster member for the Redis at `url`, not yet connected.
    pub(crate) fn new(url: String) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let nonce = RandomState::new().hash_one(std::process::id());
        Arc::new(Self {
            url,
            server_id: format!("{nonce:016x}"),
            up: AtomicBool::new(false),
            tx,
            rx: Mutex::new(Some(rx)),
            ids: Mutex::new(VecDeque::new()),
            remote: Mutex::new(HashMap::new()),
            remote_names: Mutex::default(),
            wake: Notify::new(),
        })
    }

    /// Whether Redis is connected and subscribed (otherwise: degraded).
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Relaxed)
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.store(up, Relaxed);
        if !up {
            lock(&self.remote).clear();
            lock(&self.remote_names).clear();
        }
    }

    /// The queue's receiving end, for the one task that runs.
    pub(crate) fn take_queue(&self) -> Option<mpsc::Receiver<Outbound>> {
        lock(&self.rx).take()
    }

    /// Queues work for the Redis task; gives it back if Redis is down or the
    /// queue is full, for the caller to do locally.
    pub(crate) fn send(&self, work: Outbound) -> Result<(), Outbound> {
        if !self.is_up() {
            return Err(work);
        }
        self.tx.try_send(work).map_err(|e| match e {
            mpsc::error::TrySendError::Full(w) | mpsc::error::TrySendError::Closed(w) => w,
        })
    }

    /// Queues a flush and waits for it (bounded by the caller).
    pub(crate) async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.tx.send(Outbound::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }

    /// An id unique in the cluster, if one was drawn from Redis ahead of time.
    pub(crate) fn take_id(&self) -> Option<ClientId> {
        let id = lock(&self.ids).pop_front();
        self.wake.notify_one();
        id
    }

    /// How many drawn ids are left.
    pub(crate) fn ids_left(&self) -> usize {
        lock(&self.ids).len()
    }

    /// Adds the ids `INCRBY` returned `last` for.
    pub(crate) fn add_ids(&self, last: u64) {
        let first = last.saturating_sub(ID_BATCH - 1).max(1);
        let mut ids = lock(&self.ids);
        ids.extend((first..=last).map(|n| (2 + (n - 1) % REDIS_IDS) as ClientId));
    }

    /// An id for when Redis is down: above every id Redis hands out.
    pub(crate) fn fallback_id(hash: u64) -> ClientId {
        let span = (1u64 << 30) - (REDIS_IDS + 1);
        (REDIS_IDS + 2 + hash % span) as ClientId
    }

    /// Replaces what the other servers' members are (room → names).
    pub(crate) fn set_remote(&self, remote: HashMap<String, Vec<String>>) {
        let mut names = crate::nick::NameIndex::default();
        for name in remote.values().flatten() {
            names.insert((), name);
        }
        *lock(&self.remote_names) = names;
        *lock(&self.remote) = remote;
    }

    /// The other servers' members of `room`, as of the last refresh.
    pub(crate) fn remote_in(&self, room: &str) -> Vec<String> {
        lock(&self.remote).get(room).cloned().unwrap_or_default()
    }

    /// The rooms where another server has a member named `name`.
    pub(crate) fn rooms_of(&self, name: &str) -> Vec<String> {
        lock(&self.remote)
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n == name))
            .map(|(room, _)| room.clone())
            .collect()
    }

    /// Every room with members on other servers, and their names.
    pub(crate) fn remote_rooms(&self) -> HashMap<String, Vec<String>> {
        lock(&self.remote).clone()
    }

    /// The name of another server's member that clashes with `keys` (the
    /// same name, or one confusable with it), if there is one.
    pub(crate) fn remote_clash(&self, keys: &crate::nick::Keys) -> Option<String> {
        lock(&self.remote_names)
            .clash(keys, None)
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_redis_and_fallback_ids_never_meet() {
        let cluster = Cluster::new("redis://127.0.0.1:1".into());
        cluster.add_ids(ID_BATCH);
        let ids: Vec<ClientId> = std::iter::from_fn(|| cluster.take_id()).collect();
        assert_eq!(ids.first(), Some(&2));
        assert_eq!(ids.len() as u64, ID_BATCH);
        for hash in [0, 1, u64::MAX, 12345] {
            let id = Cluster::fallback_id(hash);
            assert!(id as u64 > REDIS_IDS + 1 && id <= 1 << 30, "{id}");
        }
    }
}
