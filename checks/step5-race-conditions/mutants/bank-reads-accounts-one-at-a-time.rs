//! mutant: wrong
//! rejected-by: consistent-total, both-directions
//! mistake: transfers hold both account locks, but balances() reads one account, lets go, then reads the other

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

use sync::{AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};

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

/// One lock per account, so two transfers between different accounts never
/// wait for each other.
#[derive(Debug)]
pub struct Bank {
    accounts: [Mutex<u64>; 2],
}

impl Bank {
    pub fn new(checking: u64, savings: u64) -> Bank {
        Bank {
            accounts: [Mutex::new(checking), Mutex::new(savings)],
        }
    }

    fn account(&self, which: Account) -> MutexGuard<'_, u64> {
        self.accounts[which.index()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn transfer(&self, from: Account, to: Account, amount: u64) -> bool {
        let mut checking = self.account(Account::Checking);
        let mut savings = self.account(Account::Savings);
        let (source, target) = match from {
            Account::Checking => (&mut *checking, &mut *savings),
            Account::Savings => (&mut *savings, &mut *checking),
        };
        if *source < amount {
            return false;
        }
        *source -= amount;
        *target += amount;
        true
    }

    pub fn balances(&self) -> [u64; 2] {
        let checking = *self.account(Account::Checking);
        let savings = *self.account(Account::Savings);
        [checking, savings]
    }
}
