//! Benchmark 4: one CPU-bound job (counting primes by trial division) split
//! over 1..=N threads, and over 1..=N child processes, N being the number of
//! cores `available_parallelism` reports.

use std::io::{self, Read};
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::child::Worker;
use crate::plan::Plan;
use crate::stats::Stats;

/// Numbers are dealt out in blocks, round-robin, so every worker gets a fair
/// mix of small (cheap) and large (expensive) numbers.
const BLOCK: u64 = 1024;

fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) {
        return false;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// Counts the primes below `limit` in the blocks that belong to worker
/// `index` of `workers`.
///
/// Never inlined: threads, the event loop and the child processes then all
/// run the very same machine code. (Inlined copies differed by about 10 % in
/// speed on the reference machine, from code layout alone.)
#[inline(never)]
pub fn count_primes(limit: u64, workers: u64, index: u64) -> u64 {
    let workers = workers.max(1);
    let mut count = 0;
    let mut block = index;
    while block * BLOCK < limit {
        let start = block * BLOCK;
        let end = (start + BLOCK).min(limit);
        count += (start..end).filter(|&n| is_prime(n)).count() as u64;
        block += workers;
    }
    count
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScalePoint {
    pub workers: usize,
    /// Wall time of the whole job, in milliseconds.
    pub threads_ms: Stats,
    pub processes_ms: Stats,
    /// One thread's median time divided by this median time.
    pub threads_speedup: f64,
    pub processes_speedup: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScalingReport {
    pub job: String,
    pub limit: u64,
    pub primes: u64,
    pub points: Vec<ScalePoint>,
}

fn with_threads(limit: u64, workers: usize) -> u64 {
    thread::scope(|s| {
        let parts: Vec<_> = (0..workers as u64)
            .map(|i| s.spawn(move || count_primes(limit, workers as u64, i)))
            .collect();
        parts.into_iter().map(|p| p.join().expect("worker")).sum()
    })
}

/// Starts all children first, then collects their answers: they run at the
/// same time. Spawning them is part of the measured cost.
pub fn with_processes(limit: u64, workers: usize) -> io::Result<u64> {
    let mut children = Vec::with_capacity(workers);
    for i in 0..workers {
        let args = [limit, workers as u64, i as u64].map(|a| a.to_string());
        children.push(Worker::spawn("primes", &args, true)?);
    }
    let mut total = 0;
    for mut child in children {
        let mut answer = String::new();
        child.take_stdout().read_to_string(&mut answer)?;
        total += answer
            .trim()
            .parse::<u64>()
            .map_err(|e| io::Error::other(format!("bad answer {answer:?}: {e}")))?;
        child.finish()?;
    }
    Ok(total)
}

fn timed<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<(f64, T)> {
    let start = Instant::now();
    let value = f()?;
    Ok((start.elapsed().as_secs_f64() * 1e3, value))
}

pub fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<ScalingReport> {
    let limit = plan.scaling_limit;
    let primes = count_primes(limit, 1, 0); // also a warm-up
    let cores = cores();
    let mut threads = vec![Vec::new(); cores];
    let mut processes = vec![Vec::new(); cores];
    // Rounds go through every variant in turn, so that a disturbance (another
    // program waking up) hits all variants alike, not only the one running.
    for round in 1..=plan.scaling_rounds {
        tick(&format!(
            "scaling: round {round} of {}",
            plan.scaling_rounds
        ));
        for workers in 1..=cores {
            let (ms, n) = timed(|| Ok(with_threads(limit, workers)))?;
            assert_eq!(n, primes, "threads counted wrong");
            threads[workers - 1].push(ms);
            let (ms, n) = timed(|| with_processes(limit, workers))?;
            if n != primes {
                return Err(io::Error::other("child processes counted wrong"));
            }
            processes[workers - 1].push(ms);
        }
    }
    let measured: Vec<_> = threads
        .into_iter()
        .zip(processes)
        .enumerate()
        .map(|(i, (t, p))| (i + 1, Stats::of(t), Stats::of(p)))
        .collect();
    let base = measured[0].1.median;
    let points = measured
        .into_iter()
        .map(|(workers, threads_ms, processes_ms)| ScalePoint {
            workers,
            threads_speedup: base / threads_ms.median,
            processes_speedup: base / processes_ms.median,
            threads_ms,
            processes_ms,
        })
        .collect();
    Ok(ScalingReport {
        job: format!("count the primes below {limit} by trial division"),
        limit,
        primes,
        points,
    })
}
