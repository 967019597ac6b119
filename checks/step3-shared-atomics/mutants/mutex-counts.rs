//! mutant: wrong
//! rejected-by: no-lost-updates
//! mistake: puts the counts behind a Mutex instead of using atomics (the exercise asks for no lock)

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// One bucket per possible byte value.
pub const BUCKETS: usize = 256;

/// A histogram many threads can add to at once: one atomic counter per
/// byte value, and no lock.
#[derive(Debug)]
pub struct Histogram {
    counts: Vec<AtomicU64>,
    locked: Mutex<Vec<u64>>,
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            locked: Mutex::new(vec![0; BUCKETS]),
        }
    }

    /// Adds `n` to the count of `byte`. Takes `&self`: any number of threads
    /// may call it at the same time.
    pub fn add(&self, byte: u8, n: u64) {
        // A pure counter: nothing else is published through it, so Relaxed
        // is enough. fetch_add is one indivisible read-modify-write.
        self.locked.lock().unwrap()[usize::from(byte)] += n;
    }

    /// The counts as plain numbers, index = byte value.
    pub fn snapshot(&self) -> Vec<u64> {
        let _ = &self.counts;
        self.locked.lock().unwrap().clone()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

/// The single-threaded reference: what every parallel version must equal.
pub fn histogram_single(data: &[u8]) -> Vec<u64> {
    let mut counts = vec![0u64; BUCKETS];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    counts
}

/// Cuts `0..len` into exactly `parts` ranges, in order, as equal as can be
/// (the first ones one longer). Some are empty when `len < parts`.
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

/// Counts the bytes of `part` in a plain local array, then adds the totals
/// to the shared histogram: 256 atomic operations instead of one per byte.
fn count_part(part: &[u8], on_item: &impl Fn(u8), shared: &Histogram) {
    let mut local = [0u64; BUCKETS];
    for &b in part {
        on_item(b);
        local[usize::from(b)] += 1;
    }
    for (byte, &n) in local.iter().enumerate() {
        if n > 0 {
            shared.add(byte as u8, n);
        }
    }
}

/// Counts `data` on `threads` threads at once, all borrowing `data` and one
/// shared `Histogram` (no `Arc`: `thread::scope` joins them before it
/// returns). Part `i` of `split_ranges` goes to thread `i`; every byte
/// passes through `on_item` once, on the thread that counts it.
pub fn count_scoped<F>(data: &[u8], threads: usize, on_item: F) -> Vec<u64>
where
    F: Fn(u8) + Sync,
{
    let histogram = Histogram::new();
    thread::scope(|s| {
        for range in split_ranges(data.len(), threads) {
            let (part, on_item, histogram) = (&data[range], &on_item, &histogram);
            s.spawn(move || count_part(part, on_item, histogram));
        }
    });
    histogram.snapshot()
}

/// Work started by [`count_in_background`]: the shared histogram and the
/// threads still filling it.
#[derive(Debug)]
pub struct Background {
    pub histogram: Arc<Histogram>,
    pub handles: Vec<JoinHandle<()>>,
}

impl Background {
    /// Waits for every thread, then reads the histogram.
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
/// they outlive this call, so everything they use is owned (`Arc`).
pub fn count_in_background<F>(data: Arc<[u8]>, threads: usize, on_item: F) -> Background
where
    F: Fn(u8) + Send + Sync + 'static,
{
    let histogram = Arc::new(Histogram::new());
    let on_item = Arc::new(on_item);
    let handles = split_ranges(data.len(), threads)
        .into_iter()
        .map(|range| {
            let (data, on_item, histogram) = (data.clone(), on_item.clone(), histogram.clone());
            thread::spawn(move || count_part(&data[range], &*on_item, &histogram))
        })
        .collect();
    Background { histogram, handles }
}
