//! Step 3, how threads work: *shared atomics*.
//!
//! Read the chapter first: book/src/step3-shared-atomics.md
//! (or `cargo xtask book --open`, then "3. How threads work").
//!
//! Threads share one address space: every thread can read the same bytes and
//! add to the same counters, with no copying. You build a byte histogram
//! (how often each of the 256 byte values occurs) that N threads fill at the
//! same time:
//!
//! - `Histogram`: 256 counters that many threads add to at the same time,
//!   with no lock. This is the Rust counterpart of a `SharedArrayBuffer`
//!   that Node's worker threads update.
//! - `count_scoped`: threads that BORROW the caller's data, thanks to
//!   `std::thread::scope`.
//! - `count_in_background`: threads that OUTLIVE the call, so they must own
//!   what they use: `Arc`.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step3
//! ```
//!
//! Stuck? `cargo xtask hint step3` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports)]

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// One bucket per possible byte value.
pub const BUCKETS: usize = 256;

/// A histogram many threads can add to at once: one atomic counter per
/// byte value, and no lock.
#[derive(Debug)]
pub struct Histogram {
    counts: Vec<AtomicU64>,
}

impl Histogram {
    /// 256 counters at zero (given).
    pub fn new() -> Histogram {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Adds `n` to the count of `byte`. Takes `&self`: any number of threads
    /// may call it at the same time.
    pub fn add(&self, byte: u8, n: u64) {
        // TODO. No lock and no waiting here (no `Mutex`, no spin loop): many
        // threads add at once, and no add may be lost, not even one interrupted
        // by another add on its own thread. Chapter: "Atomics: shared counters
        // without a lock" and "Why `Relaxed` is enough for a counter".
        todo!("Histogram::add")
    }

    /// The counts as plain numbers, index = byte value.
    pub fn snapshot(&self) -> Vec<u64> {
        // TODO. `BUCKETS` numbers, zero where nothing was added. Chapter:
        // "Atomics: shared counters without a lock".
        todo!("Histogram::snapshot")
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

/// The single-threaded reference (given): what every parallel version must
/// equal.
pub fn histogram_single(data: &[u8]) -> Vec<u64> {
    let mut counts = vec![0u64; BUCKETS];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    counts
}

/// Cuts `0..len` into exactly `parts` ranges, in order, as equal as can be
/// (the first ones one longer). Some are empty when `len < parts`. (Given.)
pub fn split_ranges(len: usize, parts: usize) -> Vec<Range<usize>> {
    assert!(parts > 0, "at least one part");
    let (base, extra) = (len / parts, len % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let end = start + base + usize::from(i < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// Counts `data` on `threads` threads at once, all borrowing `data` and one
/// shared `Histogram` (no `Arc`: `thread::scope` joins them before it
/// returns). Part `i` of `split_ranges` goes to thread `i`; every byte
/// passes through `on_item` once, on the thread that counts it.
pub fn count_scoped<F>(data: &[u8], threads: usize, on_item: F) -> Vec<u64>
where
    F: Fn(u8) + Sync,
{
    // TODO. Equal to `histogram_single(data)` for any length (empty too) and
    // any `threads` from one up, with every thread running at the same time.
    // Chapter: "Borrowing: scoped threads"; for speed, "Sharing is not free".
    todo!("count_scoped")
}

/// Work started by [`count_in_background`] (given): the shared histogram and
/// the threads still filling it.
#[derive(Debug)]
pub struct Background {
    pub histogram: Arc<Histogram>,
    pub handles: Vec<JoinHandle<()>>,
}

impl Background {
    /// Waits for every thread, then reads the histogram (given).
    pub fn finish(self) -> Vec<u64> {
        for handle in self.handles {
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
        self.histogram.snapshot()
    }
}

/// Like `count_scoped`, but returns at once and leaves the threads running:
/// they outlive this call, so everything they use must be owned (`Arc`).
pub fn count_in_background<F>(data: Arc<[u8]>, threads: usize, on_item: F) -> Background
where
    F: Fn(u8) + Send + Sync + 'static,
{
    // TODO. Returns while its threads are still counting, one JoinHandle per
    // thread; once they have ended, nothing of theirs still owns the data or
    // the histogram. Chapter: "Owning: `Arc`".
    todo!("count_in_background")
}
