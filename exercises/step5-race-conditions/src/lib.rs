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
//! threads are scheduled. Next to each one: what must hold, what the checks
//! will look at, and the chapter section that explains the idea. Check your
//! work with:
//!
//! ```text
//! cargo xtask check step5
//! ```
//!
//! The grader does not run your code a million times hoping to hit the bad
//! timing. It builds this crate with the `loom` model checker, which runs the
//! checks' small scenarios once for every possible schedule of the threads
//! (within loom's model of memory: its docs say it treats `SeqCst` as
//! `AcqRel` and does not explore load buffering; the races here need
//! neither). A race condition that some schedule produces, will happen
//! there, every time.
//! For that to work, use the types from [`sync`] (this crate's `sync`
//! module), never `std::sync` directly.
//!
//! Stuck? `cargo xtask hint step5` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// This line only keeps the unsolved exercise free of "unused" warnings.
// Delete it once you start; the compiler's warnings will help you.
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

// ---------------------------------------------------------------------------
// 1. The lost update.
// ---------------------------------------------------------------------------

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
        // The checks: two threads call hit() once each, and the count must
        // end at 2 in every interleaving.
        // Chapter: "Race conditions".
        let now = self.hits.load(Ordering::SeqCst);
        self.hits.store(now + 1, Ordering::SeqCst);
    }

    /// The number of hits so far.
    pub fn get(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------
// 2. Check, then act.
// ---------------------------------------------------------------------------

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
        // The checks: two threads claim one seat (exactly one gets it, the
        // other `None`), and two threads claim two seats (each gets a
        // different one; nobody may get `None` while a seat is free).
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

// ---------------------------------------------------------------------------
// 3. An invariant that spans two values.
// ---------------------------------------------------------------------------

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
    // TODO. You may change what a `Bank` holds (this field's type, or other
    // fields) and the bodies of its methods; the signatures stay. Wrong as
    // written: the rules above break when threads call at once.
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
        // TODO. Wrong as written: two transfers at once can overdraw, and a
        // look in the middle sees money missing.
        // The checks: two threads each move 60 out of 100 (only one may
        // succeed); one transfer runs while another thread looks at
        // `balances()`; and two transfers in opposite directions run at the
        // same time while a third thread looks. Every look must add up, and
        // nothing may deadlock.
        // Chapter: "Race conditions" and "Locks: `Mutex`, and two
        // relatives".
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
        // moments. The checks add up what it returns while transfers run.
        // Chapter: "Race conditions".
        [
            self.balances[0].load(Ordering::SeqCst),
            self.balances[1].load(Ordering::SeqCst),
        ]
    }
}
