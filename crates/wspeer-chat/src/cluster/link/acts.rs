//! Moderation through Redis: acts go out on the channel to every server, and
//! a mute is also stored under its name with an expiry, so a server that
//! (re)connects, or starts, reads every mute still running.

use tracing::{info, warn};

use super::{Failure, Link, op};
use crate::{
    cluster::wire::{CHANNEL, MUTES, WireAct, mute_key},
    hub::{Act, unix_now},
};

/// Most mutes read when connecting (a bound on what a full Redis costs).
const MAX_LOADED: usize = 100_000;

impl Link<'_> {
    /// Sends an act decided here to the other servers, storing a mute.
    pub(super) async fn send_act(&mut self, act: &Act) -> Result<(), Failure> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Act::Mute { name, until, .. } = act {
            let left = until.saturating_sub(unix_now());
            if left > 0 {
                pipe.set_ex(mute_key(name), until, left).ignore();
            } else {
                pipe.del(mute_key(name)).ignore();
            }
        }
        pipe.publish(CHANNEL, WireAct::encode(&self.cluster.server_id, act))
            .ignore();
        op("moderation", pipe.query_async::<()>(&mut self.conn)).await
    }

    /// An act from the channel: applied unless this server decided it.
    pub(super) fn act_arrived(&self, payload: &[u8]) -> bool {
        let Some(wire) = WireAct::decode(payload) else {
            return false;
        };
        if wire.origin != self.cluster.server_id {
            info!(act = ?wire.act, from = %wire.origin, "moderation from the cluster");
            self.hub.apply(&wire.act);
        }
        true
    }

    /// Reads every mute still running (after connecting).
    pub(super) async fn load_mutes(&mut self) -> Result<(), Failure> {
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(MUTES)
                .arg("COUNT")
                .arg(1000);
            let (next, found): (u64, Vec<String>) =
                op("mutes", scan.query_async(&mut self.conn)).await?;
            keys.extend(found);
            cursor = next;
            if cursor == 0 || keys.len() >= MAX_LOADED {
                break;
            }
        }
        for chunk in keys.chunks(1000) {
            let untils: Vec<Option<u64>> = op(
                "mutes",
                redis::cmd("MGET").arg(chunk).query_async(&mut self.conn),
            )
            .await?;
            for (key, until) in chunk.iter().zip(untils) {
                let name = key.strip_prefix(&MUTES[..MUTES.len() - 1]).unwrap_or(key);
                match until {
                    Some(until) => self.hub.apply(&Act::Mute {
                        name: name.to_owned(),
                        by: String::new(),
                        until,
                    }),
                    None => warn!(key, "a mute expired while it was read"),
                }
            }
        }
        Ok(())
    }
}
