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

mod moderation;

pub use moderation::Act;
pub(crate) use moderation::unix_now;
mod replay;

use std::{
    cell::OnceCell,
    collections::{BTreeSet, HashMap},
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard, atomic::Ordering::Relaxed},
};

use tracing::warn;
use wspeer_core::{Message, Sender};

use crate::{
    auth::Identity,
    clean::clean_line,
    cluster::{Cluster, Outbound, wire::Present},
    config::{CLOSE_TOO_SLOW, ChatConfig, DEFAULT_ROOM},
    frame,
    history::{History, LineId},
    joining::{Joining, check_room},
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
    /// Whether it goes into the room's history (and gets an id).
    pub keep: bool,
    /// Its id in the room, once it has one (kept lines only).
    pub id: Option<LineId>,
}

/// A line as plain text (demo clients) and as JSON (clients with ids), each
/// made once, on first use.
struct Rendered<'a> {
    line: &'a RoomLine,
    plain: OnceCell<Message>,
    json: OnceCell<Message>,
}

impl<'a> Rendered<'a> {
    fn new(line: &'a RoomLine) -> Self {
        Self {
            line,
            plain: OnceCell::new(),
            json: OnceCell::new(),
        }
    }

    fn for_member(&self, member: &Member) -> &Message {
        if member.ids {
            self.json.get_or_init(|| {
                frame::line(self.line.id, self.line.room.as_deref(), &self.line.text)
            })
        } else {
            self.plain
                .get_or_init(|| Message::text(self.line.text.as_str()))
        }
    }
}

struct Member {
    nick: Option<String>,
    moderator: bool,
    room: String,
    sender: Sender,
    /// Gets JSON frames with line ids ([`frame`]).
    ids: bool,
    /// The newest line id it got in its room: one not newer is a duplicate.
    seen: Option<LineId>,
    /// Lines that arrived while its room's history was read from Redis; they
    /// follow the history.
    waiting: Option<Vec<RoomLine>>,
}

impl Member {
    fn name(&self, id: ClientId) -> String {
        self.nick.clone().unwrap_or_else(|| id.to_string())
    }
}

struct Room {
    members: BTreeSet<ClientId>,
    history: History,
}

