//! Myth: "more threads is always faster."
//!
//! Run: `cargo run -p demos --bin threads-not-always-faster`
//! (add `--release` for optimised numbers; the shape stays the same)
//!
//! The same 10,000 tiny tasks are run three ways: inline on one thread, one
//! new thread per task, and split across as many threads as the machine has
//! cores. Then one big job is run inline and split. Every variant runs
//! ROUNDS times, the variants taking turns, and the demo prints the median
//! with the spread (fastest–slowest): on a busy machine one run says little,
//! and the spread shows how little. The numbers are this machine's; the
//! point is their ratio.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use demos::{figure_spread, ms, role, us, ROLE_FLAG};

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

/// How many times each variant runs.
const ROUNDS: usize = 5;

/// The median and the extremes of some measurements.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        Spread {
            median: values[values.len() / 2],
            min: values[0],
            max: values[values.len() - 1],
        }
    }
}

/// Runs each of `ways` ROUNDS times, taking turns, checks they agree, and
/// prints the median time of each with its spread. Returns every time, in
/// seconds, per way.
fn compare(ways: &[(&str, &dyn Fn() -> u64)]) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::new(); ways.len()];
    let mut answer = None;
    for _ in 0..ROUNDS {
        for (i, (_, way)) in ways.iter().enumerate() {
            let start = Instant::now();
            let result = way();
            times[i].push(start.elapsed().as_secs_f64());
            assert_eq!(
                *answer.get_or_insert(result),
                result,
                "every way computes the same"
            );
        }
    }
    for ((label, _), t) in ways.iter().zip(&times) {
        let s = Spread::of(t.clone());
        println!(
            "{label:<42} {:>10}  ({} to {})",
            ms(secs(s.median)),
            ms(secs(s.min)),
            ms(secs(s.max))
        );
    }
    times
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Round by round, how many times longer `slow` took than `fast`, also
/// recorded as the figure `name`.
fn ratios(name: &str, slow: &[f64], fast: &[f64]) -> Spread {
    let ratios: Vec<f64> = slow.iter().zip(fast).map(|(s, f)| s / f).collect();
    figure_spread(name, &ratios);
    Spread::of(ratios)
}

fn main() {
    if role().as_deref() == Some("tiny") {
        // A child process started only to do one tiny task.
        println!("{}", tiny_task(7));
        return;
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    println!("{TASKS} tiny tasks, {cores} cores, each way run {ROUNDS} times: median (fastest to slowest)\n");
    let t = compare(&[
        ("inline, one thread", &inline),
        ("one new thread per task", &one_thread_per_task),
        ("split across cores (one thread per core)", &|| {
            split_across_cores(TASKS, tiny_task)
        }),
    ]);
    let per_task = |t: &[f64]| secs(Spread::of(t.to_vec()).median / TASKS as f64);
    let slower = ratios("tiny.thread_per_task_slower", &t[1], &t[0]);
    let median = |t: &[f64]| secs(Spread::of(t.to_vec()).median);
    demos::figure_ms("tiny.inline_ms", median(&t[0]));
    demos::figure_ms("tiny.thread_per_task_ms", median(&t[1]));
    demos::figure_us("tiny.inline_per_task_us", per_task(&t[0]));
    demos::figure_us("tiny.thread_per_task_us", per_task(&t[1]));
    let per_task = |t: &[f64]| us(per_task(t));
    println!(
        "-> with a thread per task, each task costs about {}; inline, about {}:\n   \
         {:.0} times slower (from {:.0} to {:.0} times, round by round)",
        per_task(&t[1]),
        per_task(&t[0]),
        slower.median,
        slower.min,
        slower.max
    );

    let jobs = 4 * cores as u64;
    println!("\n{jobs} heavy tasks\n");
    let t = compare(&[
        ("inline, one thread", &|| {
            (0..jobs).map(heavy_task).fold(0, u64::wrapping_add)
        }),
        ("split across cores", &|| {
            split_across_cores(jobs, heavy_task)
        }),
    ]);
    let speed_up = ratios("heavy.split_speedup", &t[0], &t[1]);
    println!(
        "-> speed-up {:.1}x on {cores} cores (from {:.1}x to {:.1}x, round by round)",
        speed_up.median, speed_up.min, speed_up.max
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
    demos::figure_us("child_per_task_us", per_child);
    println!(
        "\none child process per tiny task: about {} per task ({children} children)",
        us(per_child)
    );
}
