//! Reference solution of step 6, choosing between them: *isolation*.
//! Chapter: book/src/step6-isolation.md.
//!
//! A supervisor runs risky jobs in worker processes (this program's own
//! executable, started in the worker role). Whatever a job does to its
//! process, the supervisor survives, reports it, and starts a fresh worker.

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
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg(worker::ROLE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = child.stdout.take().expect("stdout was piped");
        let started = Worker {
            child,
            stdin,
            replies: read_lines(stdout),
        };
        // Wait until the worker is up, with no time limit: how long a process
        // takes to start depends on how busy the machine is, and that must
        // not count against the first job's time limit.
        match started.replies.recv() {
            Ok(line) if line == worker::READY => Ok(started),
            Ok(line) => {
                started.kill();
                Err(io::Error::other(format!(
                    "the worker said {line:?} instead of {:?}",
                    worker::READY
                )))
            }
            Err(_) => {
                started.kill();
                Err(io::Error::other("the worker ended before it was ready"))
            }
        }
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one job and waits at most `limit` for its reply.
    pub fn run(&mut self, job: &Job, limit: Duration) -> Outcome {
        let sent =
            writeln!(self.stdin, "{} {}", job.name, job.input).and_then(|_| self.stdin.flush());
        if sent.is_err() {
            // The pipe is broken: the worker is gone.
            return self.crashed();
        }
        match self.replies.recv_timeout(limit) {
            Ok(line) => match line.strip_prefix("ok ") {
                Some(result) => Outcome::Ok(result.to_string()),
                None => Outcome::ProtocolError(line),
            },
            Err(RecvTimeoutError::Timeout) => Outcome::TimedOut,
            Err(RecvTimeoutError::Disconnected) => self.crashed(),
        }
    }

    /// The worker closed its stdout without replying: collect its exit status.
    fn crashed(&mut self) -> Outcome {
        match self.child.wait() {
            Ok(status) => Outcome::Crashed(status),
            Err(e) => Outcome::ProtocolError(format!("cannot wait for the worker: {e}")),
        }
    }

    /// Stops a healthy worker: closing its stdin ends its loop; then wait.
    pub fn shut_down(self) -> io::Result<ExitStatus> {
        let Worker {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        child.wait()
    }

    /// Ends a worker that cannot be trusted any more (hung, crashed, or out
    /// of step with the protocol), and waits for it so no zombie is left.
    pub fn kill(mut self) {
        // Killing a process that has already exited is harmless.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Supervisor {
    /// Runs every job, in order, and reports each one's outcome.
    pub fn run_all(&self, jobs: &[Job]) -> Report {
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut worker: Option<Worker> = None;
        let mut started = 0;
        for job in jobs {
            if worker.is_none() {
                // The first worker is a start; every later one is a restart.
                if started > self.max_restarts {
                    outcomes.push(Outcome::NotRun);
                    continue;
                }
                match Worker::start() {
                    Ok(w) => worker = Some(w),
                    Err(_) => {
                        outcomes.push(Outcome::NotRun);
                        continue;
                    }
                }
                started += 1;
            }
            let current = worker.as_mut().expect("a worker was just started");
            let outcome = current.run(job, self.time_limit);
            if !matches!(outcome, Outcome::Ok(_)) {
                // Hung, dead, or out of step: never reuse it.
                if let Some(bad) = worker.take() {
                    bad.kill();
                }
            }
            outcomes.push(outcome);
        }
        if let Some(last) = worker {
            // The worker is gone either way; an error here changes nothing.
            let _ = last.shut_down();
        }
        Report {
            outcomes,
            restarts: started.saturating_sub(1),
        }
    }
}
