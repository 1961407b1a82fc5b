//! One soak client's life: join its room, say lines at a random low rate,
//! drop (abruptly or politely) at random times, come back after a pause with a
//! resume after the last id it got, and at the end say a last line (its
//! "fin") and read until every other member's fin has come.
//!
//! The fins end the run without a clock: a member's lines all go before its
//! fin on one connection, so once a member has every other fin it has had
//! every line of the room that it should (none is still on its way), and the
//! newest fin is the room's end.

use std::{
    collections::HashSet,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use tokio::time::{Instant, sleep, sleep_until, timeout};
use wspeer_core::Message;

use super::{
    Shared,
    check::{Member, Receipt},
    conn::{Conn, Frame, Said},
    rng::Rng,
};

/// What one client did, as counts (summed over clients for the report).
#[derive(Debug, Default, Clone)]
pub struct ClientStats {
    /// Lines it sent (its fins included).
    pub sent: u64,
    /// Room lines it received.
    pub deliveries: u64,
    /// Connections it ended without a close frame.
    pub abrupt_drops: u64,
    /// Connections it ended with a close handshake.
    pub polite_closes: u64,
    /// Connections that resumed after an id.
    pub resumes: u64,
    /// Reconnections with nothing to resume after (it had got no line yet).
    pub fresh_rejoins: u64,
    /// Lines a resumed connection brought that were said before it opened.
    pub recovered: u64,
    /// Lines a plain join brought from the room's history.
    pub history_on_join: u64,
    /// Gap notices received.
    pub gaps: u64,
    /// Connections the server closed (too slow, over the rate, …).
    pub server_closes: u64,
    /// Connection attempts that failed (then retried).
    pub connect_failures: u64,
    /// Frames that were not the chat's JSON, or room lines not from the soak.
    pub strange_frames: u64,
    /// Whether it got every other member's fin before the deadline.
    pub finished: bool,
}

impl ClientStats {
    /// Adds another client's counts.
    pub fn add(&mut self, o: &ClientStats) {
        self.sent += o.sent;
        self.deliveries += o.deliveries;
        self.abrupt_drops += o.abrupt_drops;
        self.polite_closes += o.polite_closes;
        self.resumes += o.resumes;
        self.fresh_rejoins += o.fresh_rejoins;
        self.recovered += o.recovered;
        self.history_on_join += o.history_on_join;
        self.gaps += o.gaps;
        self.server_closes += o.server_closes;
        self.connect_failures += o.connect_failures;
        self.strange_frames += o.strange_frames;
    }
}

/// Latencies kept locally before they go into the shared histogram.
const LATENCY_BATCH: usize = 256;

/// How a connection ended.
enum End {
    /// Every other fin arrived: the client is done.
    Done,
    /// Its time to drop came.
    Drop,
    /// The server closed it.
    ClosedByServer,
    /// The drain deadline passed.
    Timeout,
}

/// The connection's part of a client's state.
struct Live {
    /// Microseconds from the run's start to when this connection was opened.
    opened_us: u64,
    resumed: bool,
    welcomed: bool,
}

/// Everything one client keeps across its connections.
struct Client {
    shared: Arc<Shared>,
    index: usize,
    room: usize,
    member: Member,
    stats: ClientStats,
    rng: Rng,
    seq: u32,
    fins: HashSet<u32>,
    fins_due: usize,
    latencies: Vec<u64>,
}

/// Runs client `index` to the end; returns its member record and counts.
pub(crate) async fn run(shared: Arc<Shared>, index: usize) -> (Member, ClientStats) {
    let room = index % shared.config.rooms;
    let mut client = Client {
        member: Member::new(index as u32),
        stats: ClientStats::default(),
        rng: Rng::new(shared.config.seed, index as u64),
        seq: 0,
        fins: HashSet::new(),
        fins_due: shared.room_sizes[room] - 1,
        latencies: Vec::with_capacity(LATENCY_BATCH),
        shared,
        index,
        room,
    };
    client.life().await;
    client.flush_latencies();
    (client.member, client.stats)
}

impl Client {
    async fn life(&mut self) {
        let shared = self.shared.clone();
        let room = super::room_name(self.room);
        let mut connections = 0;
        while Instant::now() < shared.deadline {
            let after = self.member.last();
            // Each reconnection goes to the next server: resumes cross servers.
            let addr = shared.addrs[(self.index + connections) % shared.addrs.len()];
            let opened_us = shared.now_us();
            let permit = shared.connecting.acquire().await;
            let opened = timeout(
                Duration::from_secs(10),
                Conn::open(addr, &room, after, shared.ws_config.clone()),
            )
            .await;
            drop(permit);
            let Ok(Ok(mut conn)) = opened else {
                self.stats.connect_failures += 1;
                sleep(Duration::from_millis(200)).await;
                continue;
            };
            connections += 1;
            self.member.connected(after);
            if connections > 1 {
                match after {
                    Some(_) => self.stats.resumes += 1,
                    None => self.stats.fresh_rejoins += 1,
                }
            }
            let mut live = Live {
                opened_us,
                resumed: after.is_some(),
                welcomed: false,
            };
            match self.connection(&mut conn, &mut live).await {
                End::Done => {
                    self.stats.finished = true;
                    conn.close_politely().await;
                    return;
                }
                End::Timeout => {
                    conn.close_politely().await;
                    return;
                }
                End::ClosedByServer => {
                    let status = conn.ws.close_status();
                    eprintln!(
                        "  client {}: closed by the server: {} {}",
                        self.index, status.code, status.reason
                    );
                    self.stats.server_closes += 1;
                    self.member.dropped_abruptly();
                    // Not at once: a server that closes every attempt is not hammered.
                    sleep(shared.config.away_max).await;
                }
                End::Drop => {
                    if self.rng.unit() < 0.5 {
                        self.stats.abrupt_drops += 1;
                        self.member.dropped_abruptly();
                        conn.drop_abruptly();
                    } else {
                        self.stats.polite_closes += 1;
                        conn.close_politely().await;
                    }
                    // Away for a while, unless the run is ending.
                    let away = shared.config.away_max.mul_f64(self.rng.unit());
                    tokio::select! {
                        _ = sleep(away) => {}
                        _ = sleep_until(shared.run_end) => {}
                    }
                }
            }
        }
    }

    /// Serves one connection until it ends.
    async fn connection(&mut self, conn: &mut Conn, live: &mut Live) -> End {
        let shared = self.shared.clone();
        let config = &shared.config;
        let between_lines = Duration::from_secs_f64(1.0 / config.line_rate);
        // The server closes a client over its rate: never send faster.
        let shortest = Duration::from_secs_f64(1.5 / config.server_rate);
        let mut next_line = Instant::now() + self.rng.exp(between_lines).max(shortest);
        let next_drop = Instant::now() + self.rng.exp(config.between_drops());
        let mut fin_sent = false;
        loop {
            let draining = Instant::now() >= shared.run_end;
            if live.welcomed && draining && !fin_sent {
                self.say(conn, true);
                fin_sent = true;
            }
            if fin_sent && self.fins.len() >= self.fins_due {
                return End::Done;
            }
            tokio::select! {
                biased;
                message = conn.ws.recv() => match message {
                    Some(message) => self.on_message(&message, live),
                    None => return End::ClosedByServer,
                },
                _ = sleep_until(next_line), if live.welcomed && !draining => {
                    self.say(conn, false);
                    next_line = Instant::now() + self.rng.exp(between_lines).max(shortest);
                }
                _ = sleep_until(next_drop), if live.welcomed && !draining
                    && config.disconnect_rate > 0.0 => return End::Drop,
                _ = sleep_until(shared.run_end), if !draining => {}
                _ = sleep_until(shared.deadline) => return End::Timeout,
            }
        }
    }

    /// Says the next line (the fin if `fin`).
    fn say(&mut self, conn: &Conn, fin: bool) {
        let token = self.member.sent(self.seq);
        self.seq += 1;
        let said = Said {
            token,
            sent_us: self.shared.now_us(),
            fin,
        };
        self.stats.sent += 1;
        // A full queue would mean the server stopped reading: the checker
        // then finds the line lost (it was counted as sent).
        let _ = conn.ws.try_send(Message::text(said.text()));
    }

    fn on_message(&mut self, message: &Message, live: &mut Live) {
        let frame = match Frame::parse(message) {
            Ok(frame) => frame,
            Err(_) => {
                self.stats.strange_frames += 1;
                return;
            }
        };
        let (id, said) = match frame {
            Frame::Welcome => {
                live.welcomed = true;
                return;
            }
            Frame::Gap => {
                self.stats.gaps += 1;
                return;
            }
            Frame::Other => return,
            Frame::Line { said: None, .. } => {
                self.stats.strange_frames += 1;
                return;
            }
            Frame::Line {
                id,
                said: Some(said),
            } => (id, said),
        };
        let now_us = self.shared.now_us();
        self.stats.deliveries += 1;
        if now_us <= self.shared.run_end_us {
            self.shared.in_window.fetch_add(1, Relaxed);
        }
        if let Ok(mut ledger) = self.shared.ledgers[self.room].lock() {
            ledger.observe(id, said.token, said.fin);
        }
        let receipt = self.member.received(id, said.token);
        if said.fin {
            self.fins.insert(said.token.client);
        }
        if receipt != Receipt::New {
            return;
        }
        if said.sent_us >= live.opened_us {
            self.latencies
                .push(now_us.saturating_sub(said.sent_us).max(1));
            if self.latencies.len() == LATENCY_BATCH {
                self.flush_latencies();
            }
        } else if live.resumed {
            self.stats.recovered += 1;
        } else {
            self.stats.history_on_join += 1;
        }
    }

    fn flush_latencies(&mut self) {
        if let Ok(mut histogram) = self.shared.latency.lock() {
            for &us in &self.latencies {
                histogram.saturating_record(us);
            }
        }
        self.latencies.clear();
    }
}
