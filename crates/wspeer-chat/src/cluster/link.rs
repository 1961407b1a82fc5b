//! The one task that talks to Redis: connects and subscribes, publishes queued
//! lines, delivers what arrives, keeps presence and ids fresh, and on any error
//! goes degraded (local delivery) and reconnects with backoff.

use std::{collections::HashMap, sync::Arc, sync::atomic::Ordering::Relaxed, time::Duration};

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::{sync::mpsc, time::Instant};
use tracing::{debug, info, warn};

use super::{
    Cluster, Outbound, REFRESH,
    wire::{CHANNEL, Present, SERVERS, WireLine, presence_key},
};
use crate::{hub::Hub, metrics::Metrics};

/// The longest any one Redis operation may take before the link counts as down.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));
/// The shortest time between two presence refreshes.
const MIN_GAP: Duration = Duration::from_millis(200);

mod acts;
mod lines;
mod presence;

type Failure = String;

async fn op<T>(
    what: &str,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(OP_TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out")),
    }
}

/// Runs the link until the queue closes; `Server::run` aborts it when it ends.
pub(crate) async fn run(cluster: Arc<Cluster>, hub: Arc<Hub>, metrics: Arc<Metrics>) {
    let Some(mut queue) = cluster.take_queue() else {
        warn!("the Redis link already runs for this server");
        return;
    };
    let mut backoff = BACKOFF.0;
    let mut was_up = true; // so the first failure is logged
    loop {
        let failure = match connect(&cluster).await {
            Ok((conn, sink, stream)) => {
                backoff = BACKOFF.0;
                info!(url = %cluster.url, server = %cluster.server_id, "redis connected: cluster delivery on");
                cluster.set_up(true);
                metrics.redis_connected.store(1, Relaxed);
                was_up = true;
                let mut link = Link {
                    cluster: &cluster,
                    hub: &hub,
                    metrics: &metrics,
                    conn,
                    sink,
                    known: HashMap::new(),
                };
                // Subscribed first, so no mute decided meanwhile is missed.
                let failure = match link.load_mutes().await {
                    Ok(()) => link.serve(stream, &mut queue).await,
                    Err(failure) => Some(failure),
                };
                cluster.set_up(false);
                metrics.redis_connected.store(0, Relaxed);
                match failure {
                    Some(failure) => failure,
                    None => return,
                }
            }
            Err(failure) => failure,
        };
        if was_up {
            warn!(error = %failure, "degraded: redis unreachable; delivering locally and reconnecting");
        } else {
            debug!(error = %failure, ?backoff, "redis still unreachable");
        }
        was_up = false;
        // Whatever was queued before going down is delivered here, locally.
        let wait = tokio::time::sleep(backoff);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                work = queue.recv() => match work {
                    Some(work) => locally(&hub, work),
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

/// Does `work` without Redis.
fn locally(hub: &Hub, work: Outbound) {
    match work {
        Outbound::Line(line) => hub.deliver(&line),
        Outbound::Replay { id, room, after } => hub.replay_local(id, &room, after),
        Outbound::Act(_) => {} // applied here already; the others cannot hear
        Outbound::Flush(done) => {
            let _ = done.send(());
        }
    }
}

type Connected = (MultiplexedConnection, PubSubSink, PubSubStream);

async fn connect(cluster: &Cluster) -> Result<Connected, Failure> {
    let client = redis::Client::open(cluster.url.as_str()).map_err(|e| e.to_string())?;
    let conn = op("connect", client.get_multiplexed_async_connection()).await?;
    let pubsub = op("connect pub/sub", client.get_async_pubsub()).await?;
    let (mut sink, stream) = pubsub.split();
    op("subscribe", sink.subscribe(CHANNEL)).await?;
    Ok((conn, sink, stream))
}

struct Link<'a> {
    cluster: &'a Cluster,
    hub: &'a Hub,
    metrics: &'a Metrics,
    conn: MultiplexedConnection,
    /// The subscribed connection's commands side (pinged on every refresh, so a
    /// silently dead subscription is noticed).
    sink: PubSubSink,
    /// The other servers' members at the last refresh, by server.
    known: HashMap<String, Vec<Present>>,
}

impl Link<'_> {
    /// Serves until Redis fails (`Some(why)`) or the queue closes (`None`).
    async fn serve(
        &mut self,
        mut stream: PubSubStream,
        queue: &mut mpsc::Receiver<Outbound>,
    ) -> Option<Failure> {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A change (join, leave, nick, room) refreshes presence soon, but at most
        // every MIN_GAP, so a storm of joins does not hold up the lines.
        let mut last = Instant::now();
        let mut dirty = false;
        loop {
            let soon = tokio::time::sleep_until(last + MIN_GAP);
            let result = tokio::select! {
                message = stream.next() => match message {
                    Some(message) => {
                        self.arrived(message.get_payload_bytes());
                        Ok(())
                    }
                    None => Err("pub/sub connection closed".to_owned()),
                },
                work = queue.recv() => match work {
                    Some(work) => self.work(work).await,
                    None => return None,
                },
                _ = tick.tick() => self.refresh(&mut last, &mut dirty).await,
                () = self.cluster.wake.notified(), if !dirty => {
                    dirty = true;
                    Ok(())
                }
                () = soon, if dirty => self.refresh(&mut last, &mut dirty).await,
            };
            if let Err(failure) = result {
                return Some(failure);
            }
        }
    }

    fn arrived(&self, payload: &[u8]) {
        if self.act_arrived(payload) {
            return;
        }
        match WireLine::decode(payload) {
            Some(line) => {
                Metrics::inc(&self.metrics.cluster_received);
                self.hub.deliver(&line);
            }
            None => warn!(
                bytes = payload.len(),
                "malformed line on the cluster channel; ignored"
            ),
        }
    }

    async fn work(&mut self, work: Outbound) -> Result<(), Failure> {
        match work {
            Outbound::Line(line) => {
                let sent = self.publish(&line).await;
                if sent.is_err() {
                    // It may or may not have gone out; the sender's room gets it here.
                    self.hub.deliver(&line);
                }
                sent
            }
            Outbound::Replay { id, room, after } => match self.history(&room).await {
                Ok((lines, last)) => {
                    self.hub.finish_replay(id, &room, after, lines, last);
                    Ok(())
                }
                Err(failure) => {
                    self.hub.replay_local(id, &room, after);
                    Err(failure)
                }
            },
            Outbound::Act(act) => self.send_act(&act).await,
            Outbound::Flush(done) => {
                let mut pipe = redis::pipe();
                pipe.del(presence_key(&self.cluster.server_id))
                    .ignore()
                    .srem(SERVERS, &self.cluster.server_id)
                    .ignore();
                let result = op("leave", pipe.query_async::<()>(&mut self.conn)).await;
                let _ = done.send(());
                result
            }
        }
    }
}
