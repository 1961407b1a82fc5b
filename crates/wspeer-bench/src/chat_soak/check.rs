//! The exactly-once check: what each member got, against what its room said.
//!
//! A member is one client in one room across all its connections. Its start is
//! the first id it got, not the moment it joined: a line said as it joined may
//! legitimately fall before its join point, and ids, unlike clocks, say which.
//! From its start to the room's end every id must arrive exactly once and in
//! increasing order, across reconnects: a resume after id A must bring every
//! line after A, the ones said while it was away included.
//!
//! The exception is the member's own lines: the server echoes none live, so an
//! own line is expected only when the next connection resumed after an id
//! before it (then the history has it). A member is held to the lines some
//! member got; ids of a room are consecutive, so a line that reached nobody is
//! a hole in the room's ids ([`RoomView::unseen`]): no loss hides because
//! nobody saw it.

use std::collections::{BTreeSet, HashMap, HashSet};

/// A line's id in its room.
pub type LineId = u64;

/// Who said a line: the client, its connection (from 1) and the line's number
/// among the client's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// The client's index.
    pub client: u32,
    /// Its connection that sent the line, from 1.
    pub conn: u32,
    /// The line's number among all of the client's lines.
    pub seq: u32,
}

/// A room's lines as its members saw them: which token each id carried.
#[derive(Debug, Default)]
pub struct Ledger {
    lines: HashMap<LineId, Token>,
    /// The newest id of a member's last line (its "fin"): the room's end.
    end: Option<LineId>,
    /// Ids seen with two different tokens: the server mixed lines up.
    pub conflicts: u64,
}

impl Ledger {
    /// Notes that `id` carried `token` (a member's last line if `fin`).
    pub fn observe(&mut self, id: LineId, token: Token, fin: bool) {
        match self.lines.get(&id) {
            Some(known) if *known != token => self.conflicts += 1,
            Some(_) => {}
            None => {
                self.lines.insert(id, token);
            }
        }
        if fin {
            self.end = self.end.max(Some(id));
        }
    }

    /// The id of the room's last line: the newest fin, or the newest id seen
    /// when no member's fin arrived.
    pub fn end(&self) -> Option<LineId> {
        self.end.or_else(|| self.lines.keys().max().copied())
    }

    /// Lines seen (ids given and delivered to at least one member).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line was seen.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The room as the members are checked against it.
    pub fn view(&self) -> RoomView {
        let mut seen: Vec<LineId> = self.lines.keys().copied().collect();
        seen.sort_unstable();
        RoomView {
            ids: self.lines.iter().map(|(id, token)| (*token, *id)).collect(),
            seen,
            end: self.end(),
        }
    }
}

/// A room's lines once the run is over.
#[derive(Debug)]
pub struct RoomView {
    ids: HashMap<Token, LineId>,
    /// Every id some member got, in order.
    seen: Vec<LineId>,
    end: Option<LineId>,
}

/// Ids of a room that no member got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unseen {
    /// Ids given that reached nobody: lines lost for everyone.
    pub ids: u64,
    /// Jumps too wide to be lines: the room's counter started again (the
    /// room was emptied and made anew, its history gone).
    pub resets: u64,
}

impl RoomView {
    /// The ids up to the room's end that nobody got; a jump of more than
    /// `plausible` ids (more than were ever sent) counts as a reset.
    pub fn unseen(&self, plausible: u64) -> Unseen {
        let mut unseen = Unseen::default();
        let end = self.end.unwrap_or(0);
        for pair in self.seen.windows(2).filter(|p| p[1] <= end) {
            match pair[1] - pair[0] - 1 {
                0 => {}
                jump if jump > plausible => unseen.resets += 1,
                jump => unseen.ids += jump,
            }
        }
        unseen
    }

