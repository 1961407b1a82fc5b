//! Lines through Redis: a kept line gets the next id of its room, goes into
//! the room's history and out on the channel in one script, so ids reach
//! every server in the order they were given (two servers numbering and then
//! publishing separately could deliver 6 before 5); and a room's history is
//! read with its counter in one transaction, for a joining or resuming member.

use super::{Failure, Link, op};
use crate::{
    cluster::wire::{CHANNEL, WireLine, history_key, line_id_key},
    history::{self, Kept, LineId},
    hub::RoomLine,
    metrics::Metrics,
};

/// KEYS: the room's counter and history; ARGV: the counter's seed, the
/// history length, the channel, the line's JSON. Returns the id. `%.0f`
/// prints the id exactly (Lua's default `%.14g` would round it).
const PUBLISH_KEPT: &str = r"
redis.call('SETNX', KEYS[1], ARGV[1])
local id = redis.call('INCR', KEYS[1])
local entry = string.format('%.0f', id) .. ' ' .. ARGV[4]
local keep = tonumber(ARGV[2])
if keep > 0 then
  redis.call('LPUSH', KEYS[2], entry)
  redis.call('LTRIM', KEYS[2], 0, keep - 1)
end
redis.call('PUBLISH', ARGV[3], entry)
return id
";

impl Link<'_> {
    /// Publishes `line` to every server (numbered and kept if it is a kept
    /// room line).
    pub(super) async fn publish(&mut self, line: &RoomLine) -> Result<(), Failure> {
        let origin = &self.cluster.server_id;
        let sent = match (&line.room, line.keep) {
            (Some(room), true) => {
                let mut script = redis::cmd("EVAL");
                script
                    .arg(PUBLISH_KEPT)
                    .arg(2)
                    .arg(line_id_key(room))
                    .arg(history_key(room))
                    .arg(history::seed())
                    .arg(self.hub.history_len())
                    .arg(CHANNEL)
                    .arg(WireLine::encode(origin, line));
                op("publish kept", script.query_async::<LineId>(&mut self.conn))
                    .await
                    .map(drop)
            }
            _ => {
                let payload = WireLine::unnumbered(origin, line);
                let mut publish = redis::cmd("PUBLISH");
                publish.arg(CHANNEL).arg(payload);
                op("publish", publish.query_async::<()>(&mut self.conn)).await
            }
        };
        if sent.is_ok() {
            Metrics::inc(&self.metrics.cluster_published);
        }
        sent
    }

    /// The kept lines of `room` oldest first, and its newest id (0 if the room
    /// never had a line).
    pub(super) async fn history(&mut self, room: &str) -> Result<(Vec<Kept>, LineId), Failure> {
        let keep = self.hub.history_len();
        let mut pipe = redis::pipe();
        pipe.atomic();
        if keep > 0 {
            pipe.lrange(history_key(room), 0, keep as isize - 1);
        } else {
            // An empty list, so the reply has the same shape.
            pipe.lrange(history_key(room), 1, 0);
        }
        pipe.get(line_id_key(room));
        let (entries, last): (Vec<Vec<u8>>, Option<String>) =
            op("history", pipe.query_async(&mut self.conn)).await?;
        let mut lines: Vec<Kept> = entries
            .iter()
            .filter_map(|entry| WireLine::decode(entry))
            .filter_map(|line| {
                Some(Kept {
                    id: line.id?,
                    text: line.text,
                })
            })
            .collect();
        lines.reverse();
        let last = last.and_then(|l| l.parse().ok()).unwrap_or(0);
        Ok((lines, last))
    }
}
