//! Step 4, how child processes work: *pipe IPC*.
//!
//! Read the chapter first: book/src/step4-pipe-ipc.md
//! (or `cargo xtask book --open`, then "4. How child processes work").
//!
//! A child process has its own memory: the only way to reach it is through
//! the door, here its stdin and stdout pipes. You write both ends of a small
//! protocol, one JSON object per line (the way Node's `fork` talks to its
//! children):
//!
//! - the worker (`worker::serve`): reads `Job` lines, writes `Answer` lines;
//! - the parent (`run_jobs_with`): starts the worker, which is this same
//!   program started again with `--step4-worker` (the Rust counterpart of
//!   Node's `child_process.fork`), feeds it jobs, reads the answers, and
//!   waits for it to exit.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step4
//! ```
//!
//! Stuck? `cargo xtask hint step4` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports, unused_mut)]
use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::thread;

use serde::{Deserialize, Serialize};

/// A job the parent sends to the worker: one JSON line on the worker's stdin
/// (given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub text: String,
}

/// The worker's answer: one JSON line on its stdout (given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: u64,
    pub words: usize,
    pub shouted: String,
}

/// The work itself (given): count the words and shout the text.
pub fn process(job: &Job) -> Answer {
    Answer {
        id: job.id,
        words: job.text.split_whitespace().count(),
        shouted: job.text.to_uppercase(),
    }
}

/// The worker role: this same program, started with an extra argument.
/// `run_if_requested` is given; `serve` is yours.
pub mod worker {
    use super::*;

    /// `<program> --step4-worker` serves jobs on stdin until end-of-file.
    pub const WORKER_ARG: &str = "--step4-worker";

    /// Call this first thing in `main`. If the program was started as a
    /// worker, it serves jobs until its stdin ends and exits (0 on success);
    /// otherwise it returns and `main` goes on as usual.
    ///
    /// (The grader's checks binary calls it too: inside a check, "this same
    /// program" is the checks binary.)
    pub fn run_if_requested() {
        if std::env::args().nth(1).as_deref() != Some(WORKER_ARG) {
            return;
        }
        let code = match serve(io::stdin().lock(), io::stdout().lock()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("worker: {e}");
                1
            }
        };
        std::process::exit(code);
    }

    /// Reads one `Job` per line until end-of-file and writes one `Answer`
    /// per line, flushing each so the parent gets it at once. A line that is
    /// not a `Job` is an `InvalidData` error.
    pub fn serve(input: impl BufRead, mut output: impl Write) -> io::Result<()> {
        // TODO. One answer line per job line, each sent as soon as it exists
        // (the next job may wait for it); a line that is not JSON is an
        // `InvalidData` error. Chapter: "Framing: where does a message end?".
        todo!("serve")
    }
}

/// How the parent starts the worker: this same program with the worker
/// argument. No shell: the program and each argument are passed as they are.
pub fn worker_command() -> io::Result<Command> {
    // TODO. This same program with exactly one argument, `worker::WORKER_ARG`;
    // no shell (the chapter's "No shell" box). Chapter: "The concept" and
    // "Pipes: the door".
    todo!("worker_command")
}

/// Everything came back, and the worker has exited (given).
#[derive(Debug)]
pub struct Finished {
    /// One answer per job, in the order of the jobs.
    pub answers: Vec<Answer>,
    /// The worker's exit status: we waited for it, so it is no zombie.
    pub status: ExitStatus,
}

/// What can go wrong talking to a worker (given).
#[derive(Debug)]
pub enum IpcError {
    /// The worker could not be started.
    Spawn(io::Error),
    /// Reading from or writing to a pipe failed.
    Io(io::Error),
    /// The worker sent a line that is not an `Answer`.
    Malformed { line: String, error: String },
    /// The worker's stdout ended after `answered` of `expected` answers.
    WorkerDied {
        answered: usize,
        expected: usize,
        status: ExitStatus,
    },
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpcError::Spawn(e) => write!(f, "cannot start the worker: {e}"),
            IpcError::Io(e) => write!(f, "pipe error: {e}"),
            IpcError::Malformed { line, error } => {
                write!(f, "the worker sent a malformed line ({error}): {line:.80}")
            }
            IpcError::WorkerDied {
                answered,
                expected,
                status,
            } => write!(
                f,
                "the worker stopped after {answered} of {expected} answers ({status})"
            ),
        }
    }
}

impl std::error::Error for IpcError {}

/// Starts the worker and runs `jobs` through it (given).
pub fn run_jobs(jobs: Vec<Job>) -> Result<Finished, IpcError> {
    run_jobs_with(worker_command().map_err(IpcError::Spawn)?, jobs)
}

/// Writes each job as one JSON line to the worker; once this returns, the
/// worker sees end-of-file.
pub fn write_jobs(stdin: ChildStdin, jobs: &[Job]) -> io::Result<()> {
    // TODO. Each job is one line, even when its text holds newlines, and
    // the worker sees end-of-file once the last job is written.
    // Chapter: "Framing: where does a message end?" and "Pipes: the door".
    todo!("write_jobs")
}

/// Starts `cmd` with piped stdin and stdout, sends it `jobs` as JSON lines
/// and reads one `Answer` line per job, whatever the sizes of the jobs and
/// answers. The worker is always waited for, whatever goes wrong.
pub fn run_jobs_with(mut cmd: Command, jobs: Vec<Job>) -> Result<Finished, IpcError> {
    // TODO. One answer per job, in order; every failure is an `IpcError`,
    // never a panic or a hang; when this returns, the worker has exited and
    // been waited for, whatever happened. A line that is not an `Answer` (a
    // last line cut short included) is `Malformed`, with that line; output
    // that ends before every job is answered is `WorkerDied`, which wins over
    // an error from writing to a worker that is gone. A worker may stay alive
    // a while after closing its stdout, and the jobs can outgrow a pipe.
    // Chapter: "The pipe deadlock" and "Exit status, and zombies".
    todo!("run_jobs_with")
}
