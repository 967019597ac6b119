//! mutant: wrong
//! rejected-by: consistent-total, both-directions
//! mistake: one atomic per account; each change is indivisible, but the money is out of one account before it is in the other

//! Reference solution of step 5, communication differences: *race
//! conditions*. Chapter: book/src/step5-race-conditions.md.
//!
//! Same public API as the exercise; every racy read-then-write is now one
//! indivisible step.

/// The synchronization types this crate uses: std's normally, loom's copies
/// under `--cfg loom` (the grader's build).
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

/// A hit counter shared by many threads.
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

    /// Adds one hit: read and write in one indivisible step.
    pub fn hit(&self) {
        // Relaxed is enough: nothing else is published through this counter.
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

/// A row of seats; each is taken at most once.
#[derive(Debug)]
pub struct Seats {
    taken: Vec<AtomicBool>,
}

impl Seats {
    pub fn new(n: usize) -> Seats {
        Seats {
            taken: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Takes the lowest-numbered free seat.
    pub fn claim_any(&self) -> Option<usize> {
        for (number, seat) in self.taken.iter().enumerate() {
            // Succeeds only if the seat is still free at this very moment;
            // if another thread got there first, move on to the next seat.
            if seat
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(number);
            }
        }
        None
    }

    pub fn taken(&self) -> usize {
        self.taken
            .iter()
            .filter(|seat| seat.load(Ordering::Acquire))
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

/// Two atomic balances: no lock at all.
#[derive(Debug)]
pub struct Bank {
    accounts: [AtomicU64; 2],
}

impl Bank {
    pub fn new(checking: u64, savings: u64) -> Bank {
        Bank {
            accounts: [AtomicU64::new(checking), AtomicU64::new(savings)],
        }
    }

    pub fn transfer(&self, from: Account, to: Account, amount: u64) -> bool {
        // Take the money only if it is there, in one step.
        let taken = self.accounts[from.index()].fetch_update(
            Ordering::AcqRel,
            Ordering::Acquire,
            |balance| balance.checked_sub(amount),
        );
        if taken.is_err() {
            return false;
        }
        self.accounts[to.index()].fetch_add(amount, Ordering::AcqRel);
        true
    }

    pub fn balances(&self) -> [u64; 2] {
        [
            self.accounts[0].load(Ordering::Acquire),
            self.accounts[1].load(Ordering::Acquire),
        ]
    }
}