    /// The ids some member got from `from` to `to`.
    fn seen_in(&self, from: LineId, to: LineId) -> &[LineId] {
        let start = self.seen.partition_point(|&id| id < from);
        let stop = self.seen.partition_point(|&id| id <= to);
        &self.seen[start..stop]
    }
}

/// What a delivery was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A new id, after every id before it.
    New,
    /// An id already received.
    Duplicate,
    /// An id not received before but older than the newest received.
    OutOfOrder,
}

/// One connection of a member.
#[derive(Debug)]
struct ConnLog {
    /// The id it resumed after (`None`: a plain join).
    after: Option<LineId>,
    /// Whether it ended without a close handshake (its last lines may never
    /// have reached the server).
    abrupt: bool,
    /// The numbers of the lines it sent.
    sent: Vec<u32>,
}

/// One member: every id it received, across its connections.
#[derive(Debug)]
pub struct Member {
    client: u32,
    /// Received ids as ranges of consecutive ids, oldest first.
    ranges: Vec<(LineId, LineId)>,
    /// Ids that came after a newer one (each also counted in `out_of_order`).
    late: BTreeSet<LineId>,
    conns: Vec<ConnLog>,
    /// Ids received more than once.
    pub duplicates: u64,
    /// Ids received after a newer id.
    pub out_of_order: u64,
    /// Own lines received on the connection that sent them.
    pub echoes: u64,
}

/// What the check found for one member.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Ids from its start to the room's end it should have received.
    pub expected: u64,
    /// Of those, the ones that never came.
    pub missing: u64,
    /// The first few missing ids.
    pub first_missing: Vec<LineId>,
    /// Own lines no member got, sent on a connection dropped abruptly (they
    /// may not have left the client: not an error).
    pub unconfirmed: u64,
    /// Own lines no member got, sent on a connection that closed cleanly or
    /// lasted to the end: lost.
    pub lost: u64,
    /// No line at all reached it although its room had lines from others.
    pub starved: bool,
}

impl Member {
    /// A member with no connection yet.
    pub fn new(client: u32) -> Self {
        Self {
            client,
            ranges: Vec::new(),
            late: BTreeSet::new(),
            conns: Vec::new(),
            duplicates: 0,
            out_of_order: 0,
            echoes: 0,
        }
    }

    /// A new connection, resuming after `after` (or a plain join); returns its
    /// number, from 1.
    pub fn connected(&mut self, after: Option<LineId>) -> u32 {
        self.conns.push(ConnLog {
            after,
            abrupt: false,
            sent: Vec::new(),
        });
        self.conns.len() as u32
    }

    /// The current connection ended without a close handshake.
    pub fn dropped_abruptly(&mut self) {
        if let Some(conn) = self.conns.last_mut() {
            conn.abrupt = true;
        }
    }

    /// The current connection sends line number `seq`; returns its token.
    pub fn sent(&mut self, seq: u32) -> Token {
        let conn = self.conns.len() as u32;
        if let Some(log) = self.conns.last_mut() {
            log.sent.push(seq);
        }
        Token {
            client: self.client,
            conn,
            seq,
        }
    }

    /// The newest id received: where a resume starts.
    pub fn last(&self) -> Option<LineId> {
        self.ranges.last().map(|r| r.1)
    }

    /// Records the delivery of `id`, which carried `token`.
    pub fn received(&mut self, id: LineId, token: Token) -> Receipt {
        if token.client == self.client && token.conn == self.conns.len() as u32 {
            self.echoes += 1;
        }
        match self.ranges.last_mut() {
            Some(last) if id <= last.1 => {
                if self.contains(id) {
                    self.duplicates += 1;
                    Receipt::Duplicate
                } else {
                    self.out_of_order += 1;
                    self.late.insert(id);
                    Receipt::OutOfOrder
                }
            }
            Some(last) if id == last.1 + 1 => {
                last.1 = id;
                Receipt::New
            }
            _ => {
                self.ranges.push((id, id));
                Receipt::New
            }
        }
    }

