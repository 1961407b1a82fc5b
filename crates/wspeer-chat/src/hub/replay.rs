//! Entering a room: the history a member gets (all of it on a plain join, what
//! it missed on a resume, with a notice if lines were lost), before any live
//! line. Alone, the history is this server's; in a cluster it is read from
//! Redis by the Redis task, and live lines that arrive meanwhile wait in the
//! member ([`Member::waiting`]) so none comes before the history or twice.

use wspeer_core::Message;

use super::{ClientId, Hub, Member, Rendered, Room, State};
use crate::{
    cluster::Outbound,
    frame,
    history::{self, Gap, History, Kept, LineId},
    metrics::Metrics,
};

impl Hub {
    /// Puts member `id` (already in `state.members`, its `room` set) into
    /// `room`, and sends it the room's history or what it missed after `after`.
    pub(super) fn enter_room(
        &self,
        state: &mut State,
        id: ClientId,
        room: &str,
        after: Option<LineId>,
    ) {
        let State { rooms, members, .. } = state;
        let entry = rooms.entry(room.to_owned()).or_insert_with(|| {
            Metrics::inc(&self.metrics.rooms);
            Room {
                members: Default::default(),
                history: History::new(self.config.history),
            }
        });
        entry.members.insert(id);
        let Some(member) = members.get_mut(&id) else {
            return;
        };
        member.seen = after;
        member.waiting = None;
        if member.ids {
            let message = frame::welcome(&member.name(id), room, member.moderator);
            self.send_to(id, member, &message);
        }
        if after.is_none() && self.config.history == 0 {
            return;
        }
        if let Some(cluster) = &self.cluster {
            // History comes from Redis, through the Redis task (never awaited here).
            member.waiting = Some(Vec::new());
            let replay = Outbound::Replay {
                id,
                room: room.to_owned(),
                after,
            };
            if cluster.send(replay).is_ok() {
                return;
            }
            member.waiting = None;
        }
        let (lines, last) = (entry.history.lines(), entry.history.last());
        self.replayed(id, member, room, after, lines, last);
    }

    /// The history read from Redis for member `id` in `room`: `lines` oldest
    /// first, `last` the room's newest id. Ignored if the member has moved on.
    pub(crate) fn finish_replay(
        &self,
        id: ClientId,
        room: &str,
        after: Option<LineId>,
        lines: Vec<Kept>,
        last: LineId,
    ) {
        let mut state = self.lock();
        if let Some(member) = state
            .members
            .get_mut(&id)
            .filter(|m| m.room == room && m.waiting.is_some())
        {
            self.replayed(id, member, room, after, lines, last);
        }
    }

    /// Replays the history this server keeps (Redis is down).
    pub(crate) fn replay_local(&self, id: ClientId, room: &str, after: Option<LineId>) {
        let (lines, last) = {
            let state = self.lock();
            match state.rooms.get(room) {
                Some(r) => (r.history.lines(), r.history.last()),
                None => return,
            }
        };
        self.finish_replay(id, room, after, lines, last);
    }

    /// Sends the gap notice, the unseen lines, then the lines that waited.
    fn replayed(
        &self,
        id: ClientId,
        member: &mut Member,
        room: &str,
        after: Option<LineId>,
        lines: Vec<Kept>,
        last: LineId,
    ) {
        let (gap, lines) = history::resume(lines, last, after);
        if let Some(gap) = gap {
            if matches!(gap, Gap::Unknown { .. }) {
                // Ids from before a reset: the lines now kept are all new to it.
                member.seen = None;
            }
            let notice = if member.ids {
                frame::gap(room, gap)
            } else {
                Message::text(frame::gap_text(room, gap))
            };
            self.send_to(id, member, &notice);
        }
        for line in lines {
            if member.seen.is_some_and(|seen| line.id <= seen) {
                continue;
            }
            member.seen = Some(line.id);
            let message = if member.ids {
                frame::line(Some(line.id), Some(room), &line.text)
            } else {
                Message::text(line.text)
            };
            self.send_to(id, member, &message);
        }
        for line in member.waiting.take().unwrap_or_default() {
            self.offer(id, member, &Rendered::new(&line));
        }
    }
}
