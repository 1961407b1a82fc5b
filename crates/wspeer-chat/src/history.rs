//! Line ids and a room's recent lines: what a client that resumes after an id
//! gets, and whether it missed lines that are no longer kept.
//!
//! Every kept line of a room (a chat message, a moderation notice, a line
//! posted through the API) gets the next id of that room: consecutive, so a gap
//! between the id a client names and the oldest line kept means lines were
//! lost. A room's counter starts at the Unix time in microseconds when it is
//! first used, so ids keep increasing across a restart that lost the counter
//! (a server alone, or a Redis without persistence) and a client's old id is
//! then reported as a gap rather than mistaken for a newer line.

use std::{
    collections::VecDeque,
    time::{SystemTime, UNIX_EPOCH},
};

/// A line's id in its room.
pub type LineId = u64;

/// The largest id a client may name: JavaScript's largest exact integer, so a
/// page can hold every id as a number.
pub const MAX_ID: LineId = (1 << 53) - 1;

/// The most lines a room may keep (`--history`).
pub const MAX_HISTORY: usize = 10_000;

/// A kept line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Its id.
    pub id: LineId,
    /// Its text, as demo clients get it.
    pub text: String,
}

/// Where a new room's counter starts: now, in microseconds since the epoch.
pub fn seed() -> LineId {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    (micros as LineId).min(MAX_ID / 2)
}

/// A room's counter and its last `cap` lines, in memory.
#[derive(Debug)]
pub struct History {
    lines: VecDeque<Kept>,
    last: LineId,
    cap: usize,
}

impl History {
    /// An empty history keeping `cap` lines, its counter at [`seed`].
    pub fn new(cap: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            last: seed(),
            cap,
        }
    }

    /// The next id of this room.
    pub fn next_id(&mut self) -> LineId {
        self.last += 1;
        self.last
    }

    /// Keeps a line (the oldest goes when full); its id counts as given.
    pub fn keep(&mut self, id: LineId, text: &str) {
        self.last = self.last.max(id);
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(Kept {
            id,
            text: text.to_owned(),
        });
    }

    /// The newest id given.
    pub fn last(&self) -> LineId {
        self.last
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<Kept> {
        self.lines.iter().cloned().collect()
    }
}

/// Why a resuming client may have missed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Lines after `after` are no longer kept (the history is shorter than the
    /// time away, or the server lost it in a restart).
    Lost {
        /// The id the client named.
        after: LineId,
    },
    /// The room never gave `after` (an id from before a reset, or made up):
    /// every kept line is sent.
    Unknown {
        /// The id the client named.
        after: LineId,
    },
}

/// What a client joining a room gets: a gap notice if it missed lines, and
/// the kept lines it has not seen, oldest first.
///
/// `lines` are the room's kept lines oldest first, `last` its newest id, and
/// `after` the last id the client saw (`None`: a plain join, which gets every
/// kept line and no notice).
pub fn resume(lines: Vec<Kept>, last: LineId, after: Option<LineId>) -> (Option<Gap>, Vec<Kept>) {
    let Some(after) = after else {
        return (None, lines);
    };
    if after > last {
        return (Some(Gap::Unknown { after }), lines);
    }
    let unseen: Vec<Kept> = lines.into_iter().filter(|l| l.id > after).collect();
    // Ids are consecutive: the first unseen line must be after + 1.
    let first = unseen.first().map_or(last + 1, |l| l.id);
    let lost = after < last && first > after + 1;
    (lost.then_some(Gap::Lost { after }), unseen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(ids: std::ops::RangeInclusive<LineId>) -> Vec<Kept> {
        ids.map(|id| Kept {
            id,
            text: format!("line {id}"),
        })
        .collect()
    }

    fn ids(lines: &[Kept]) -> Vec<LineId> {
        lines.iter().map(|l| l.id).collect()
    }

    #[test]
    fn a_resume_gets_what_it_missed_and_nothing_twice() {
        let (gap, lines) = resume(kept(5..=9), 9, Some(6));
        assert_eq!((gap, ids(&lines)), (None, vec![7, 8, 9]));
        let (gap, lines) = resume(kept(5..=9), 9, Some(9));
        assert_eq!((gap, ids(&lines)), (None, vec![]));
        // The oldest kept line is the one right after: nothing lost.
        let (gap, lines) = resume(kept(5..=9), 9, Some(4));
        assert_eq!((gap, ids(&lines)), (None, vec![5, 6, 7, 8, 9]));
    }

    #[test]
    fn gaps_are_told() {
        let (gap, lines) = resume(kept(5..=9), 9, Some(2));
        assert_eq!(gap, Some(Gap::Lost { after: 2 }));
        assert_eq!(ids(&lines), vec![5, 6, 7, 8, 9]);
        // Nothing kept (history 0, or lost in a restart) while lines were said.
        assert_eq!(
            resume(Vec::new(), 9, Some(7)),
            (Some(Gap::Lost { after: 7 }), Vec::new())
        );
        assert_eq!(
            resume(kept(5..=9), 9, Some(10)).0,
            Some(Gap::Unknown { after: 10 })
        );
        assert_eq!(resume(kept(5..=9), 9, None), (None, kept(5..=9)));
    }

    #[test]
    fn the_history_is_bounded_and_counts_on() {
        let mut history = History::new(3);
        let start = history.last();
        for _ in 0..5 {
            let id = history.next_id();
            history.keep(id, "x");
        }
        assert_eq!(history.last(), start + 5);
        assert_eq!(ids(&history.lines()), vec![start + 3, start + 4, start + 5]);
        let mut none = History::new(0);
        let id = none.next_id();
        none.keep(id, "x");
        assert!(none.lines().is_empty());
        assert!(seed() > 1_600_000_000_000_000 && seed() < MAX_ID);
    }
}
