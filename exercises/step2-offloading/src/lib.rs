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
//! Replace every `todo!()` below. Check your work with:
//!
//!     cargo xtask check step2
//!
//! Stuck? `cargo xtask hint step2` prints the hint of each failing check.

// This line only keeps the unsolved exercise free of "unused" warnings.
// Delete it once you start; the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports)]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::thread;

use crossbeam_channel::{never, select, unbounded, Receiver, Sender};

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
    // TODO:
    // - make a channel for finished jobs (`unbounded::<Finished>()`); every
    //   job you start gets a clone of its sender;
    // - loop, and in each round wait on BOTH channels with `select!`:
    //     * an Event: answer a Ping at once with Reply::Pong; hand a job to
    //       `offload_to_thread` or `offload_to_child` and count it as pending.
    //       Never run a job here: the loop must stay free for the next event.
    //     * a Finished: one job fewer pending; send Reply::Done.
    // - `recv` on `events` fails once every sender is gone. After that, keep
    //   waiting only for the pending jobs (`never()` is a channel that never
    //   delivers: select on it instead of the closed one), and return when
    //   none is left.
    todo!("run")
}

/// Runs `job` on a new thread and sends its result to `done`, exactly once.
/// A panic in the job becomes `Err("the job panicked: <message>")`; it must
/// not take the loop down.
pub fn offload_to_thread(id: u64, job: Job, done: Sender<Finished>) {
    // TODO: `thread::spawn` a thread that runs the job inside
    // `panic::catch_unwind(AssertUnwindSafe(job))`, turns a panic payload
    // into text with `panic_message`, and sends one Finished.
    todo!("offload_to_thread")
}

/// Runs `heavy_work(n)` in a child process without blocking the caller, and
/// sends the result to `done`, exactly once.
pub fn offload_to_child(id: u64, n: u64, done: Sender<Finished>) {
    // TODO: waiting for a child process blocks, so do it on a thread:
    // spawn one that calls `run_in_child(n)` and sends one Finished.
    todo!("offload_to_child")
}

/// Starts this program again as a worker (`<exe> --step2-worker <n>`), waits
/// for it and reads its answer. Blocks until the child has exited.
pub fn run_in_child(n: u64) -> Result<u64, String> {
    // TODO:
    // - `std::env::current_exe()` is the path of this program;
    // - `Command::new(exe).arg(worker::WORKER_ARG).arg(n.to_string())`
    //   (arguments one by one: no shell, no command string);
    // - `.output()` runs it, waits, and collects stdout and the exit status;
    // - a failed status, or stdout that is not a number, is an `Err` that
    //   says what went wrong; otherwise parse the trimmed stdout.
    todo!("run_in_child")
}

/// The text of a panic, from the payload `catch_unwind` or `join` gives back
/// (given).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
