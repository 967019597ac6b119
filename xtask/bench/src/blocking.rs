//! Benchmark 5: a tiny event loop (one thread, one queue, the step-1 model)
//! gets a timer tick every few milliseconds and, once, a heavy job. How late
//! is the worst tick when the job runs inline, on a thread, in a child?

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::scaling::{count_primes, with_processes};
use crate::stats::Stats;

/// The timer's period.
const TICK: Duration = Duration::from_millis(5);
/// Ticks before the heavy job arrives, and ticks kept after it finished.
const TICKS_BEFORE: u32 = 4;
const TICKS_AFTER: u32 = 4;

pub const MODES: [(&str, &str); 3] = [
    ("inline", "job runs inside the loop"),
    ("thread", "job offloaded to a thread"),
    ("process", "job offloaded to a child process"),
];

enum Event {
    /// A timer tick that was due at this instant.
    Tick(Instant),
    /// The heavy job arrives.
    Heavy,
    /// The offloaded job is done.
    Done(io::Result<u64>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockResult {
    pub mode: String,
    pub label: String,
    /// The latest tick of each run, in milliseconds behind its due time.
    pub worst_delay_ms: Stats,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockingReport {
    pub tick_ms: f64,
    /// How long the heavy job takes on its own (inline), in milliseconds.
    pub job_ms: Stats,
    pub results: Vec<BlockResult>,
}

/// Sends a tick every `TICK` (and the heavy job once) until told to stop.
fn ticker(events: Sender<Event>, stop: Arc<AtomicBool>) {
    let start = Instant::now();
    // A timer channel delivers one message every TICK, like an event loop's
    // timer; `due` is when each tick was meant to fire.
    let timer = crossbeam_channel::tick(TICK);
    for i in 1u32.. {
        let due = start + TICK * i;
        if timer.recv().is_err() {
            return;
        }
        if stop.load(Ordering::Relaxed) || events.send(Event::Tick(due)).is_err() {
            return;
        }
        if i == TICKS_BEFORE && events.send(Event::Heavy).is_err() {
            return;
        }
    }
}

/// Runs the loop once; returns the worst tick delay and how long the job ran
/// (from its arrival to its result).
fn run_loop(mode: &str, limit: u64) -> io::Result<(Duration, Duration)> {
    let (tx, events) = crossbeam_channel::unbounded();
    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let (tx, stop) = (tx.clone(), Arc::clone(&stop));
        thread::spawn(move || ticker(tx, stop))
    };
    let mut worst = Duration::ZERO;
    let mut job_started = None;
    let mut job_time = None;
    let mut ticks_after = 0;
    let mut helper = None;
    let result = loop {
        let event = events.recv().expect("the ticker holds a sender");
        match event {
            Event::Tick(due) => {
                worst = worst.max(due.elapsed());
                if job_time.is_some() {
                    ticks_after += 1;
                    if ticks_after == TICKS_AFTER {
                        break Ok(());
                    }
                }
            }
            Event::Heavy => {
                job_started = Some(Instant::now());
                let tx = tx.clone();
                match mode {
                    "inline" => {
                        let primes = count_primes(limit, 1, 0);
                        tx.send(Event::Done(Ok(primes))).expect("loop alive");
                    }
                    "thread" => {
                        helper = Some(thread::spawn(move || {
                            let _ = tx.send(Event::Done(Ok(count_primes(limit, 1, 0))));
                        }));
                    }
                    _ => {
                        // A helper thread waits for the child so the loop
                        // never does; the child is reaped before it sends.
                        helper = Some(thread::spawn(move || {
                            let _ = tx.send(Event::Done(with_processes(limit, 1)));
                        }));
                    }
                }
            }
            Event::Done(answer) => {
                job_time = job_started.map(|s| s.elapsed());
                if let Err(e) = answer {
                    break Err(e);
                }
            }
        }
    };
    stop.store(true, Ordering::Relaxed);
    drop(events);
    timer.join().expect("ticker thread");
    if let Some(h) = helper {
        h.join().expect("helper thread");
    }
    result?;
    Ok((worst, job_time.unwrap_or_default()))
}

pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<BlockingReport> {
    let mut worst = vec![Vec::new(); MODES.len()];
    let mut job_ms = Vec::new();
    // Each round runs every mode in turn (see scaling.rs for why).
    for round in 1..=plan.blocking_rounds {
        tick(&format!(
            "blocking: round {round} of {}",
            plan.blocking_rounds
        ));
        for (i, (mode, _)) in MODES.iter().enumerate() {
            let (delay, job) = run_loop(mode, plan.blocking_limit)?;
            worst[i].push(delay.as_secs_f64() * 1e3);
            if *mode == "inline" {
                job_ms.push(job.as_secs_f64() * 1e3);
            }
        }
    }
    let results = MODES
        .iter()
        .zip(worst)
        .map(|((mode, label), worst)| BlockResult {
            mode: (*mode).into(),
            label: (*label).into(),
            worst_delay_ms: Stats::of(worst),
        })
        .collect();
    Ok(BlockingReport {
        tick_ms: TICK.as_secs_f64() * 1e3,
        job_ms: Stats::of(job_ms),
        results,
    })
}