#[derive(Default)]
struct State {
    members: HashMap<ClientId, Member>,
    nicks: crate::nick::NameIndex<ClientId>,
    rooms: HashMap<String, Room>,
    mutes: moderation::Mutes,
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
        self.join_with(sender, identity, Joining::default())
    }

    /// [`join_as`](Self::join_as) with what the client asked for on connect:
    /// its room, ids, and the id to resume after ([`crate::joining`]).
    pub fn join_with(
        &self,
        sender: Sender,
        identity: Option<Identity>,
        joining: Joining,
    ) -> ClientId {
        let room = joining.room.unwrap_or_else(|| DEFAULT_ROOM.to_owned());
        let (id, name) = {
            let mut state = self.lock();
            let id = self.draw_id(&mut state);
            state.members.insert(
                id,
                Member {
                    moderator: identity.as_ref().is_some_and(|i| i.moderator),
                    nick: identity.map(|i| i.name),
                    room: room.clone(),
                    sender,
                    ids: joining.ids,
                    seen: None,
                    waiting: None,
                },
            );
            self.enter_room(&mut state, id, &room, joining.after);
            let name = state
                .members
                .get(&id)
                .map(|m| m.name(id))
                .unwrap_or_default();
            (id, name)
        };
        self.changed();
        self.publish(self.line(Some(&room), Some(id), format!("[{name}] connected")));
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
        let Some((name, room)) = self.name_and_room(id) else {
            return;
        };
        if let Some(left) = self.muted_for(&name) {
            let minutes = left.as_secs().div_ceil(60);
            self.tell(id, &format!("You are muted for {minutes} more minute(s)"));
            return;
        }
        let text = clean_line(text);
        self.publish(self.kept_line(&room, Some(id), format!("[{name}] Says: {text}")));
    }

    /// A line from the API into `room` (kept, with an id), on every server.
    pub fn post(&self, room: &str, text: String) {
        self.publish(self.kept_line(room, None, text));
    }

    /// This server's rooms and their members' names.
    pub fn local_rooms(&self) -> Vec<(String, Vec<String>)> {
        let state = self.lock();
        state
            .rooms
            .iter()
            .map(|(room, r)| {
                let names = r
                    .members
                    .iter()
                    .filter_map(|m| state.members.get(m).map(|x| x.name(*m)))
                    .collect();
                (room.clone(), names)
            })
            .collect()
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
        // A new name would leave the mute behind.
        if let Some((name, _)) = self.name_and_room(id)
            && self.muted_for(&name).is_some()
        {
            return Err("You are muted: no new name meanwhile".to_owned());
        }
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

    /// Moves a client to `room` (made on first use), replaying its history.
    pub fn join_room(&self, id: ClientId, room: &str) -> Result<(), String> {
        check_room(room)?;
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
            self.enter_room(&mut state, id, room, None);
            (name, old)
        };
        self.changed();
        self.publish(self.line(Some(&old), Some(id), format!("[{name}] left for {room}")));
        self.publish(self.line(Some(room), Some(id), format!("[{name}] joined")));
        Ok(())
    }

    /// Who is in the client's room, for `/who`.
    pub fn who(&self, id: ClientId) -> String {
        let Some(room) = self.name_and_room(id).map(|(_, room)| room) else {
            return String::new();
        };
        who_text(&room, &self.members_of(&room))
    }

    /// Answers `/who`: the demo's text, or a members event for a client with ids.
    pub fn send_who(&self, id: ClientId) {
        let Some(room) = self.name_and_room(id).map(|(_, room)| room) else {
            return;
        };
        let names = self.members_of(&room);
        let text = who_text(&room, &names);
        let state = self.lock();
        if let Some(member) = state.members.get(&id) {
            let message = if member.ids {
                frame::members(&room, &names, &text)
            } else {
                Message::text(text)
            };
            self.send_to(id, member, &message);
        }
    }

    /// The names in `room` on every server (the others' as of the last
    /// presence refresh).
    pub fn members_of(&self, room: &str) -> Vec<String> {
        let mut names: Vec<String> = {
            let state = self.lock();
            state
                .rooms
                .get(room)
                .map(|r| {
                    r.members
                        .iter()
                        .filter_map(|m| state.members.get(m).map(|x| x.name(*m)))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(cluster) = &self.cluster {
            names.extend(cluster.remote_in(room));
        }
        names
    }

    /// Tells a client with ids who and where it is (no-op for demo clients).
    pub fn welcome(&self, id: ClientId) {
        let state = self.lock();
        if let Some(member) = state.members.get(&id).filter(|m| m.ids) {
            let message = frame::welcome(&member.name(id), &member.room, member.moderator);
            self.send_to(id, member, &message);
        }
    }

    /// How many clients have joined and not left yet.
    pub fn member_count(&self) -> usize {
        self.lock().members.len()
    }

    /// Sends `text` to one client only (command replies).
    pub fn tell(&self, id: ClientId, text: &str) {
        let state = self.lock();
        if let Some(member) = state.members.get(&id) {
            let message = if member.ids {
                frame::line(None, None, text)
            } else {
                Message::text(text)
            };
            self.send_to(id, member, &message);
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

    /// Delivers a line to the members of this server (giving it the room's
    /// next id first when this server is alone), and keeps it.
    pub fn deliver(&self, line: &RoomLine) {
        let mut state = self.lock();
        let numbered;
        let line = match line.room.as_ref().and_then(|r| state.rooms.get_mut(r)) {
            // In a cluster ids come from Redis; while it is down lines have none.
            Some(room) if line.keep && line.id.is_none() && self.cluster.is_none() => {
                numbered = RoomLine {
                    id: Some(room.history.next_id()),
                    ..line.clone()
                };
                &numbered
            }
            _ => line,
        };
        let targets: Vec<ClientId> = match &line.room {
            Some(room) => state
                .rooms
                .get(room)
                .map(|r| r.members.iter().copied().collect())
                .unwrap_or_default(),
            None => state.members.keys().copied().collect(),
        };
        let rendered = Rendered::new(line);
        for id in targets.into_iter().filter(|id| Some(*id) != line.except) {
            if let Some(member) = state.members.get_mut(&id) {
                self.offer(id, member, &rendered);
            }
        }
        if let (Some(id), Some(room)) = (
            line.id,
            line.room.as_ref().and_then(|r| state.rooms.get_mut(r)),
        ) {
            room.history.keep(id, &line.text);
        }
    }

    /// Sends a line to one member, unless it already got it; while the
    /// member's history is being read it waits (bounded by the send queue).
    fn offer(&self, id: ClientId, member: &mut Member, rendered: &Rendered<'_>) {
        if let Some(waiting) = &mut member.waiting {
            if waiting.len() < self.config.send_queue {
                waiting.push(rendered.line.clone());
            } else {
                warn!(id, "too many lines while its history was read; closing it");
                Metrics::inc(&self.metrics.dropped_slow);
                let _ = member
                    .sender
                    .close_discarding(CLOSE_TOO_SLOW, "too slow: send queue full");
            }
            return;
        }
        if let Some(line_id) = rendered.line.id {
            if member.seen.is_some_and(|seen| line_id <= seen) {
                return;
            }
            member.seen = Some(line_id);
        }
        self.send_to(id, member, rendered.for_member(member));
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
            id: None,
        }
    }

    /// A line of `room` that is kept in its history and gets an id.
    fn kept_line(&self, room: &str, except: Option<ClientId>, text: String) -> RoomLine {
        RoomLine {
            keep: true,
            ..self.line(Some(room), except, text)
        }
    }

    fn name_and_room(&self, id: ClientId) -> Option<(String, String)> {
        let state = self.lock();
        state.members.get(&id).map(|m| (m.name(id), m.room.clone()))
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

/// The demo's answer to `/who`.
fn who_text(room: &str, names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("[{n}]")).collect();
    format!("In {room}: {}", names.join(" "))
}
