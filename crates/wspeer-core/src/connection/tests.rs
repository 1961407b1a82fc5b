//! The machine on a virtual clock: no socket, no runtime, no sleep. Each test
//! is a row of the close and limits tables of `docs/architecture.md`.

use std::{
    collections::VecDeque,
    io::IoSlice,
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::*;
use crate::{
    codec::{
        decoder::{Decoder, Event},
        writer::{MAX_SLICES, with_staging},
    },
    shared::Taken,
};

/// permessage-deflate through the machine.
mod deflate;

const BUDGET: usize = 64;
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A server connection with a simulated application and socket around it.
struct Sim {
    conn: Connection,
    now: Instant,
    /// The application's inbound queue, and how many messages fit in it.
    inbox: VecDeque<Message>,
    room: usize,
    /// The application's outbound queue.
    outbox: VecDeque<Message>,
    /// Most bytes the socket takes per write (`usize::MAX`: all).
    socket_takes: usize,
    /// Everything the socket took, decoded by a client.
    wire: Vec<u8>,
    peer_closed: bool,
    /// permessage-deflate, as agreed in the handshake.
    compression: Option<DeflateParams>,
}

impl Sim {
    fn new(config: Config) -> Self {
        Self::compressed(config, None)
    }

    fn compressed(config: Config, compression: Option<DeflateParams>) -> Self {
        let now = Instant::now();
        Self {
            conn: Connection::new(
                Role::Server,
                &config,
                Bytes::new(),
                compression.as_ref(),
                now,
            ),
            now,
            inbox: VecDeque::new(),
            room: usize::MAX,
            outbox: VecDeque::new(),
            socket_takes: usize::MAX,
            wire: Vec::new(),
            peer_closed: false,
            compression,
        }
    }

    fn deliver(
        inbox: &mut VecDeque<Message>,
        room: usize,
    ) -> impl FnMut(Message) -> Result<(), Message> + '_ {
        move |message| {
            if inbox.len() < room {
                inbox.push_back(message);
                Ok(())
            } else {
                Err(message)
            }
        }
    }

    /// One read from the socket.
    fn feed(&mut self, bytes: &[u8]) -> Received {
        let mut deliver = Self::deliver(&mut self.inbox, self.room);
        let got = self.conn.receive(bytes, BUDGET, &mut deliver);
        self.peer_closed |= got.peer_closed;
        got
    }

    /// The application took every message: the machine goes on.
    fn app_reads(&mut self) -> Vec<Message> {
        let taken: Vec<Message> = self.inbox.drain(..).collect();
        self.resume();
        taken
    }

    fn resume(&mut self) -> Received {
        let mut deliver = Self::deliver(&mut self.inbox, self.room);
        let got = self.conn.resume(BUDGET, &mut deliver);
        self.peer_closed |= got.peer_closed;
        got
    }

    fn send(&mut self, text: &str) {
        self.outbox.push_back(Message::text(text));
    }

    /// What the driver does: backlog, then batches while something is due.
    fn transmit(&mut self) {
        loop {
            while !self.conn.backlog().is_empty() {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let count = self.conn.backlog().slices(&mut slices);
                let written = take(&mut self.wire, &slices[..count], self.socket_takes);
                if written == 0 {
                    return;
                }
                self.conn.backlog_written(written);
            }
            if !self.conn.wants_to_stage(!self.outbox.is_empty()) {
                break;
            }
            let outbox = &mut self.outbox;
            let conn = &mut self.conn;
            let wire = &mut self.wire;
            let takes = self.socket_takes;
            let queue_empty = with_staging(|staging| {
                let mut messages: Vec<Message> = outbox.drain(..).collect();
                let taken = Taken {
                    count: messages.len(),
                    bytes: messages.iter().map(Message::len).sum(),
                    queue_empty: true,
                };
                conn.stage(staging, false, &mut messages, taken);
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let count = staging.slices(0, &mut slices);
                let written = take(wire, &slices[..count], takes);
                conn.staged_written(staging, written);
                taken.queue_empty
            });
            if queue_empty {
                break;
            }
        }
        if self.conn.backlog().is_empty() && self.conn.needs_flush() {
            self.conn.flushed();
        }
    }

    /// The frames the peer has received so far.
    fn peer_got(&self) -> Vec<Event> {
        let mut decoder =
            Decoder::with_compression(Role::Client, 1 << 20, self.compression.as_ref());
        let mut input = &self.wire[..];
        let mut events = Vec::new();
        while let Some(event) = decoder.decode(&mut input).expect("valid frames") {
            events.push(event);
        }
        events
    }

    fn advance(&mut self, by: Duration) -> Option<End> {
        self.now += by;
        self.conn.handle_timeout(self.now)
    }

    fn end(&self) -> Option<End> {
        self.conn.poll_end(|| true)
    }
}

