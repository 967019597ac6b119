//! Step 2, parallelism basics: *offloading*.
//!
//! Read the chapter first: book/src/step2-offloading.md
//! (or `cargo xtask book --open`, then "2. Parallelism basics").
//!
//! In step 1 one heavy handler froze the whole loop. Here you keep the loop
//! answering while heavy jobs run elsewhere: on a worker thread, or in a
//! child process (this same program, started again in a "worker" role). When
//! a job is done, its result comes back into the loop as one more event.
//!
//! The loop reads two channels at once with crossbeam's `select!`: the events
//! from outside, and the results of finished jobs.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step2
//! ```
//!
//! Stuck? `cargo xtask hint step2` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports)]

use std::any::Any;
use std::process::Command;
use std::thread;

use crossbeam_channel::{select, unbounded, Receiver, Sender};

/// The heavy handler (given): counts the prime numbers up to `n` the slow
/// way. Pure CPU work, the same answer in a thread or in a child process.
pub fn heavy_work(n: u64) -> u64 {
    (2..=n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

/// The worker role (given): this same program, started again with an extra
/// argument. It is the Rust counterpart of Node's `child_process.fork`.
pub mod worker {
    /// The argument that tells the program to act as a worker:
    /// `<program> --step2-worker <n>` prints `heavy_work(n)` and exits.
    pub const WORKER_ARG: &str = "--step2-worker";

    /// Call this first thing in `main`. If the program was started as a
    /// worker, it does the job, prints the answer on stdout and exits;
    /// otherwise it returns and `main` goes on as usual.
    ///
    /// (The grader's checks binary calls it too: inside a check, "this same
    /// program" is the checks binary.)
    pub fn run_if_requested() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) != Some(WORKER_ARG) {
            return;
        }
        let code = match args.get(1).and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => {
                println!("{}", super::heavy_work(n));
                0
            }
            None => {
                eprintln!("usage: <program> {WORKER_ARG} <n>");
                2
            }
        };
        std::process::exit(code);
    }
}

/// A job for a worker thread. `Send` because it moves to another thread.
pub type Job = Box<dyn FnOnce() -> u64 + Send + 'static>;

/// What arrives at the loop from outside (given).
pub enum Event {
    /// A small event: answer it with `Reply::Pong` carrying the same number.
    Ping(u64),
    /// A heavy job to run on a worker thread.
    OnThread { id: u64, job: Job },
    /// A heavy job to run in a child process: `heavy_work(n)`.
    InChild { id: u64, n: u64 },
}

/// What the loop sends back (given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Pong(u64),
    /// A job finished: its number, or why it failed.
    Done {
        id: u64,
        result: Result<u64, String>,
    },
}

/// A finished job on its way back into the loop, as an event (given).
#[derive(Debug)]
pub struct Finished {
    pub id: u64,
    pub result: Result<u64, String>,
}

/// The event loop. Handles events until `events` is closed (every sender
/// dropped) and every job it started has reported back, then returns.
pub fn run(events: Receiver<Event>, replies: Sender<Reply>) {
    // TODO. Every Ping gets its Pong at once, every job exactly one Done;
    // the loop itself never runs a job nor waits for one, and with nothing
    // to do it sleeps instead of polling. It returns once the input is closed
    // and every job has reported back. Chapter: "The shape: two inputs, one
    // loop" and "When is the loop done?".
    todo!("run")
}

/// Runs `job` on a new thread and sends its result to `done`, exactly once.
/// A panic in the job becomes `Err("the job panicked: <message>")`; it must
/// not take the loop down.
pub fn offload_to_thread(id: u64, job: Job, done: Sender<Finished>) {
    // TODO. A job that panics still gets its Done: an error that contains
    // the panic's message. Chapter: "Offloading to a thread".
    todo!("offload_to_thread")
}

/// Runs `heavy_work(n)` in a child process without blocking the caller, and
/// sends the result to `done`, exactly once.
pub fn offload_to_child(id: u64, n: u64, done: Sender<Finished>) {
    // TODO. Returns at once: the child runs, and is waited for, off the loop.
    // Chapter: "Offloading to a child process".
    todo!("offload_to_child")
}

/// Starts this program again as a worker (`<exe> --step2-worker <n>`), waits
/// for it and reads its answer. Blocks until the child has exited.
pub fn run_in_child(n: u64) -> Result<u64, String> {
    // TODO. A worker that fails, or prints something that is not a number,
    // is an `Err` whose text says what went wrong; never a panic. No shell,
    // no command string. Chapter: "Offloading to a child process".
    todo!("run_in_child")
}

/// The text of a panic, from its payload (what a panicked thread's `join`
/// gives back; given).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
