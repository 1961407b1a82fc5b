//! The connection state machine driven by arbitrary events: reads of
//! arbitrary bytes, the application reading, sending and closing, a socket
//! that takes any amount, time jumping ahead. Whatever the events, the
//! machine must not panic, must keep its memory bounded, must only ever write
//! valid frames (nothing after its close frame), and must end once the
//! application closes and the close timeout passes.

use std::{
    collections::VecDeque,
    io::IoSlice,
    time::{Duration, Instant},
};

use bytes::Bytes;

use crate::{
    codec::{
        Role,
        decoder::{Decoder, Event},
        writer::{MAX_SLICES, with_staging},
    },
    config::Config,
    connection::{Connection, End, MAX_PONGS},
    message::Message,
    shared::Taken,
};

const BUDGET: usize = 64;
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the events in `data` (see the module docs); panics on a broken
/// invariant.
pub fn connection_machine(data: &[u8]) {
    let Some((&setup, mut ops)) = data.split_first() else {
        return;
    };
    let role = if setup & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let heartbeat = Duration::from_secs(u64::from(setup >> 3 & 1) * 10);
    let config = Config::default()
        .inbound_buffer_size(256 << (setup >> 1 & 3))
        .heartbeat_interval(heartbeat)
        .close_timeout(CLOSE_TIMEOUT);
    let mut sim = Sim {
        conn: Connection::new(role, &config, Bytes::new(), None, Instant::now()),
        now: Instant::now(),
        room: 1 + usize::from(setup >> 4 & 3),
        inbox: VecDeque::new(),
        outbox: VecDeque::new(),
        sending: true,
        peer: Peer::new(role),
        ended: None,
    };
    while let [op, arg, rest @ ..] = ops {
        ops = rest;
        if sim.ended.is_some() {
            return;
        }
        match op % 8 {
            0 => {
                let len = usize::from(*arg).min(ops.len());
                let (chunk, rest) = ops.split_at(len);
                ops = rest;
                sim.read(chunk);
            }
            1 => {
                sim.inbox.clear();
                sim.resume();
            }
            2 if sim.sending => sim
                .outbox
                .push_back(Message::binary(vec![*arg; usize::from(*arg)])),
            3 => sim.transmit(usize::from(*arg) * 7),
            4 => sim.advance(Duration::from_millis(u64::from(*arg) * 100)),
            5 => {
                sim.sending = false;
                sim.conn.request_close(1000, "");
            }
            6 => sim.resume(),
            7 if *arg == 0xff => sim.ended = Some(sim.conn.abort()),
            _ => {}
        }
        sim.check();
    }
    // However it stands, a close and its timeout end it.
    sim.sending = false;
    sim.conn.request_close(1000, "");
    for _ in 0..4 {
        if sim.ended.is_some() {
            return;
        }
        sim.transmit(usize::MAX);
        sim.advance(CLOSE_TIMEOUT);
    }
    assert!(sim.ended.is_some(), "the connection did not end");
}

struct Sim {
    conn: Connection,
    now: Instant,
    room: usize,
    inbox: VecDeque<Message>,
    outbox: VecDeque<Message>,
    /// The application may still send (it has not closed, the peer has not).
    sending: bool,
    peer: Peer,
    ended: Option<End>,
}

impl Sim {
    fn read(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            self.ended = Some(self.conn.end_of_stream());
        } else if self.conn.reading() {
            let (inbox, room) = (&mut self.inbox, self.room);
            let mut deliver = |message| push(inbox, room, message);
            let got = self.conn.receive(chunk, BUDGET, &mut deliver);
            self.sending &= !got.peer_closed;
        }
    }

    fn resume(&mut self) {
        let (inbox, room) = (&mut self.inbox, self.room);
        let mut deliver = |message| push(inbox, room, message);
        let got = self.conn.resume(BUDGET, &mut deliver);
        self.sending &= !got.peer_closed;
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if let Some(end) = self.conn.handle_timeout(self.now) {
            self.ended = Some(end);
        }
    }

    /// What the driver does, with a socket that takes `takes` bytes in all.
    fn transmit(&mut self, mut takes: usize) {
        let Self {
            conn, outbox, peer, ..
        } = self;
        while !conn.backlog().is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = conn.backlog().slices(&mut slices);
            let written = peer.take(&slices[..count], &mut takes);
            if written == 0 {
                return;
            }
            conn.backlog_written(written);
        }
        if conn.wants_to_stage(!outbox.is_empty()) {
            with_staging(|staging| {
                let mut messages: Vec<Message> = outbox.drain(..).collect();
                let taken = Taken {
                    count: messages.len(),
                    bytes: messages.iter().map(Message::len).sum(),
                    queue_empty: true,
                };
                conn.stage(staging, true, &mut messages, taken);
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let count = staging.slices(0, &mut slices);
                let written = peer.take(&slices[..count], &mut takes);
                conn.staged_written(staging, written);
            });
        }
        if conn.backlog().is_empty() && conn.needs_flush() {
            conn.flushed();
        }
        if let Some(end) = conn.poll_end(|| true) {
            if let End::Fail(..) = end {
                conn.send_failure();
            }
            self.ended = Some(end);
        }
    }

    fn check(&self) {
        assert!(self.inbox.len() <= self.room);
        let (unread, pongs) = self.conn.kept();
        assert!(pongs <= MAX_PONGS);
        assert!(unread <= 255, "more than one read kept");
    }
}

fn push(inbox: &mut VecDeque<Message>, room: usize, message: Message) -> Result<(), Message> {
    if inbox.len() < room {
        inbox.push_back(message);
        Ok(())
    } else {
        Err(message)
    }
}

/// The other end of the socket: checks that every frame we write is valid.
struct Peer {
    decoder: Decoder,
    closed: bool,
}

impl Peer {
    fn new(our_role: Role) -> Self {
        let role = match our_role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        Self {
            decoder: Decoder::new(role, usize::MAX),
            closed: false,
        }
    }

    fn take(&mut self, slices: &[IoSlice<'_>], takes: &mut usize) -> usize {
        let mut written = 0;
        for slice in slices {
            let n = slice.len().min(*takes);
            let mut input = &slice[..n];
            while let Some(event) = self.decoder.decode(&mut input).expect("a valid frame") {
                assert!(!self.closed, "a frame after our close frame: {event:?}");
                self.closed = matches!(event, Event::Close(_));
            }
            *takes -= n;
            written += n;
        }
        written
    }
}