/// A socket that takes at most `limit` bytes of `slices`.
fn take(wire: &mut Vec<u8>, slices: &[IoSlice<'_>], limit: usize) -> usize {
    let mut budget = limit;
    for slice in slices {
        let n = slice.len().min(budget);
        wire.extend_from_slice(&slice[..n]);
        budget -= n;
    }
    limit - budget
}

/// A masked frame, as a client sends it.
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=65535 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

fn text(s: &str) -> Vec<u8> {
    frame(0x1, true, s.as_bytes())
}

fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    frame(0x8, true, &payload)
}

fn status(code: i32, reason: &str) -> CloseStatus {
    CloseStatus {
        code,
        reason: reason.to_owned(),
    }
}

fn msg(s: &str) -> Event {
    Event::Message(Message::text(s))
}

fn close_event(code: u16, reason: &str) -> Event {
    Event::Close(Some((code, reason.to_owned())))
}

fn config() -> Config {
    Config::default().close_timeout(CLOSE_TIMEOUT)
}

#[test]
fn our_close_follows_the_queued_messages_and_the_peer_may_still_send() {
    let mut sim = Sim::new(config());
    sim.send("a");
    sim.send("b");
    sim.conn.request_close(1000, "done");
    sim.transmit();
    assert_eq!(
        sim.peer_got(),
        [msg("a"), msg("b"), close_event(1000, "done")]
    );
    assert_eq!(sim.end(), None, "not before the peer's close");
    // The peer's messages sent before it saw our close still arrive.
    let mut input = text("late");
    input.extend(close(1000, "ok"));
    sim.feed(&input);
    assert_eq!(sim.app_reads(), [Message::text("late")]);
    assert!(sim.peer_closed);
    sim.transmit();
    assert_eq!(sim.peer_got().len(), 3, "no second close frame");
    assert_eq!(sim.end(), Some(End::Clean(status(1000, "ok"))));
}

#[test]
fn the_peers_close_is_echoed_after_what_was_accepted_before_it() {
    let mut sim = Sim::new(config());
    sim.send("queued");
    let mut input = text("hi");
    input.extend(close(4001, "bye"));
    let got = sim.feed(&input);
    assert!(got.peer_closed);
    assert_eq!(sim.app_reads(), [Message::text("hi")]);
    // A reply to the message that came with the close is still accepted
    // (the driver refuses sends only once it saw `peer_closed`).
    sim.send("reply");
    sim.transmit();
    assert_eq!(
        sim.peer_got(),
        [msg("queued"), msg("reply"), close_event(4001, "bye")]
    );
    assert_eq!(sim.end(), Some(End::Clean(status(4001, "bye"))));
}

#[test]
fn a_close_without_a_code_is_1005_and_echoed_empty() {
    let mut sim = Sim::new(config());
    sim.feed(&frame(0x8, true, &[]));
    sim.transmit();
    assert_eq!(sim.peer_got(), [Event::Close(None)]);
    assert_eq!(sim.end(), Some(End::Clean(status(1005, ""))));
}

#[test]
fn the_peers_close_replaces_a_close_we_have_not_sent() {
    let mut sim = Sim::new(config());
    sim.socket_takes = 0;
    sim.send("x");
    sim.transmit(); // "x" waits in the backlog; our close is not staged yet
    sim.conn.request_close(1000, "");
    sim.feed(&close(1001, "away"));
    sim.socket_takes = usize::MAX;
    sim.transmit();
    assert_eq!(sim.peer_got(), [msg("x"), close_event(1001, "away")]);
}

#[test]
fn a_close_behind_a_full_queue_waits_and_nothing_is_lost() {
    let mut sim = Sim::new(config());
    sim.room = 1;
    let mut input = text("1");
    input.extend(text("2"));
    input.extend(text("3"));
    input.extend(close(1000, ""));
    sim.feed(&input);
    assert!(!sim.conn.reading(), "the queue is full: no more reads");
    assert!(!sim.peer_closed, "the close is behind the held message");
    let mut all = Vec::new();
    for _ in 0..3 {
        all.extend(sim.app_reads());
    }
    assert_eq!(
        all,
        [Message::text("1"), Message::text("2"), Message::text("3")]
    );
    assert!(sim.peer_closed);
}

