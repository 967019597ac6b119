//! Chapter "How threads work": threads share memory.
//!
//! 1. A scoped thread borrows a local Vec: no Arc, no copy.
//! 2. A spawned thread that outlives its caller owns its data through Arc.
//! 3. A byte histogram on 1 and 2 threads, two ways: an atomic add for every
//!    byte, and local counts added to the shared atomics once per thread.
//!
//! Run it with optimizations, or the timings mean little:
//! `cargo run --release -p demos --bin step3-shared-atomics`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn borrow_with_scope() {
    // ANCHOR: scope
    let words = vec!["alpha", "beta", "gamma", "delta"];
    let letters = AtomicU64::new(0);
    thread::scope(|s| {
        for half in words.chunks(2) {
            // Each thread borrows `words` and `letters` from this stack frame.
            s.spawn(|| {
                let n: usize = half.iter().map(|w| w.len()).sum();
                letters.fetch_add(n as u64, Ordering::Relaxed);
            });
        }
    }); // every thread of the scope has been joined here
    println!(
        "scoped threads counted {} letters in {words:?}",
        letters.into_inner()
    );
    // ANCHOR_END: scope
}

fn own_with_arc() {
    // ANCHOR: arc
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let counter = Arc::clone(&counter); // a new owner, same counter
            thread::spawn(move || {
                for _ in 0..1000 {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!(
        "4 spawned threads x 1000 adds = {}",
        counter.load(Ordering::Relaxed)
    );
    // ANCHOR_END: arc
}

/// Pseudo-random bytes (xorshift), the same on every run.
fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect()
}

fn new_buckets() -> Vec<AtomicU64> {
    (0..256).map(|_| AtomicU64::new(0)).collect()
}

// ANCHOR: per_byte
/// Every byte is an atomic add on the shared buckets.
fn per_byte(data: &[u8], threads: usize) -> Vec<AtomicU64> {
    let buckets = new_buckets();
    thread::scope(|s| {
        for part in data.chunks(data.len().div_ceil(threads)) {
            let buckets = &buckets;
            s.spawn(move || {
                for &b in part {
                    buckets[b as usize].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    buckets
}
// ANCHOR_END: per_byte

// ANCHOR: local_then_merge
/// Each thread counts in its own plain array, then adds 256 totals.
fn local_then_merge(data: &[u8], threads: usize) -> Vec<AtomicU64> {
    let buckets = new_buckets();
    thread::scope(|s| {
        for part in data.chunks(data.len().div_ceil(threads)) {
            let buckets = &buckets;
            s.spawn(move || {
                let mut local = [0u64; 256];
                for &b in part {
                    local[b as usize] += 1;
                }
                for (bucket, n) in buckets.iter().zip(local) {
                    bucket.fetch_add(n, Ordering::Relaxed);
                }
            });
        }
    });
    buckets
}
// ANCHOR_END: local_then_merge

/// A way to count: the data and the number of threads in, the buckets out.
type Counter = fn(&[u8], usize) -> Vec<AtomicU64>;

/// Times `count` on 1 and on 2 threads, alternating so that other work on
/// the machine disturbs both alike, and keeps the best of 7 runs of each.
fn one_vs_two(data: &[u8], count: Counter) -> (Duration, Duration) {
    let run = |threads| {
        let start = Instant::now();
        let buckets = count(data, threads);
        let took = start.elapsed();
        let total: u64 = buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        assert_eq!(total, data.len() as u64);
        took
    };
    let (mut one, mut two) = (Duration::MAX, Duration::MAX);
    for _ in 0..7 {
        one = one.min(run(1));
        two = two.min(run(2));
    }
    (one, two)
}

fn main() {
    borrow_with_scope();
    own_with_arc();

    const MIB: usize = 1024 * 1024;
    let data = data(64 * MIB);
    println!(
        "\nbyte histogram of 64 MiB, {} cores available, best of 7 runs:",
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    let variants: [(&str, &str, Counter); 2] = [
        ("atomic add per byte", "atomic", per_byte),
        ("local counts, then merge", "local", local_then_merge),
    ];
    for (name, key, count) in variants {
        let (one, two) = one_vs_two(&data, count);
        demos::figure_ms(&format!("{key}.one_thread_ms"), one);
        demos::figure_ms(&format!("{key}.two_threads_ms"), two);
        demos::figure(
            &format!("{key}.two_threads_speedup"),
            one.as_secs_f64() / two.as_secs_f64(),
        );
        println!(
            "  {name:<26} 1 thread {:>7.1} ms   2 threads {:>7.1} ms   speed-up {:.2}x",
            one.as_secs_f64() * 1e3,
            two.as_secs_f64() * 1e3,
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
}
