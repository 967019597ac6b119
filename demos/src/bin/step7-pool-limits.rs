//! Step 7 demo: what does a thread cost, and what does a process cost, on
//! this machine? Then: what happens when you start one per job without a
//! limit, and what a bounded queue does about it.
//!
//! Run it with: cargo run --release -p demos --bin step7-pool-limits

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

/// The argument that makes this program a child that does nothing.
const CHILD: &str = "--empty-child";

// ANCHOR: spawn-cost
/// Time to start a thread that does nothing and join it: the median of
/// `batches` batches of `rounds` (a median shrugs off the moments when
/// something else on the machine got in the way).
fn thread_cost(batches: usize, rounds: u32) -> Duration {
    median(batches, || {
        let start = Instant::now();
        for _ in 0..rounds {
            std::thread::spawn(|| {}).join().expect("the empty thread");
        }
        start.elapsed() / rounds
    })
}

/// Time to start this program as a child that exits at once, and wait
/// for it, measured the same way.
fn process_cost(batches: usize, rounds: u32) -> Duration {
    let exe = std::env::current_exe().expect("the path of this program");
    median(batches, || {
        let start = Instant::now();
        for _ in 0..rounds {
            let status = Command::new(&exe)
                .arg(CHILD)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status()
                .expect("start the empty child");
            assert!(status.success());
        }
        start.elapsed() / rounds
    })
}

fn median(batches: usize, mut measure: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..batches).map(|_| measure()).collect();
    times.sort();
    times[times.len() / 2]
}
// ANCHOR_END: spawn-cost

// ANCHOR: unbounded
/// One thread per job, no limit: how many are alive at once?
fn spawn_per_job(jobs: usize) -> usize {
    let alive = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..jobs)
        .map(|_| {
            let (alive, most) = (alive.clone(), most.clone());
            std::thread::spawn(move || {
                let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                busy_work();
                alive.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a job thread");
    }
    most.load(Ordering::SeqCst)
}

/// A fixed pool of `workers` threads behind a queue of `capacity` jobs: how
/// many run at once, and how long did the producer have to wait?
fn bounded_pool(jobs: usize, workers: usize, capacity: usize) -> (usize, Duration) {
    let (tx, rx) = bounded::<()>(capacity);
    let alive = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let pool: Vec<_> = (0..workers)
        .map(|_| {
            let (rx, alive, most) = (rx.clone(), alive.clone(), most.clone());
            std::thread::spawn(move || {
                for () in rx {
                    let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    busy_work();
                    alive.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let mut blocked = Duration::ZERO;
    for _ in 0..jobs {
        let before = Instant::now();
        tx.send(()).expect("the workers are alive"); // waits while the queue is full
        blocked += before.elapsed();
    }
    drop(tx);
    for worker in pool {
        worker.join().expect("a worker");
    }
    (most.load(Ordering::SeqCst), blocked)
}
// ANCHOR_END: unbounded

/// About half a millisecond of arithmetic (release build).
fn busy_work() {
    let mut x = 0u64;
    for i in 0..200_000u64 {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    std::hint::black_box(x);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(CHILD) {
        return;
    }
    // Warm up, so the first measurement does not pay for loading the program.
    thread_cost(1, 20);
    process_cost(1, 5);

    let thread = thread_cost(21, 100);
    let process = process_cost(21, 10);
    demos::figure_us("thread_us", thread);
    demos::figure_us("process_us", process);
    demos::figure(
        "process_per_thread",
        process.as_secs_f64() / thread.as_secs_f64(),
    );
    println!("start + join an empty thread:   {:>9.1} µs", micros(thread));
    println!(
        "start + wait an empty process:  {:>9.1} µs",
        micros(process)
    );
    println!(
        "a process costs about {:.0} times as much as a thread to start",
        process.as_secs_f64() / thread.as_secs_f64()
    );

    println!();
    let jobs = 500;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = spawn_per_job(jobs);
    demos::figure("thread_per_job.most_alive", most as f64);
    println!(
        "{jobs} jobs, one thread each:      up to {most} threads alive at once ({cores} cores)"
    );
    let (most, blocked) = bounded_pool(jobs, cores, 2 * cores);
    println!(
        "{jobs} jobs, pool of {cores}, queue of {}: up to {most} running at once; the producer waited {:.0} ms in total",
        2 * cores,
        blocked.as_secs_f64() * 1000.0
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