#[test]
fn every_split_of_the_input_gives_the_same_events() {
    let mut input = text("héllo");
    input.extend(frame(0x9, true, b"p"));
    input.extend(frame(0x2, false, &[1; 200]));
    input.extend(frame(0x0, true, &[2; 3]));
    input.extend(close(1000, "end"));
    input.extend(text("after the close: ignored"));
    let run = |step: usize| {
        let mut sim = Sim::new(config());
        for chunk in input.chunks(step) {
            if !sim.conn.reading() {
                break;
            }
            sim.feed(chunk);
        }
        sim.transmit();
        (sim.app_reads(), sim.peer_got(), sim.end())
    };
    let whole = run(input.len());
    let mut binary = vec![1; 200];
    binary.extend([2; 3]);
    assert_eq!(whole.0, [Message::text("héllo"), Message::binary(binary)]);
    assert_eq!(
        whole.1,
        [Event::Pong, close_event(1000, "end")],
        "the ping is answered, the close echoed"
    );
    assert_eq!(whole.2, Some(End::Clean(status(1000, "end"))));
    for step in 1..input.len() {
        assert_eq!(run(step), whole, "split every {step} bytes");
    }
}

#[test]
fn the_close_timeout_ends_a_handshake_the_peer_never_answers() {
    let mut sim = Sim::new(config());
    assert!(!sim.conn.wants_clock(), "open, no heartbeat: no clock read");
    sim.conn.request_close(1000, "");
    sim.transmit();
    assert!(sim.conn.wants_clock());
    // The timeout runs from the first look at the clock after the request.
    assert_eq!(sim.advance(Duration::ZERO), None);
    assert_eq!(sim.conn.poll_timeout(), Some(sim.now + CLOSE_TIMEOUT));
    assert_eq!(sim.advance(CLOSE_TIMEOUT - Duration::from_millis(1)), None);
    assert_eq!(
        sim.advance(Duration::from_millis(1)),
        Some(End::Abrupt(CloseStatus::unclean()))
    );
}

#[test]
fn a_timeout_after_the_peers_close_keeps_its_code() {
    let mut sim = Sim::new(config());
    sim.socket_takes = 0; // our echo never gets out
    sim.feed(&close(4000, "mine"));
    assert_eq!(sim.advance(Duration::ZERO), None, "the timer starts");
    sim.transmit();
    assert_eq!(sim.end(), None);
    assert_eq!(
        sim.advance(CLOSE_TIMEOUT),
        Some(End::Abrupt(status(4000, "mine")))
    );
}

#[test]
fn the_stream_ending_is_clean_only_after_the_peers_close() {
    let sim = Sim::new(config());
    assert_eq!(
        sim.conn.end_of_stream(),
        End::Abrupt(CloseStatus::unclean())
    );
    let mut sim = Sim::new(config());
    sim.feed(&close(1000, ""));
    assert_eq!(sim.conn.end_of_stream(), End::Clean(status(1000, "")));
}

#[test]
fn abort_delivers_and_sends_nothing_more() {
    let mut sim = Sim::new(config());
    sim.room = 0;
    sim.feed(&text("held"));
    sim.feed(&frame(0x9, true, b""));
    assert_eq!(sim.conn.abort(), End::Aborted);
    sim.room = 10;
    sim.resume();
    assert!(sim.inbox.is_empty());
    assert!(!sim.conn.wants_to_stage(false));
}

/// A violation after valid messages: those are delivered and may be
/// answered; then the failure's code goes out.
#[test]
fn failing_waits_for_the_application_then_sends_its_code() {
    for (bad, code) in [
        (vec![0x81 | 0x20, 0x80, 0, 0, 0, 0], 1002), // RSV2
        (frame(0x1, true, &[0xff, 0xfe]), 1007),     // not UTF-8
        (frame(0x8, true, &[0x03, 0xed]), 1002),     // close code 1005
    ] {
        let mut sim = Sim::new(config());
        let mut input = text("ok");
        input.extend(bad);
        input.extend(text("never"));
        sim.feed(&input);
        assert!(!sim.conn.reading());
        assert_eq!(
            sim.conn.poll_end(|| false),
            None,
            "the app has not answered"
        );
        let got = sim.app_reads();
        assert_eq!(got, [Message::text("ok")]);
        sim.send("answer");
        sim.transmit();
        let end = sim.end().expect("failing once drained");
        let End::Fail(sent, reason) = end else {
            panic!("{end:?}")
        };
        assert_eq!(sent, code);
        sim.conn.send_failure();
        sim.transmit();
        assert_eq!(sim.peer_got(), [msg("answer"), close_event(code, reason)]);
    }
}

