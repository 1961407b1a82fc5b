//! Moderation: kicks and mutes, by a moderator's `/kick` and `/mute` or by the
//! API, on every server. The server that decides applies the act to its own
//! members, counts and logs it, tells the target's rooms, and sends it through
//! Redis to the others, which apply it to theirs. Mutes are by name, so a
//! muted user who reconnects (here or, through Redis, anywhere) stays muted.

use std::{
    collections::{BTreeSet, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use tracing::info;

use super::{ClientId, Hub};
use crate::{
    cluster::Outbound,
    config::{CLOSE_KICKED, MAX_MUTE_MINUTES},
    metrics::Metrics,
};

/// Most names muted at once; past it expired mutes go, then the soonest to end.
const MAX_MUTES: usize = 100_000;

/// A moderation act, as servers of a cluster send it to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "lowercase")]
pub enum Act {
    /// Close every connection of `name` with [`CLOSE_KICKED`].
    Kick {
        /// Who is kicked.
        name: String,
        /// The moderator.
        by: String,
    },
    /// Refuse `name`'s lines until `until` (Unix seconds; in the past lifts it).
    Mute {
        /// Who is muted.
        name: String,
        /// The moderator.
        by: String,
        /// The end of the mute, in seconds since the Unix epoch.
        until: u64,
    },
}

/// Now, in seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Names muted, until when (Unix seconds).
#[derive(Debug, Default)]
pub(super) struct Mutes(HashMap<String, u64>);

impl Mutes {
    fn set(&mut self, name: &str, until: u64) {
        let now = unix_now();
        if until <= now {
            self.0.remove(name);
            return;
        }
        if self.0.len() >= MAX_MUTES && !self.0.contains_key(name) {
            self.0.retain(|_, u| *u > now);
            if self.0.len() >= MAX_MUTES
                && let Some(soonest) = self
                    .0
                    .iter()
                    .min_by_key(|(_, u)| **u)
                    .map(|(n, _)| n.clone())
            {
                self.0.remove(&soonest);
            }
        }
        self.0.insert(name.to_owned(), until);
    }

    fn left(&self, name: &str) -> Option<Duration> {
        let until = *self.0.get(name)?;
        until
            .checked_sub(unix_now())
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
    }
}

impl Hub {
    /// `/kick name` by member `by`, a moderator.
    pub fn kick(&self, by: ClientId, name: &str) -> Result<String, String> {
        let moderator = self.moderator_name(by)?;
        self.kick_as(&moderator, name, None)
    }

    /// `/mute name minutes` by member `by`, a moderator (0 minutes lifts it).
    pub fn mute(&self, by: ClientId, name: &str, minutes: &str) -> Result<String, String> {
        let moderator = self.moderator_name(by)?;
        let minutes: u64 = minutes
            .parse()
            .ok()
            .filter(|m| *m <= MAX_MUTE_MINUTES)
            .ok_or_else(|| format!("Usage: /mute NAME MINUTES (0 to {MAX_MUTE_MINUTES})"))?;
        self.mute_as(&moderator, name, minutes, None)
    }

    /// Kicks `name` everywhere in the name of `moderator` (`room`: it must be
    /// there).
    pub fn kick_as(
        &self,
        moderator: &str,
        name: &str,
        room: Option<&str>,
    ) -> Result<String, String> {
        let rooms = self.target_rooms(name, room)?;
        let act = Act::Kick {
            name: name.to_owned(),
            by: moderator.to_owned(),
        };
        self.decided(
            act,
            &rooms,
            &format!("[{name}] was kicked by [{moderator}]"),
        );
        Metrics::inc(&self.metrics.kicked);
        Ok(format!("Kicked [{name}]"))
    }

    /// Mutes `name` everywhere for `minutes` (0 lifts it) in the name of
    /// `moderator` (`room`: it must be there).
    pub fn mute_as(
        &self,
        moderator: &str,
        name: &str,
        minutes: u64,
        room: Option<&str>,
    ) -> Result<String, String> {
        if minutes > MAX_MUTE_MINUTES {
            return Err(format!("at most {MAX_MUTE_MINUTES} minutes"));
        }
        let rooms = self.target_rooms(name, room)?;
        let act = Act::Mute {
            name: name.to_owned(),
            by: moderator.to_owned(),
            until: unix_now() + minutes * 60,
        };
        let text = if minutes == 0 {
            format!("[{name}] may speak again ([{moderator}])")
        } else {
            format!("[{name}] was muted for {minutes} minute(s) by [{moderator}]")
        };
        self.decided(act, &rooms, &text);
        Metrics::inc(&self.metrics.muted);
        Ok(format!("Muted [{name}] for {minutes} minute(s)"))
    }

    /// An act decided here: applied, logged, sent to the cluster, told.
    fn decided(&self, act: Act, rooms: &BTreeSet<String>, notice: &str) {
        info!(?act, "moderation");
        // A kick after its notice, so that a kicked member still reads it; a
        // mute before, so that no server lets a member who has read it speak
        // (acts and lines reach the other servers in order, on one channel).
        let mute = matches!(act, Act::Mute { .. });
        if mute {
            self.enforce(&act);
        }
        for room in rooms {
            self.publish(self.kept_line(room, None, notice.to_owned()));
        }
        if !mute {
            self.enforce(&act);
        }
    }

    /// Applies an act decided here and sends it to the other servers.
    fn enforce(&self, act: &Act) {
        self.apply(act);
        if let Some(cluster) = &self.cluster {
            // While Redis is down the act holds on this server only.
            let _ = cluster.send(Outbound::Act(act.clone()));
        }
    }

    /// Applies an act to this server's members (from here or the cluster).
    pub(crate) fn apply(&self, act: &Act) {
        let mut state = self.lock();
        match act {
            Act::Kick { name, by } => {
                let reason = format!("kicked by [{by}]");
                for (id, member) in &state.members {
                    if member.name(*id) == *name {
                        let _ = member.sender.close(CLOSE_KICKED, &reason);
                    }
                }
            }
            Act::Mute { name, until, .. } => state.mutes.set(name, *until),
        }
    }

    /// How long `name` stays muted, if it is.
    pub(super) fn muted_for(&self, name: &str) -> Option<Duration> {
        self.lock().mutes.left(name)
    }

    /// The rooms where `name` is, on any server; an error if none (or not `room`).
    fn target_rooms(&self, name: &str, room: Option<&str>) -> Result<BTreeSet<String>, String> {
        let mut rooms: BTreeSet<String> = {
            let state = self.lock();
            state
                .members
                .iter()
                .filter(|(id, m)| m.name(**id) == name)
                .map(|(_, m)| m.room.clone())
                .collect()
        };
        if let Some(cluster) = &self.cluster {
            rooms.extend(cluster.rooms_of(name));
        }
        match room {
            Some(room) if !rooms.contains(room) => Err(format!("No [{name}] in {room}")),
            _ if rooms.is_empty() => Err(format!("No [{name}] here")),
            _ => Ok(rooms),
        }
    }

    /// The name of `id` if it is a moderator, else why not.
    fn moderator_name(&self, id: ClientId) -> Result<String, String> {
        let state = self.lock();
        match state.members.get(&id) {
            Some(m) if m.moderator => Ok(m.name(id)),
            _ => Err("Only moderators may do that".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutes_expire_and_lift() {
        let mut mutes = Mutes::default();
        mutes.set("bob", unix_now() + 120);
        assert!(mutes.left("bob").is_some_and(|d| d.as_secs() > 60));
        mutes.set("bob", 0);
        assert_eq!(mutes.left("bob"), None);
        mutes.set("eve", unix_now().saturating_sub(1));
        assert_eq!(mutes.left("eve"), None);
        let act = Act::Mute {
            name: "bob".into(),
            by: "mo".into(),
            until: 5,
        };
        let json = serde_json::to_string(&act).unwrap();
        assert_eq!(json, r#"{"act":"mute","name":"bob","by":"mo","until":5}"#);
        assert_eq!(serde_json::from_str::<Act>(&json).unwrap(), act);
    }
}
