//! Benchmark 1: what it costs to start (and finish) a thread, a scoped
//! thread, and a child process that does nothing.

use std::io;
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::child::Worker;
use crate::plan::Plan;
use crate::stats::Stats;

/// Microseconds per operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpawnReport {
    /// `thread::spawn` of an empty closure, then `join`.
    pub thread_us: Stats,
    /// `thread::scope` with one empty scoped thread.
    pub scoped_us: Stats,
    /// `Command::new(own exe) --role noop`, then `wait`.
    pub process_us: Stats,
    /// Median process cost divided by median thread cost.
    pub process_per_thread: f64,
}

/// Times `per_sample` repetitions of `op` and returns microseconds per op.
fn sample(per_sample: usize, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..per_sample {
        op();
    }
    start.elapsed().as_secs_f64() * 1e6 / per_sample as f64
}

pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<SpawnReport> {
    // One thread spawn + join varies with what the scheduler is doing, so
    // each sample times a batch and divides, which averages that noise out;
    // processes are timed one by one.
    tick("spawn: threads");
    let n = plan.spawns_per_sample;
    sample(n, || thread::spawn(|| {}).join().expect("empty thread"));
    let thread_us = (0..plan.thread_samples)
        .map(|_| sample(n, || thread::spawn(|| {}).join().expect("empty thread")))
        .collect();
    tick("spawn: scoped threads");
    let scoped_us = (0..plan.thread_samples)
        .map(|_| {
            sample(n, || {
                thread::scope(|s| {
                    s.spawn(|| {});
                })
            })
        })
        .collect();
    tick("spawn: child processes");
    let mut process_us = Vec::with_capacity(plan.process_samples);
    // One untimed start first: the first exec also loads the file from disk.
    Worker::spawn("noop", &[], false)?.finish()?;
    for _ in 0..plan.process_samples {
        let start = Instant::now();
        let status = Worker::spawn("noop", &[], false)?.finish()?;
        process_us.push(start.elapsed().as_secs_f64() * 1e6);
        if !status.success() {
            return Err(io::Error::other(format!("no-op child failed: {status}")));
        }
    }
    let thread_us = Stats::of(thread_us);
    let process_us = Stats::of(process_us);
    Ok(SpawnReport {
        process_per_thread: process_us.median / thread_us.median,
        thread_us,
        scoped_us: Stats::of(scoped_us),
        process_us,
    })
}