#[test]
fn an_application_close_while_failing_is_ignored() {
    let mut sim = Sim::new(config());
    sim.feed(&[0x83, 0x80, 0, 0, 0, 0]); // reserved opcode
    sim.conn.request_close(1000, "");
    sim.transmit();
    assert!(
        sim.peer_got().is_empty(),
        "no 1000 before the failure's code"
    );
    assert_eq!(sim.end(), Some(End::Fail(1002, "Protocol error")));
}

#[test]
fn a_failing_peer_that_never_drains_is_dropped_at_the_close_timeout() {
    let mut sim = Sim::new(config());
    sim.feed(&[0x83, 0x80, 0, 0, 0, 0]);
    assert_eq!(sim.advance(Duration::ZERO), None, "the timer starts");
    assert_eq!(sim.conn.poll_end(|| false), None);
    assert_eq!(
        sim.advance(CLOSE_TIMEOUT),
        Some(End::Fail(1002, "Protocol error"))
    );
}

#[test]
fn too_big_fails_at_the_header_and_mid_message() {
    // At the header: the length alone is over the limit; no payload needed.
    let mut sim = Sim::new(config().inbound_buffer_size(100));
    // Two header bytes and the mask key: no payload yet.
    sim.feed(&frame(0x2, true, &[0; 101])[..6]);
    assert_eq!(sim.end(), Some(End::Fail(1009, "Message too big")));
    // Mid-message: each fragment fits, together they do not.
    let mut sim = Sim::new(config().inbound_buffer_size(100));
    let mut input = frame(0x2, false, &[0; 60]);
    input.extend(frame(0x0, true, &[0; 60]));
    sim.feed(&input);
    assert!(sim.inbox.is_empty());
    assert_eq!(sim.end(), Some(End::Fail(1009, "Message too big")));
}

#[test]
fn a_fragment_flood_fails_with_1008() {
    let mut sim = Sim::new(config().inbound_buffer_size(1024));
    let mut input = frame(0x1, false, b"");
    for _ in 0..2000 {
        input.extend(frame(0x0, false, b""));
    }
    // The budget spreads the work over wake-ups, as the driver does.
    sim.feed(&input);
    while sim.conn.reading() || sim.resume().events > 0 {}
    assert_eq!(sim.end(), Some(End::Fail(1008, "Too many fragments")));
}

