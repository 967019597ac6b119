//! The checks of step 3, how threads work. Titles and hints live in
//! course.toml; run them with `cargo xtask check step3`.
//!
//! Correctness is compared with the single-threaded reference on random
//! data; the seed is printed on failure (rerun with `STEP3_SEED=<seed>`).
//! Parallelism is proved with a barrier, never with timings: each thread's
//! first byte waits until all N threads have arrived, which only happens if
//! they really run at the same time.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use check_harness::sync::{within, Latch};
use check_harness::{ensure, fail, Check, CheckResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step3_shared_atomics as subject;
#[cfg(feature = "solution")]
use step3_shared_atomics_solution as subject;

use subject::{count_in_background, count_scoped, histogram_single, Histogram};

fn main() {
    check_harness::main(&[
        Check::new("matches-reference", matches_reference),
        Check::new("threads-at-once", threads_at_once),
        Check::new("no-lost-updates", no_lost_updates),
        Check::new("outlives-the-call", outlives_the_call),
    ]);
}

const LIMIT: Duration = Duration::from_secs(5);

/// The seed: `STEP3_SEED` if set, otherwise a fresh random one. Printed, so
/// that the grader shows it next to a failure.
fn seed() -> u64 {
    let seed = std::env::var("STEP3_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("random data from seed {seed} (STEP3_SEED={seed} repeats it)");
    seed
}

/// Random bytes, some runs skewed towards a few values.
fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let skewed = rng.gen_bool(0.5);
    (0..len)
        .map(|_| {
            if skewed {
                rng.gen_range(0..8u8)
            } else {
                rng.gen()
            }
        })
        .collect()
}

/// "bucket 65: expected 3, got 2; ..." for the first few differences.
fn differences(expected: &[u64], got: &[u64]) -> String {
    if expected.len() != got.len() {
        return format!("expected {} buckets, got {}", expected.len(), got.len());
    }
    let diffs: Vec<String> = expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (e, g))| e != g)
        .take(4)
        .map(|(i, (e, g))| format!("byte {i}: expected {e}, got {g}"))
        .collect();
    diffs.join("; ")
}

fn matches_reference() -> CheckResult {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let again =
        format!("(random data, seed {seed}: rerun with STEP3_SEED={seed} to get the same data)");
    let lengths = [0, 1, 2, 3, 7, 255, 4096, 65_537, rng.gen_range(1..200_000)];
    for len in lengths {
        let data = random_bytes(&mut rng, len);
        let expected = histogram_single(&data);
        for threads in [1, 2, 3, 4, 8] {
            let seen = AtomicUsize::new(0);
            let got = count_scoped(&data, threads, |_| {
                seen.fetch_add(1, Ordering::Relaxed);
            });
            ensure!(
                got == expected,
                "count_scoped of {len} bytes on {threads} thread(s) differs from the single-threaded count: {}\n{again}",
                differences(&expected, &got)
            );
            let seen = seen.into_inner();
            ensure!(
                seen == len,
                "count_scoped of {len} bytes on {threads} thread(s) called on_item {seen} times; expected once per byte, {len} times\n{again}"
            );
        }
    }
    Ok(())
}

thread_local! {
    /// Whether this thread already waited at the barrier.
    static ARRIVED: Cell<bool> = const { Cell::new(false) };
}

fn threads_at_once() -> CheckResult {
    for threads in [2, 4] {
        let data: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
        let expected = histogram_single(&data);
        let Some(got) = within(LIMIT, move || {
            let barrier = Barrier::new(threads);
            count_scoped(&data, threads, |_| {
                // Each thread's first byte waits here until all have come.
                if !ARRIVED.with(|a| a.replace(true)) {
                    barrier.wait();
                }
            })
        }) else {
            fail!(
                "your {threads} parts did not run at the same time: each thread's first byte waits until all {threads} threads have reached it, and they never all did (waited {LIMIT:?}).\nStart every thread before waiting for any; a scope waits for all of them at its end."
            );
        };
        ensure!(
            got == expected,
            "the {threads} threads ran at the same time, but the counts are wrong: {}",
            differences(&expected, &got)
        );
    }
    Ok(())
}

