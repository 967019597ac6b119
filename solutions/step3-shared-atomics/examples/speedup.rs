//! The step-3 benchmark (not a test): the reference solution's
//! `count_scoped` on 1 thread and on 2 threads, best of 15 runs each.
//!
//! `cargo run --release -p step3-shared-atomics-solution --example speedup`

use std::time::{Duration, Instant};

use step3_shared_atomics_solution::{count_scoped, histogram_single};

/// Runs of each kind, alternating.
const ROUNDS: usize = 15;

fn main() {
    // 128 MiB of pseudo-random bytes (xorshift), the same on every run.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let data: Vec<u8> = (0..128 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let expected = histogram_single(&data);
    let run = |threads: usize| {
        let start = Instant::now();
        let counts = count_scoped(&data, threads, |_| {});
        let took = start.elapsed();
        assert_eq!(counts, expected);
        took
    };
    // Alternate the two, so that a burst of other work on the machine hits
    // both alike; keep the best of each (the least disturbed run).
    let (mut one, mut two) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        one = one.min(run(1));
        two = two.min(run(2));
    }
    println!(
        "count_scoped, 128 MiB: 1 thread {:.1} ms, 2 threads {:.1} ms, speed-up {:.2}x ({} cores available)",
        one.as_secs_f64() * 1e3,
        two.as_secs_f64() * 1e3,
        one.as_secs_f64() / two.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
