//! Step 6, choosing between them: *isolation*.
//!
//! Read the chapter first: book/src/step6-isolation.md
//! (or `cargo xtask book --open`, then "6. Choosing between them").
//!
//! You are writing a supervisor: it runs risky jobs in worker processes, so
//! that whatever a job does (panic, abort, hang, print nonsense) hurts only
//! its own process. The supervisor puts a time limit on each job, kills
//! what hangs, reports what happened to every job, starts a fresh worker
//! when one is lost (up to a limit), and leaves no process behind.
//!
//! The worker is this program's own executable started again with the
//! argument `--step6-worker` (the worker side is given, in [`worker`]).
//! In the grader, "this program" is the checks binary: its `main` calls
//! `worker::run_if_requested` with the risky jobs before anything else.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step6
//! ```
//!
//! Stuck? `cargo xtask hint step6` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code, unused_imports)]

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// The worker side (given): what runs inside the child process.
pub mod worker {
    use std::io::{self, BufRead, Write};

    /// The command-line argument that starts this program as a worker.
    pub const ROLE: &str = "--step6-worker";

    /// The first line a worker writes, once it is up and waiting for jobs.
    pub const READY: &str = "ready";

    /// A job the worker knows how to run: input text in, result text out.
    pub type JobFn = fn(&str) -> String;

    /// Call this first thing in `main`. If this process was started as a
    /// worker (its first argument is [`ROLE`]), it serves jobs until its stdin
    /// closes and then exits; otherwise it returns at once.
    pub fn run_if_requested(jobs: &[(&str, JobFn)]) {
        if std::env::args().nth(1).as_deref() == Some(ROLE) {
            serve(jobs);
            std::process::exit(0);
        }
    }

    /// The worker's loop. The protocol: first the worker writes [`READY`]
    /// on a line of its own; then, one line each way per job:
    ///
    /// * request (supervisor to worker): `<job name> <input>`
    /// * reply (worker to supervisor): `ok <result>`
    ///
    /// Anything else on the worker's stdout breaks the protocol. A panic in a
    /// job is not caught here: it ends the worker process (exit code 101).
    fn serve(jobs: &[(&str, JobFn)]) {
        {
            let mut out = io::stdout().lock();
            if writeln!(out, "{READY}").and_then(|_| out.flush()).is_err() {
                return;
            }
        }
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let (name, input) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            let reply = match jobs.iter().find(|(known, _)| *known == name) {
                // A result is one line: a newline in it would split the reply.
                Some((_, job)) => format!("ok {}", job(input).replace('\n', " ")),
                None => format!("unknown job {name:?}"),
            };
            let mut out = io::stdout().lock();
            if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    }
}

/// One job to run: the name of a job the worker knows, and its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: String,
    pub input: String,
}

impl Job {
    pub fn new(name: &str, input: &str) -> Job {
        Job {
            name: name.to_string(),
            input: input.to_string(),
        }
    }
}

/// What happened to one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The worker replied `ok <result>`.
    Ok(String),
    /// The worker process died before it replied; how it ended.
    Crashed(ExitStatus),
    /// No reply within the time limit; the worker was killed.
    TimedOut,
    /// The worker wrote something that is not a reply (shown here).
    ProtocolError(String),
    /// Not run: the supervisor had used up its restarts.
    NotRun,
}

/// Runs jobs in worker processes, one job at a time.
#[derive(Debug, Clone)]
pub struct Supervisor {
    /// How long a job may take before its worker is killed.
    pub time_limit: Duration,
    /// How many times a fresh worker may replace one that failed.
    pub max_restarts: usize,
}

/// What [`Supervisor::run_all`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One outcome per job, in the order of the jobs.
    pub outcomes: Vec<Outcome>,
    /// How many workers were started to replace one that failed.
    pub restarts: usize,
}

/// Reads the worker's stdout line by line on a thread of its own and sends
/// each line down a channel (given).
///
/// A pipe has no read timeout in std; a channel has (`recv_timeout`). The
/// channel disconnects once the worker's stdout closes: the worker exited or
/// was killed. The thread then ends by itself.
pub fn read_lines(stdout: ChildStdout) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// One worker process and its pipes.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
}

impl Worker {
    /// Starts this program's own executable in the worker role, with its
    /// stdin and stdout piped to us.
    pub fn start() -> io::Result<Worker> {
        // TODO. Returns a worker that has said `worker::READY`, however long
        // that took; a worker that says anything else, or ends first, is an
        // error, and is not left running. Chapter: "A supervisor", point 1.
        todo!("Worker::start")
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one job and waits at most `limit` for its reply.
    pub fn run(&mut self, job: &Job, limit: Duration) -> Outcome {
        // TODO. One request line out (the protocol is in `worker::serve`), at
        // most `limit` for the reply, one `Outcome` for what happened; this does
        // not kill the worker. A dying worker may stay alive for a while after
        // closing its stdout. Chapter: "A supervisor", points 2 to 4.
        todo!("Worker::run")
    }

    /// Stops a healthy worker and returns how it exited.
    pub fn shut_down(self) -> io::Result<ExitStatus> {
        // TODO. The worker leaves its loop, and exits by itself, only when its
        // stdin closes. Chapter: "A supervisor", point 6.
        todo!("Worker::shut_down")
    }

    /// Ends a worker that cannot be trusted any more (hung, crashed, or out
    /// of step with the protocol), and waits for it so no zombie is left.
    pub fn kill(self) {
        // TODO. It may be hung, or already dead: either way, when this returns
        // the process is gone and waited for. (`mut self` above is allowed.)
        // Chapter: "Why a thread cannot be stopped" and "A supervisor".
        todo!("Worker::kill")
    }
}

impl Supervisor {
    /// Runs every job, in order, and reports each one's outcome.
    pub fn run_all(&self, jobs: &[Job]) -> Report {
        // TODO. Jobs in order, one worker at a time, one outcome per job. Jobs
        // that succeed in a row share one worker; after any other outcome the
        // next job gets a new one. The first worker is free, each later one is a
        // restart; once `max_restarts` are used up the remaining jobs are
        // `NotRun`, as is a job whose worker cannot be started. When this
        // returns, no worker is left, running or a zombie.
        // Chapter: "A supervisor", point 5.
        todo!("Supervisor::run_all")
    }
}
