//! Rooms, members and fan-out: who is where, and delivering a line to a room.
//!
//! Delivery never waits: each member has a bounded send queue (the core's), and a
//! member whose queue is full is closed with [`CLOSE_TOO_SLOW`], its backlog
//! dropped, so one slow reader costs bounded memory and delays nobody.
//!
//! Every line goes through [`Hub::publish`]; delivering it to the local members
//! is [`Hub::deliver`]. With the Redis backend ([`crate::backend::Backend`]),
//! `publish` queues the line for the Redis task, which publishes it and calls
//! `deliver` for every line that arrives, this server's own included; while Redis
//! is down (degraded) `publish` delivers locally at once. The hub never awaits.

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard, atomic::Ordering::Relaxed},
    time::Instant,
};

use tracing::warn;
use wspeer_core::{Message, Sender};

use crate::{
    auth::Identity,
    clean::clean_line,
    cluster::{Cluster, Outbound, wire::Present},
    config::{CLOSE_KICKED, CLOSE_TOO_SLOW, ChatConfig, DEFAULT_ROOM, MAX_MUTE_MINUTES},
    metrics::Metrics,
};

/// A client's id, as Godot's demo shows it: `[id]`.
pub type ClientId = u32;

/// One line for a room, or for every room when `room` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomLine {
    /// The room, or `None` for all.
    pub room: Option<String>,
    /// A client who must not get it (the sender: the demo sends no echo).
    pub except: Option<ClientId>,
    /// The text.
    pub text: String,
    /// Whether it goes into the room's history.
    pub keep: bool,
}

struct Member {
    nick: Option<String>,
    moderator: bool,
    /// Its lines are refused until then.
    muted_until: Option<Instant>,
    room: String,
    sender: Sender,
}

impl Member {
    fn name(&self, id: ClientId) -> String {
        self.nick.clone().unwrap_or_else(|| id.to_string())
    }
}

#[derive(Default)]
struct Room {
    members: BTreeSet<ClientId>,
    history: VecDeque<Message>,
}

#[derive(Default)]
struct State {
    members: HashMap<ClientId, Member>,
    nicks: crate::nick::NameIndex<ClientId>,
    rooms: HashMap<String, Room>,
    draws: u64,
}

/// Every room and member of one server.
pub struct Hub {
    state: Mutex<State>,
    ids: RandomState,
    config: Arc<ChatConfig>,
    metrics: Arc<Metrics>,
    cluster: Option<Arc<Cluster>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

impl Hub {
    /// An empty hub.
    pub fn new(config: Arc<ChatConfig>, metrics: Arc<Metrics>) -> Self {
        Self::with_cluster(config, metrics, None)
    }