#[test]
fn a_read_decodes_at_most_the_budget_and_keeps_the_rest() {
    let mut sim = Sim::new(config());
    let input: Vec<u8> = (0..100).flat_map(|i| text(&i.to_string())).collect();
    assert_eq!(sim.feed(&input).events, BUDGET);
    assert!(
        !sim.conn.reading(),
        "the rest is decoded before the next read"
    );
    assert_eq!(sim.resume().events, 100 - BUDGET);
    let all: Vec<String> = sim
        .app_reads()
        .iter()
        .map(|m| m.as_text().unwrap().to_owned())
        .collect();
    assert_eq!(all, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(sim.conn.reading());
}

#[test]
fn the_heartbeat_pings_and_a_pong_keeps_the_connection() {
    let interval = Duration::from_secs(10);
    let mut sim = Sim::new(config().heartbeat_interval(interval));
    assert_eq!(sim.conn.poll_timeout(), Some(sim.now + interval));
    for _ in 0..3 {
        assert_eq!(sim.advance(interval), None);
        sim.transmit();
        assert_eq!(sim.peer_got().last(), Some(&Event::Ping(Bytes::new())));
        sim.feed(&frame(0xA, true, b""));
    }
    assert_eq!(sim.peer_got().len(), 3);
}

#[test]
fn the_heartbeat_drops_a_peer_that_does_not_answer() {
    let interval = Duration::from_secs(10);
    let mut sim = Sim::new(config().heartbeat_interval(interval));
    assert_eq!(sim.advance(interval), None);
    sim.transmit();
    assert_eq!(
        sim.advance(interval),
        Some(End::Abrupt(CloseStatus::unclean()))
    );
}

#[test]
fn the_heartbeat_waits_while_we_are_not_reading() {
    let interval = Duration::from_secs(10);
    let mut sim = Sim::new(config().heartbeat_interval(interval));
    sim.room = 0;
    assert_eq!(sim.advance(interval), None);
    sim.transmit();
    // The pong is behind a message the application has no room for.
    let mut input = text("full");
    input.extend(frame(0xA, true, b""));
    sim.feed(&input);
    assert_eq!(sim.advance(interval), None, "our fault, not the peer's");
    sim.room = 1;
    sim.app_reads();
    assert_eq!(sim.advance(interval), None, "the pong counted");
}

#[test]
fn the_heartbeat_stops_once_closing() {
    let interval = Duration::from_secs(10);
    let mut sim = Sim::new(config().heartbeat_interval(interval));
    sim.conn.request_close(1000, "");
    assert_eq!(sim.advance(Duration::ZERO), None);
    assert_eq!(sim.conn.poll_timeout(), Some(sim.now + CLOSE_TIMEOUT));
}

#[test]
fn every_ping_is_answered_while_the_socket_keeps_up() {
    let mut sim = Sim::new(config());
    let input: Vec<u8> = (0..10u8).flat_map(|i| frame(0x9, true, &[i])).collect();
    sim.feed(&input);
    sim.transmit();
    assert_eq!(sim.peer_got().len(), 10);
}

#[test]
fn a_ping_flood_against_a_peer_that_never_reads_costs_bounded_memory() {
    let mut sim = Sim::new(config());
    sim.socket_takes = 0;
    let flood: Vec<u8> = (0..1000u32)
        .flat_map(|i| frame(0x9, true, &[0xaa; 125][..(i % 126) as usize]))
        .collect();
    for _ in 0..100 {
        let mut rest = &flood[..];
        while !rest.is_empty() {
            let before = rest.len();
            sim.feed(rest);
            sim.transmit();
            // What was not decoded is kept; feed it again as the driver would.
            rest = &flood[flood.len() - sim.conn.unread.len()..];
            sim.conn.unread = Bytes::new();
            assert!(rest.len() < before);
        }
        assert!(sim.conn.pongs.len() <= MAX_PONGS);
    }
    // Once the socket drains: the batch that was blocked, then the latest.
    sim.socket_takes = usize::MAX;
    sim.transmit();
    let pongs = sim.peer_got();
    assert!(!pongs.is_empty() && pongs.len() <= 2 * MAX_PONGS);
}

#[test]
fn the_socket_taking_little_gets_every_frame_in_order() {
    for takes in [1, 3, 50] {
        let mut sim = Sim::new(config());
        sim.socket_takes = takes;
        for i in 0..20 {
            sim.send(&"x".repeat(i * 10));
        }
        sim.conn.request_close(1000, "");
        for _ in 0..10_000 {
            sim.transmit();
        }
        let mut expected: Vec<Event> = (0..20).map(|i| msg(&"x".repeat(i * 10))).collect();
        expected.push(close_event(1000, ""));
        assert_eq!(sim.peer_got(), expected, "socket takes {takes}");
    }
}

#[test]
fn the_budget_is_freed_only_once_the_bytes_are_out() {
    let mut sim = Sim::new(config());
    sim.socket_takes = 2;
    sim.send("hello");
    sim.transmit();
    assert!(!sim.conn.all_out());
    sim.socket_takes = usize::MAX;
    // Unflushed budget is reported once, after the backlog is out.
    while !sim.conn.backlog().is_empty() {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = sim.conn.backlog().slices(&mut slices);
        let written = take(&mut sim.wire, &slices[..count], usize::MAX);
        sim.conn.backlog_written(written);
    }
    assert_eq!(sim.conn.flushed(), Unflushed { bytes: 5, count: 1 });
    assert_eq!(sim.conn.flushed(), Unflushed::default());
}

/// `serve`: a handler takes over from the queue; the held message goes to
/// it first, then the rest, in order.
#[test]
fn a_handler_takes_over_the_held_message_first() {
    let mut sim = Sim::new(config());
    sim.room = 1;
    let input: Vec<u8> = (0..5).flat_map(|i| text(&i.to_string())).collect();
    sim.feed(&input);
    let queued: Vec<Message> = sim.inbox.drain(..).collect();
    let mut handled = Vec::new();
    let mut handler = |message: Message| {
        handled.push(message);
        Ok(())
    };
    sim.conn.resume(BUDGET, &mut handler);
    let order: Vec<Message> = queued.into_iter().chain(handled).collect();
    assert_eq!(
        order,
        (0..5)
            .map(|i| Message::text(i.to_string()))
            .collect::<Vec<_>>()
    );
}