fn no_lost_updates() -> CheckResult {
    // Eight threads hammer the same counter.
    const THREADS: usize = 8;
    const ADDS: u64 = 100_000;
    // One add and one snapshot on this thread first, so that a `todo!()`
    // is reported once, not by each of the eight threads.
    let warm_up = Histogram::new();
    warm_up.add(1, 1);
    let _ = warm_up.snapshot();

    let histogram = Histogram::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..ADDS {
                        histogram.add(42, 1);
                    }
                })
            })
            .collect();
        // Pass a panic in `add` on as it is, with its own message.
        for handle in handles {
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
    });
    let got = histogram.snapshot();
    let total = THREADS as u64 * ADDS;
    ensure!(
        got.len() == 256,
        "snapshot() returned {} numbers; expected one per byte value, 256",
        got.len()
    );
    ensure!(
        got[42] == total,
        "{THREADS} threads each called add(42, 1) {ADDS} times, at the same time: expected {total}, got {}.\nUpdates were lost: the read and the write of the counter must be one indivisible step.",
        got[42]
    );
    ensure!(
        got.iter().enumerate().all(|(i, &n)| i == 42 || n == 0),
        "only byte 42 was added to, but other buckets are not zero: {}",
        differences(&[&[0u64; 42][..], &[total], &[0; 213]].concat(), &got)
    );
    // The same through count_scoped: every byte the same value.
    let data = vec![7u8; 1_000_003];
    let got = count_scoped(&data, THREADS, |_| {});
    ensure!(
        got.get(7) == Some(&1_000_003),
        "count_scoped of 1000003 bytes, all 7, on {THREADS} threads: expected bucket 7 = 1000003, got {:?}",
        got.get(7)
    );
    Ok(())
}

fn outlives_the_call() -> CheckResult {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let data: Arc<[u8]> = random_bytes(&mut rng, 50_000).into();
    let expected = histogram_single(&data);
    const THREADS: usize = 3;
    // Every thread's first byte waits for the gate, which opens only after
    // count_in_background has returned.
    let gate = Arc::new(Latch::new(1));
    let started = {
        let (data, gate) = (data.clone(), gate.clone());
        within(LIMIT, move || {
            count_in_background(data, THREADS, move |_| {
                if !ARRIVED.with(|a| a.replace(true)) {
                    gate.wait(Duration::from_secs(60));
                }
            })
        })
    };
    let Some(background) = started else {
        fail!(
            "count_in_background did not return while its threads were still working (they wait for the check, which waits for the call to return).\nIt must start the threads and hand back their JoinHandles, not join them."
        );
    };
    gate.count_down();
    ensure!(
        background.handles.len() == THREADS,
        "asked for {THREADS} threads, got {} JoinHandles back",
        background.handles.len()
    );
    let histogram = background.histogram.clone();
    let Some(got) = within(LIMIT, move || background.finish()) else {
        fail!("the background threads did not finish within {LIMIT:?} after the gate opened");
    };
    ensure!(
        got == expected,
        "count_in_background of 50000 random bytes differs from the single-threaded count: {}\n(seed {seed}: rerun with STEP3_SEED={seed})",
        differences(&expected, &got)
    );
    ensure!(
        Arc::strong_count(&histogram) == 1,
        "all threads have ended, yet {} other owner(s) of the histogram's Arc are still alive; each thread should own one clone, dropped when it ends",
        Arc::strong_count(&histogram) - 1
    );
    ensure!(
        Arc::strong_count(&data) == 1,
        "all threads have ended, yet {} other owner(s) of the data's Arc are still alive",
        Arc::strong_count(&data) - 1
    );
    Ok(())
}
