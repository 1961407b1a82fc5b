//! Moderation: `/kick` and `/mute` by moderators.

use std::{collections::BTreeSet, time::Instant};

use super::{ClientId, Hub, Member};
use crate::{
    config::{CLOSE_KICKED, MAX_MUTE_MINUTES},
    metrics::Metrics,
};

impl Hub {
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
            self.publish(self.kept_line(&room, None, format!("[{name}] was {reason}")));
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
            self.publish(self.kept_line(&room, None, text.clone()));
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
}