    fn contains(&self, id: LineId) -> bool {
        let at = self.ranges.partition_point(|r| r.1 < id);
        self.ranges.get(at).is_some_and(|r| r.0 <= id) || self.late.contains(&id)
    }

    /// Checks the member against its room.
    pub fn check(&self, room: &RoomView) -> Verdict {
        let (ids, end) = (&room.ids, room.end);
        let mut verdict = Verdict::default();
        // Own lines the server rightly never sent back.
        let mut exempt = HashSet::new();
        for (index, conn) in self.conns.iter().enumerate() {
            let next = self.conns.get(index + 1);
            for &seq in &conn.sent {
                let token = Token {
                    client: self.client,
                    conn: index as u32 + 1,
                    seq,
                };
                match ids.get(&token) {
                    Some(&id) => {
                        let replayed = next.is_some_and(|n| n.after.is_none_or(|a| a < id));
                        if !replayed {
                            exempt.insert(id);
                        }
                    }
                    None if conn.abrupt => verdict.unconfirmed += 1,
                    None => verdict.lost += 1,
                }
            }
        }
        let (Some(start), Some(end)) = (self.ranges.first().map(|r| r.0), end) else {
            verdict.starved = ids.keys().any(|t| t.client != self.client);
            return verdict;
        };
        // The ids between the received ranges, and after the last one.
        let mut holes = Vec::new();
        let mut next = start;
        for &(from, to) in &self.ranges {
            if from > end {
                break;
            }
            if from > next {
                holes.push((next, from - 1));
            }
            next = next.max(to + 1);
        }
        if next <= end {
            holes.push((next, end));
        }
        for (from, to) in holes {
            for &id in room.seen_in(from, to) {
                if exempt.contains(&id) {
                    continue;
                }
                verdict.expected += 1;
                if !self.late.contains(&id) {
                    verdict.missing += 1;
                    if verdict.first_missing.len() < 5 {
                        verdict.first_missing.push(id);
                    }
                }
            }
        }
        let received: u64 = self
            .ranges
            .iter()
            .map(|&(from, to)| to.min(end).saturating_sub(from) + u64::from(from <= end))
            .sum();
        verdict.expected += received;
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(client: u32, conn: u32, seq: u32) -> Token {
        Token { client, conn, seq }
    }

    /// A room where client 9 said every line 100..=110 (one connection).
    fn room() -> Ledger {
        let mut ledger = Ledger::default();
        for (seq, id) in (100..=110).enumerate() {
            ledger.observe(id, token(9, 1, seq as u32), id == 110);
        }
        ledger
    }

    fn member_receiving(ids: impl IntoIterator<Item = LineId>) -> Member {
        let mut member = Member::new(1);
        member.connected(None);
        for id in ids {
            member.received(id, token(9, 1, (id - 100) as u32));
        }
        member
    }

    #[test]
    fn every_line_once_passes() {
        let ledger = room();
        let member = member_receiving(100..=110);
        let verdict = member.check(&ledger.view());
        assert_eq!(verdict.expected, 11);
        assert_eq!(verdict.missing, 0);
        assert_eq!((member.duplicates, member.out_of_order), (0, 0));
        // Starting later (a line said as it joined went before it) is fine.
        let member = member_receiving(104..=110);
        assert_eq!(member.check(&ledger.view()).missing, 0);
    }

    #[test]
    fn a_duplicate_and_a_hole_are_caught() {
        let ledger = room();
        let mut member = member_receiving((100..=104).chain(106..=110));
        assert_eq!(member.received(107, token(9, 1, 7)), Receipt::Duplicate);
        let verdict = member.check(&ledger.view());
        assert_eq!(member.duplicates, 1);
        assert_eq!((verdict.missing, verdict.first_missing), (1, vec![105]));
        // The tail counts too: the room went on to 110, the member stopped at 108.
        let member = member_receiving(100..=108);
        let verdict = member.check(&ledger.view());
        assert_eq!(
            (verdict.missing, verdict.first_missing),
            (2, vec![109, 110])
        );
    }

    #[test]
    fn a_line_nobody_got_is_a_hole_in_the_room() {
        let mut ledger = Ledger::default();
        for id in (100..=104).chain(106..=110) {
            ledger.observe(id, token(9, 1, id as u32), id == 110);
        }
        assert_eq!(ledger.view().unseen(1000), Unseen { ids: 1, resets: 0 });
        // A counter that started again (the room made anew) is told apart.
        ledger.observe(5_000_000, token(9, 1, 999), true);
        assert_eq!(ledger.view().unseen(1000), Unseen { ids: 1, resets: 1 });
    }

    #[test]
    fn late_lines_are_out_of_order_not_missing() {
        let ledger = room();
        let mut member = member_receiving((100..=104).chain(106..=110));
        assert_eq!(member.received(105, token(9, 1, 5)), Receipt::OutOfOrder);
        let verdict = member.check(&ledger.view());
        assert_eq!((member.out_of_order, verdict.missing), (1, 0));
    }

    #[test]
    fn a_resume_must_bring_what_was_said_while_away() {
        let ledger = room();
        let mut member = member_receiving(100..=103);
        member.dropped_abruptly();
        member.connected(member.last());
        // 104..=106 were said while it was away: a resume that skips them fails.
        for id in 107..=110 {
            member.received(id, token(9, 1, (id - 100) as u32));
        }
        let verdict = member.check(&ledger.view());
        assert_eq!(
            (verdict.missing, verdict.first_missing),
            (3, vec![104, 105, 106])
        );
    }

    #[test]
    fn own_lines_are_expected_only_when_replayed() {
        // Client 1 said 103 and 107 on its first connection, and resumed after
        // 105: 103 was never due (no echo), 107 comes back in the replay.
        let mut ledger = Ledger::default();
        let mut member = Member::new(1);
        member.connected(None);
        let mine = [(103, member.sent(0)), (107, member.sent(1))];
        for id in 100..=110 {
            let token = mine
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(token(9, 1, id as u32), |m| m.1);
            ledger.observe(id, token, id == 110);
        }
        for id in (100..=102).chain([104, 105]) {
            member.received(id, token(9, 1, id as u32));
        }
        member.dropped_abruptly();
        member.connected(Some(105));
        // Forgetting its own 107 in the replay is caught.
        for id in [106, 108, 109, 110] {
            member.received(id, token(9, 1, id as u32));
        }
        let verdict = member.check(&ledger.view());
        assert_eq!((verdict.missing, verdict.first_missing), (1, vec![107]));
        member.received(107, mine[1].1);
        assert_eq!(member.out_of_order, 1);
        assert_eq!(member.echoes, 0);
    }

    #[test]
    fn lines_nobody_got_are_lost_unless_the_drop_was_abrupt() {
        let ledger = room();
        let mut member = member_receiving(100..=110);
        member.sent(0);
        assert_eq!(member.check(&ledger.view()).lost, 1);
        member.dropped_abruptly();
        let verdict = member.check(&ledger.view());
        assert_eq!((verdict.lost, verdict.unconfirmed), (0, 1));
    }

    #[test]
    fn an_echo_and_a_conflict_are_caught() {
        let mut member = Member::new(1);
        member.connected(None);
        let mine = member.sent(0);
        member.received(100, mine);
        assert_eq!(member.echoes, 1);
        let mut ledger = Ledger::default();
        ledger.observe(100, token(9, 1, 0), false);
        ledger.observe(100, token(8, 1, 0), false);
        assert_eq!(ledger.conflicts, 1);
    }

    #[test]
    fn a_member_that_got_nothing_is_starved() {
        let ledger = room();
        let mut member = Member::new(1);
        member.connected(None);
        assert!(member.check(&ledger.view()).starved);
    }
}
