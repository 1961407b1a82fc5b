//! Presence and ids: every refresh writes this server's members to Redis with an
//! expiry, reads every other server's, tells rooms about servers whose presence
//! expired, and draws ids ahead in batches.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
};

use tokio::time::Instant;
use tracing::warn;

use super::{Failure, Link, op};
use crate::{
    cluster::{
        ID_BATCH, PRESENCE_TTL,
        wire::{IDS, Present, SERVERS, presence_key},
    },
    hub::RoomLine,
};

impl Link<'_> {
    /// Writes this server's presence, reads everyone else's, draws ids ahead.
    pub(super) async fn refresh(
        &mut self,
        last: &mut Instant,
        dirty: &mut bool,
    ) -> Result<(), Failure> {
        *last = Instant::now();
        *dirty = false;
        op("ping pub/sub", self.sink.ping::<redis::Value>()).await?;
        let own = serde_json::to_string(&self.hub.presence()).unwrap_or_default();
        let me = &self.cluster.server_id;
        let mut pipe = redis::pipe();
        pipe.set_ex(presence_key(me), own, PRESENCE_TTL.as_secs())
            .ignore()
            .sadd(SERVERS, me)
            .ignore();
        op("presence", pipe.query_async::<()>(&mut self.conn)).await?;

        let servers: Vec<String> = op(
            "servers",
            redis::cmd("SMEMBERS")
                .arg(SERVERS)
                .query_async(&mut self.conn),
        )
        .await?;
        let others: Vec<&String> = servers.iter().filter(|s| *s != me).collect();
        let mut remote: HashMap<String, Vec<String>> = HashMap::new();
        if !others.is_empty() {
            let keys: Vec<String> = others.iter().map(|s| presence_key(s)).collect();
            let records: Vec<Option<String>> = op(
                "presence of others",
                redis::cmd("MGET").arg(&keys).query_async(&mut self.conn),
            )
            .await?;
            for (server, record) in others.iter().zip(records) {
                let Some(record) = record else {
                    // Expired: that server stopped refreshing (crashed, or cut off
                    // from Redis). Whoever removes it tells the rooms its members left.
                    let mut srem = redis::cmd("SREM");
                    srem.arg(SERVERS).arg(*server);
                    let removed: u64 =
                        op("forget server", srem.query_async(&mut self.conn)).await?;
                    let members = self.known.remove(*server).unwrap_or_default();
                    if removed == 1 {
                        warn!(server = %server, members = members.len(), "a server's presence expired; its members left");
                        for member in members {
                            self.hub.publish(RoomLine {
                                id: None,
                                room: Some(member.room),
                                except: None,
                                text: format!("[{}] disconnected", member.name),
                                keep: false,
                            });
                        }
                    }
                    continue;
                };
                let members: Vec<Present> = serde_json::from_str(&record).unwrap_or_default();
                for member in &members {
                    remote
                        .entry(member.room.clone())
                        .or_default()
                        .push(member.name.clone());
                }
                self.known.insert((*server).clone(), members);
            }
        }
        self.cluster.set_remote(remote);

        if self.cluster.ids_left() < (ID_BATCH / 4) as usize {
            // A counter Redis lost (restarted without persistence) starts again
            // somewhere random, not at the ids still in use.
            let start = RandomState::new().hash_one(&self.cluster.server_id) % (1 << 29);
            let mut pipe = redis::pipe();
            pipe.cmd("SET")
                .arg(IDS)
                .arg(start)
                .arg("NX")
                .ignore()
                .cmd("INCRBY")
                .arg(IDS)
                .arg(ID_BATCH);
            let (last,): (u64,) = op("draw ids", pipe.query_async(&mut self.conn)).await?;
            self.cluster.add_ids(last);
        }
        Ok(())
    }
}
