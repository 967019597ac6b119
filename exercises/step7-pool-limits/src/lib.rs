//! Step 7, resource management and limits: *pool limits*.
//!
//! Read the chapter first: book/src/step7-pool-limits.md
//! (or `cargo xtask book --open`, then "7. Resource management and limits").
//!
//! Threads and processes cost memory, time and file descriptors, so a
//! program that starts one per job falls over when the jobs come faster than
//! they finish. You are building the two bounded versions:
//!
//! * a thread pool: a fixed number of workers fed from a queue of fixed
//!   capacity. When the queue is full, `submit` waits (back-pressure);
//! * a process pool: one child process per job, but never more than N
//!   children alive at once.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step7
//! ```
//!
//! Stuck? `cargo xtask hint step7` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports)]

use std::io;
use std::process::{Child, Stdio};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};

/// The child side of the process pool (given): what runs in each child.
pub mod worker {
    use std::process::{Command, Stdio};

    /// The command-line argument that starts this program as a pool child.
    pub const ROLE: &str = "--step7-child";

    /// Call this first thing in `main`. If this process was started as a
    /// pool child (`<exe> --step7-child <input>`), it runs `job` on the
    /// input, prints the result on stdout and exits; otherwise it returns.
    pub fn run_if_requested(job: fn(&str) -> String) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) == Some(ROLE) {
            let input = args.get(1).map(String::as_str).unwrap_or("");
            println!("{}", job(input));
            std::process::exit(0);
        }
    }

    /// The command that runs one job in a child: this program's own
    /// executable in the child role, its stdout piped back to us.
    pub fn command(input: &str) -> Command {
        let exe = std::env::current_exe().expect("the path of this program");
        let mut cmd = Command::new(exe);
        cmd.arg(ROLE).arg(input).stdout(Stdio::piped());
        cmd
    }
}

/// A job for the thread pool.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed number of worker threads fed from a bounded queue.
pub struct ThreadPool {
    /// Where `submit` puts jobs; `None` once the pool is shutting down.
    queue: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    /// Starts `workers` threads sharing one queue that holds at most
    /// `queue_capacity` waiting jobs.
    pub fn new(workers: usize, queue_capacity: usize) -> ThreadPool {
        // TODO. Exactly `workers` threads run jobs, never more, and at most
        // `queue_capacity` jobs wait while they are all busy. Chapter: "Bounded pools".
        todo!("ThreadPool::new")
    }

    /// Queues a job. While the queue is full, waits for room: that wait is
    /// the back-pressure that keeps a fast producer from piling up work.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        // TODO. With every worker busy and the queue full, this sleeps until
        // there is room (no polling); it never runs the job itself, nor drops
        // it. Chapter: "Bounded pools" (back-pressure).
        todo!("ThreadPool::submit")
    }

    /// Lets every queued job finish, then joins every worker thread.
    /// Returns how many workers were joined.
    pub fn shutdown(self) -> usize {
        // TODO. Every job already queued still runs, exactly once, and when
        // this returns every worker thread has ended. (`mut self` above is
        // allowed.) Chapter: "Bounded pools", its last paragraph.
        todo!("ThreadPool::shutdown")
    }
}

/// Runs one job per input, each in its own child process started by
/// `spawn`, with never more than `max_alive` children alive at once.
///
/// `spawn(input)` starts the child for one input with its stdout piped; the
/// child's result is everything it prints (trimmed), or an `Err` if it could
/// not be started or did not exit successfully. Results come back in the
/// order of `inputs`, one per input.
pub fn run_in_processes<F>(inputs: &[String], max_alive: usize, spawn: F) -> Vec<io::Result<String>>
where
    F: Fn(&str) -> io::Result<Child> + Sync,
{
    // TODO. Never more than `max_alive` children alive at once, yet that
    // many kept busy while there is work: a child that ends makes room for
    // the next input at once. Every child is waited for; results come in the
    // order of `inputs`, whatever order the children end in; a child may
    // print more than a pipe holds. Chapter: "Bounded pools", and step 4's
    // "Exit status, and zombies".
    todo!("run_in_processes")
}

/// A ready-made `spawn` for [`run_in_processes`]: this program in the child
/// role (see [`worker`]), stdin closed, stderr shown.
pub fn spawn_worker(input: &str) -> io::Result<Child> {
    worker::command(input).stdin(Stdio::null()).spawn()
}
