//! Myth: "more threads is always faster."
//!
//! Run: `cargo run -p demos --bin threads-not-always-faster`
//! (add `--release` for optimised numbers; the shape stays the same)
//!
//! The same 10,000 tiny tasks are run three ways: inline on one thread, one
//! new thread per task, and split across as many threads as the machine has
//! cores. Then one big job is run inline and split. The numbers are this
//! machine's; the point is their ratio.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use demos::{ms, role, us, ROLE_FLAG};

// ANCHOR: ways
use std::thread;

const TASKS: u64 = 10_000;

/// A tiny piece of work: far less than the cost of starting a thread.
fn tiny_task(n: u64) -> u64 {
    (0..100).map(|i| std::hint::black_box(i ^ n)).sum()
}

fn inline() -> u64 {
    (0..TASKS).map(tiny_task).sum()
}

fn one_thread_per_task() -> u64 {
    let mut total = 0;
    // Batches of 64 so we never have thousands of threads alive at once.
    for batch in (0..TASKS).collect::<Vec<_>>().chunks(64) {
        let handles: Vec<_> = batch
            .iter()
            .map(|&n| thread::spawn(move || tiny_task(n)))
            .collect();
        total += handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
    }
    total
}

fn split_across_cores(tasks: u64, work: fn(u64) -> u64) -> u64 {
    let cores = thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|c| {
                s.spawn(move || {
                    (c..tasks)
                        .step_by(cores as usize)
                        .map(work)
                        .fold(0, u64::wrapping_add)
                })
            })
            .collect();
        let sums = handles.into_iter().map(|h| h.join().unwrap());
        sums.fold(0, u64::wrapping_add)
    })
}
// ANCHOR_END: ways

/// A heavy piece of work: here threads pay for themselves.
fn heavy_task(n: u64) -> u64 {
    // A chain of dependent multiplications: the optimiser cannot skip it.
    (0..5_000_000).fold(n, |x, i| {
        black_box(x)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(i)
    })
}

fn timed(label: &str, f: impl FnOnce() -> u64) -> (u64, Duration) {
    let start = Instant::now();
    let result = f();
    let took = start.elapsed();
    println!("{label:<44} {:>10}", ms(took));
    (result, took)
}

fn main() {
    if role().as_deref() == Some("tiny") {
        // A child process started only to do one tiny task.
        println!("{}", tiny_task(7));
        return;
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    println!("{TASKS} tiny tasks, {cores} cores\n");

    let (a, t_inline) = timed("inline, one thread", inline);
    let (b, t_spawn) = timed("one new thread per task", one_thread_per_task);
    let (c, _) = timed("split across cores (one thread per core)", || {
        split_across_cores(TASKS, tiny_task)
    });
    assert!(a == b && b == c, "all three ways compute the same sum");
    println!(
        "-> with a thread per task, each task costs about {}; inline, about {}",
        us(t_spawn / TASKS as u32),
        us(t_inline / TASKS as u32)
    );

    let jobs = 4 * cores as u64;
    println!("\n{jobs} heavy tasks\n");
    let (a, t1) = timed("inline, one thread", || {
        (0..jobs).map(heavy_task).fold(0, u64::wrapping_add)
    });
    let (b, t2) = timed("split across cores", || {
        split_across_cores(jobs, heavy_task)
    });
    assert_eq!(a, b);
    println!(
        "-> speed-up {:.1}x on {cores} cores",
        t1.as_secs_f64() / t2.as_secs_f64()
    );

    let children = 50;
    let me = std::env::current_exe().expect("where is my own executable?");
    let start = Instant::now();
    for _ in 0..children {
        let out = Command::new(&me)
            .args([ROLE_FLAG, "tiny"])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let per_child = start.elapsed() / children;
    println!(
        "\none child process per tiny task: about {} per task ({children} children)",
        us(per_child)
    );
}
