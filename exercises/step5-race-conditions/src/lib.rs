//! Step 5, communication differences: *race conditions*.
//!
//! Read the chapter first: book/src/step5-race-conditions.md
//! (or `cargo xtask book --open`, then "5. Communication differences").
//!
//! Everything in this file compiles, and none of it has a data race: the
//! compiler would not let it. Yet all three types below are wrong when two
//! threads use them at once. Each one has a *race condition*: a result that
//! depends on how the threads happen to interleave.
//!
//! Fix `Counter`, `Seats` and `Bank` so that they are right however the
//! threads are scheduled. Next to each one: what must hold, and the chapter
//! section that explains the idea. Check your work with:
//!
//! ```text
//! cargo xtask check step5
//! ```
//!
//! A race condition shows up only under some schedules of the threads, so
//! this crate is also built with the `loom` model checker, which explores
//! every distinct schedule within its model of memory (see the chapter). For
//! that to work, use the types from [`sync`] (this crate's `sync` module),
//! never `std::sync` directly.
//!
//! Stuck? `cargo xtask hint step5` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code)]

/// The synchronization types this crate uses (given; do not change).
///
/// In a normal build these are std's own types. When the grader builds with
/// `--cfg loom`, they are loom's copies, which look and behave the same but
/// let the model checker choose which thread runs next at every step.
pub mod sync {
    #[cfg(loom)]
    pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    #[cfg(loom)]
    pub use loom::sync::{Arc, Mutex, MutexGuard};
    #[cfg(loom)]
    pub use loom::thread;

    #[cfg(not(loom))]
    pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    #[cfg(not(loom))]
    pub use std::sync::{Arc, Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub use std::thread;
}

use sync::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// A hit counter shared by many threads (through an `Arc`).
#[derive(Debug, Default)]
pub struct Counter {
    hits: AtomicUsize,
}

impl Counter {
    pub fn new() -> Counter {
        Counter {
            hits: AtomicUsize::new(0),
        }
    }

    /// Adds one hit.
    pub fn hit(&self) {
        // TODO. Wrong as written: two calls at once can count as one.
        // Chapter: "Race conditions".
        let now = self.hits.load(Ordering::SeqCst);
        self.hits.store(now + 1, Ordering::SeqCst);
    }

    /// The number of hits so far.
    pub fn get(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A row of seats. Each seat is taken at most once, by one caller.
#[derive(Debug)]
pub struct Seats {
    taken: Vec<AtomicBool>,
}

impl Seats {
    /// `n` free seats, numbered from 0.
    pub fn new(n: usize) -> Seats {
        Seats {
            taken: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Takes the lowest-numbered free seat and returns its number, or `None`
    /// when every seat is taken. Two callers never get the same seat, and
    /// nobody gets `None` while a seat is still free.
    pub fn claim_any(&self) -> Option<usize> {
        // TODO. Wrong as written: two callers can both get the same seat.
        // Chapter: "Race conditions".
        for (number, seat) in self.taken.iter().enumerate() {
            if !seat.load(Ordering::SeqCst) {
                seat.store(true, Ordering::SeqCst);
                return Some(number);
            }
        }
        None
    }

    /// How many seats are taken.
    pub fn taken(&self) -> usize {
        self.taken
            .iter()
            .filter(|seat| seat.load(Ordering::SeqCst))
            .count()
    }
}

/// One of the bank's two accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Checking,
    Savings,
}

impl Account {
    fn index(self) -> usize {
        match self {
            Account::Checking => 0,
            Account::Savings => 1,
        }
    }
}

/// Two balances that money moves between. The rules: a balance never goes
/// below zero, money is never created or destroyed, and anyone who looks at
/// the balances sees a total that is right.
#[derive(Debug)]
pub struct Bank {
    // TODO. You may change what a `Bank` holds and the bodies of its
    // methods; the signatures stay. Wrong as written: the rules above break
    // when threads call at once.
    balances: [AtomicU64; 2],
}

impl Bank {
    pub fn new(checking: u64, savings: u64) -> Bank {
        Bank {
            balances: [AtomicU64::new(checking), AtomicU64::new(savings)],
        }
    }

    /// Moves `amount` out of `from` and into `to`, if `from` holds at
    /// least that much. Returns whether the money moved. `to` may be
    /// `from`: the money then lands where it was, and the balances stay.
    pub fn transfer(&self, from: Account, to: Account, amount: u64) -> bool {
        // TODO. Wrong as written: two transfers at once can overdraw, and a look
        // in the middle sees money missing. Two transfers in opposite directions
        // must never wait for each other forever. Chapter: "Race conditions" and
        // "Locks: `Mutex`, and two relatives".
        let source = &self.balances[from.index()];
        let target = &self.balances[to.index()];
        if source.load(Ordering::SeqCst) < amount {
            return false;
        }
        source.fetch_sub(amount, Ordering::SeqCst);
        target.fetch_add(amount, Ordering::SeqCst);
        true
    }

    /// Both balances, `[checking, savings]`, as they were at one moment.
    pub fn balances(&self) -> [u64; 2] {
        // TODO. Wrong as written: the two balances are read at different
        // moments. Chapter: "Race conditions".
        [
            self.balances[0].load(Ordering::SeqCst),
            self.balances[1].load(Ordering::SeqCst),
        ]
    }
}