    /// An empty hub that shares its rooms through `cluster` when there is one.
    pub(crate) fn with_cluster(
        config: Arc<ChatConfig>,
        metrics: Arc<Metrics>,
        cluster: Option<Arc<Cluster>>,
    ) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ids: RandomState::new(),
            config,
            metrics,
            cluster,
        }
    }

    fn changed(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.wake.notify_one();
        }
    }

    /// A fresh id: drawn from Redis ahead of time in a cluster, else random.
    fn draw_id(&self, state: &mut State) -> ClientId {
        if let Some(cluster) = &self.cluster {
            while let Some(id) = cluster.take_id() {
                if !state.members.contains_key(&id) {
                    return id;
                }
            }
        }
        loop {
            state.draws += 1;
            let hash = self.ids.hash_one(state.draws);
            let id = match self.cluster {
                // Above the ids Redis hands out, so the two never meet.
                Some(_) => Cluster::fallback_id(hash),
                // Random like the demo's ids (randi_range(2, 1 << 30)), never reused.
                None => (hash % ((1 << 30) - 1)) as ClientId + 2,
            };
            if !state.members.contains_key(&id) {
                return id;
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a client in the default room, replays its history to it and
    /// tells the others `[id] connected`.
    pub fn join(&self, sender: Sender) -> ClientId {
        self.join_as(sender, None)
    }

    /// [`join`](Self::join) for a client signed in as `identity` (shown by its
    /// name, `[name] connected`), or anonymous.
    pub fn join_as(&self, sender: Sender, identity: Option<Identity>) -> ClientId {
        let (id, name) = {
            let mut state = self.lock();
            let id = self.draw_id(&mut state);
            state.members.insert(
                id,
                Member {
                    moderator: identity.as_ref().is_some_and(|i| i.moderator),
                    muted_until: None,
                    nick: identity.map(|i| i.name),
                    room: DEFAULT_ROOM.to_owned(),
                    sender,
                },
            );
            self.enter_room(&mut state, id, DEFAULT_ROOM);
            let name = state
                .members
                .get(&id)
                .map(|m| m.name(id))
                .unwrap_or_default();
            (id, name)
        };
        self.changed();
        self.publish(self.line(Some(DEFAULT_ROOM), Some(id), format!("[{name}] connected")));
        id
    }

    /// Removes a client and tells its room `[name] disconnected`.
    pub fn leave(&self, id: ClientId) {
        let gone = {
            let mut state = self.lock();
            state.members.remove(&id).map(|member| {
                if let Some(nick) = &member.nick {
                    state.nicks.remove(&id, nick);
                }
                let name = member.name(id);
                self.leave_room(&mut state, id, &member.room);
                (name, member.room)
            })
        };
        if let Some((name, room)) = gone {
            self.changed();
            self.publish(self.line(Some(&room), Some(id), format!("[{name}] disconnected")));
        }
    }

    /// A chat message: `[name] Says: text` to the rest of the sender's room;
    /// a muted sender is told so instead.
    pub fn say(&self, id: ClientId, text: &str) {
        let muted = self.lock().members.get(&id).and_then(|m| m.muted_until);
        if let Some(left) = muted.and_then(|until| until.checked_duration_since(Instant::now())) {
            let minutes = left.as_secs().div_ceil(60);
            self.tell(id, &format!("You are muted for {minutes} more minute(s)"));
            return;
        }
        let Some((name, room)) = self.name_and_room(id) else {
            return;
        };
        let text = clean_line(text);
        let mut line = self.line(Some(&room), Some(id), format!("[{name}] Says: {text}"));
        line.keep = true;
        self.publish(line);
    }

    /// `Server says: text` to every client of every room.
    pub fn server_says(&self, text: &str) {
        let text = clean_line(text);
        self.publish(self.line(None, None, format!("Server says: {text}")));
    }

    /// Renames a client; names follow [`crate::nick`]'s rule and are unique up
    /// to confusables.
    pub fn nick(&self, id: ClientId, nick: &str) -> Result<(), String> {
        if self.config.auth.is_some() {
            return Err("Names come from sign-in tokens on this server: /nick is off".to_owned());
        }
        crate::nick::check(nick)?;
        let wanted = crate::nick::Keys::of(nick);
        let (old, room) = {
            let mut state = self.lock();
            let clash = state
                .nicks
                .clash(&wanted, Some(&id))
                .map(str::to_owned)
                .or_else(|| self.cluster.as_ref().and_then(|c| c.remote_clash(&wanted)));
            match clash {
                Some(taken) if taken == nick => return Err(format!("Nickname {nick} is taken")),
                Some(taken) => {
                    return Err(format!("Nickname {nick} is taken: it looks like [{taken}]"));
                }
                None => {}
            }
            let State { members, nicks, .. } = &mut *state;
            let Some(member) = members.get_mut(&id) else {
                return Ok(());
            };
            if let Some(previous) = &member.nick {
                nicks.remove(&id, previous);
            }
            nicks.insert(id, nick);
            let old = member.name(id);
            member.nick = Some(nick.to_owned());
            (old, member.room.clone())
        };
        self.changed();
        self.publish(self.line(Some(&room), Some(id), format!("[{old}] is now [{nick}]")));
        Ok(())
    }

    /// `/kick name` by moderator `by`: closes every connection of `name` on this
    /// server with [`CLOSE_KICKED`] and tells their rooms.
    pub fn kick(&self, by: ClientId, name: &str) -> Result<String, String> {
        let moderator = self.moderator_name(by)?;
        let reason = format!("kicked by [{moderator}]");
        let rooms: Vec<String> = {
            let state = self.lock();
            let targets: Vec<&Member> = state
                .members
                .iter()
                .filter(|(id, m)| m.name(**id) == name)
                .map(|(_, m)| m)
                .collect();
            for member in &targets {
                let _ = member.sender.close(CLOSE_KICKED, &reason);
            }
            targets.iter().map(|m| m.room.clone()).collect()
        };
        if rooms.is_empty() {
            return Err(format!("No [{name}] here"));
        }
        Metrics::inc(&self.metrics.kicked);
        tracing::info!(moderator, kicked = name, "kick");
        for room in BTreeSet::from_iter(rooms) {
            self.publish(self.line(Some(&room), None, format!("[{name}] was {reason}")));
        }
        Ok(format!("Kicked [{name}]"))
    }

    /// `/mute name minutes` by moderator `by`: `name`'s lines are refused for
    /// that long (at most [`MAX_MUTE_MINUTES`]; 0 lifts a mute).
    pub fn mute(&self, by: ClientId, name: &str, minutes: &str) -> Result<String, String> {
        let moderator = self.moderator_name(by)?;
        let minutes: u64 = minutes
            .parse()
            .ok()
            .filter(|m| *m <= MAX_MUTE_MINUTES)
            .ok_or_else(|| format!("Usage: /mute NAME MINUTES (0 to {MAX_MUTE_MINUTES})"))?;
        let until = Instant::now() + std::time::Duration::from_secs(minutes * 60);
        let rooms: Vec<String> = {
            let mut state = self.lock();
            state
                .members
                .iter_mut()
                .filter(|(id, m)| m.name(**id) == name)
                .map(|(_, m)| {
                    m.muted_until = (minutes > 0).then_some(until);
                    m.room.clone()
                })
                .collect()
        };
        if rooms.is_empty() {
            return Err(format!("No [{name}] here"));
        }
        Metrics::inc(&self.metrics.muted);
        tracing::info!(moderator, muted = name, minutes, "mute");
        let text = if minutes == 0 {
            format!("[{name}] may speak again ([{moderator}])")
        } else {
            format!("[{name}] was muted for {minutes} minute(s) by [{moderator}]")
        };
        for room in BTreeSet::from_iter(rooms) {
            self.publish(self.line(Some(&room), None, text.clone()));
        }
        Ok(format!("Muted [{name}] for {minutes} minute(s)"))
    }

    /// The name of `id` if it is a moderator, else why not.
    fn moderator_name(&self, id: ClientId) -> Result<String, String> {
        let state = self.lock();
        match state.members.get(&id) {
            Some(m) if m.moderator => Ok(m.name(id)),
            _ => Err("Only moderators may do that".to_owned()),
        }
    }

    /// Moves a client to `room` (made on first use), replaying its history.
    pub fn join_room(&self, id: ClientId, room: &str) -> Result<(), String> {
        let valid = !room.is_empty()
            && room.len() <= 32
            && room
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !valid {
            return Err(format!(
                "Invalid room {room:?}: 1-32 letters, digits, '-', '_' or '.'"
            ));
        }
        let (name, old) = {
            let mut state = self.lock();
            let Some(member) = state.members.get_mut(&id) else {
                return Ok(());
            };
            if member.room == room {
                return Ok(());
            }
            let old = std::mem::replace(&mut member.room, room.to_owned());
            let name = member.name(id);
            self.leave_room(&mut state, id, &old);
            self.enter_room(&mut state, id, room);
            (name, old)
        };
        self.changed();
        self.publish(self.line(Some(&old), Some(id), format!("[{name}] left for {room}")));
        self.publish(self.line(Some(room), Some(id), format!("[{name}] joined")));
        Ok(())
    }

    /// Who is in the client's room, for `/who`.
    pub fn who(&self, id: ClientId) -> String {
        let state = self.lock();
        let Some(member) = state.members.get(&id) else {
            return String::new();
        };
        let mut names: Vec<String> = state
            .rooms
            .get(&member.room)
            .map(|room| {
                room.members
                    .iter()
                    .filter_map(|m| state.members.get(m).map(|x| format!("[{}]", x.name(*m))))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(cluster) = &self.cluster {
            // The other servers' members, as of the last presence refresh.
            names.extend(
                cluster
                    .remote_in(&member.room)
                    .into_iter()
                    .map(|n| format!("[{n}]")),
            );
        }
        format!("In {}: {}", member.room, names.join(" "))
    }

    /// How many clients have joined and not left yet.
    pub fn member_count(&self) -> usize {
        self.lock().members.len()
    }

    /// Sends `text` to one client only (command replies).
    pub fn tell(&self, id: ClientId, text: &str) {
        let state = self.lock();
        if let Some(member) = state.members.get(&id) {
            self.send_to(id, member, &Message::text(text));
        }
    }

    /// Closes every client (server shutdown).
    pub fn close_all(&self, code: i32, reason: &str) {
        for member in self.lock().members.values() {
            let _ = member.sender.close(code, reason);
        }
    }

    /// Sends a line on its way to every server's members; with one server, or
    /// while Redis is down, straight to [`deliver`](Self::deliver).
    pub fn publish(&self, line: RoomLine) {
        let line = match &self.cluster {
            Some(cluster) => match cluster.send(Outbound::Line(line)) {
                Ok(()) => return,
                Err(Outbound::Line(line)) => line,
                Err(_) => return,
            },
            None => line,
        };
        self.deliver(&line);
    }

    /// The history length kept per room (`--history`).
    pub(crate) fn history_len(&self) -> usize {
        self.config.history
    }

    /// This server's members, for its presence record in Redis.
    pub(crate) fn presence(&self) -> Vec<Present> {
        let state = self.lock();
        state
            .members
            .iter()
            .map(|(id, m)| Present {
                room: m.room.clone(),
                name: m.name(*id),
            })
            .collect()
    }

    /// Replays the room's history kept on this server to one member.
    pub(crate) fn replay_local(&self, id: ClientId, room: &str) {
        let state = self.lock();
        let Some(member) = state.members.get(&id) else {
            return;
        };
        if member.room != room {
            return;
        }
        if let Some(entry) = state.rooms.get(room) {
            for message in &entry.history {
                self.send_to(id, member, message);
            }
        }
    }

    /// Delivers a line to the members of this server.
    pub fn deliver(&self, line: &RoomLine) {
        let message = Message::text(line.text.as_str());
        let mut state = self.lock();
        let targets: Vec<ClientId> = match &line.room {
            Some(room) => state
                .rooms
                .get(room)
                .map(|r| r.members.iter().copied().collect())
                .unwrap_or_default(),
            None => state.members.keys().copied().collect(),
        };
        for id in targets.into_iter().filter(|id| Some(*id) != line.except) {
            if let Some(member) = state.members.get(&id) {
                self.send_to(id, member, &message);
            }
        }
        if line.keep
            && self.config.history > 0
            && let Some(room) = line.room.as_ref().and_then(|r| state.rooms.get_mut(r))
        {
            if room.history.len() == self.config.history {
                room.history.pop_front();
            }
            room.history.push_back(message);
        }
    }

    fn send_to(&self, id: ClientId, member: &Member, message: &Message) {
        match member.sender.try_send(message.clone()) {
            Ok(()) => {
                Metrics::inc(&self.metrics.messages_out);
                self.metrics
                    .bytes_out
                    .fetch_add(message.len() as u64, Relaxed);
            }
            Err(wspeer_core::SendError::Full(_)) => {
                warn!(id, "client too slow: its send queue is full; closing it");
                Metrics::inc(&self.metrics.dropped_slow);
                let _ = member
                    .sender
                    .close_discarding(CLOSE_TOO_SLOW, "too slow: send queue full");
            }
            Err(_) => {}
        }
    }

    fn line(&self, room: Option<&str>, except: Option<ClientId>, text: String) -> RoomLine {
        RoomLine {
            room: room.map(str::to_owned),
            except,
            text,
            keep: false,
        }
    }

    fn name_and_room(&self, id: ClientId) -> Option<(String, String)> {
        let state = self.lock();
        state.members.get(&id).map(|m| (m.name(id), m.room.clone()))
    }

    fn enter_room(&self, state: &mut State, id: ClientId, room: &str) {
        let entry = state.rooms.entry(room.to_owned()).or_insert_with(|| {
            self.metrics.rooms.fetch_add(1, Relaxed);
            Room::default()
        });
        entry.members.insert(id);
        if self.config.history > 0
            && let Some(cluster) = &self.cluster
        {
            // History comes from Redis, through the Redis task (never awaited here).
            let replay = Outbound::Replay {
                id,
                room: room.to_owned(),
            };
            if cluster.send(replay).is_ok() {
                return;
            }
        }
        let history: Vec<Message> = entry.history.iter().cloned().collect();
        if let Some(member) = state.members.get(&id) {
            for message in &history {
                self.send_to(id, member, message);
            }
        }
    }

    fn leave_room(&self, state: &mut State, id: ClientId, room: &str) {
        if let Some(entry) = state.rooms.get_mut(room) {
            entry.members.remove(&id);
            // An empty room goes, history and all, unless it is the default one.
            if entry.members.is_empty() && room != DEFAULT_ROOM {
                state.rooms.remove(room);
                self.metrics.rooms.fetch_sub(1, Relaxed);
            }
        }
    }
}
