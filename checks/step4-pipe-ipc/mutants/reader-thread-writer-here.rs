//! mutant: right
//! design: the answers are read on a spawned thread while this thread writes the jobs

//! Step 4, how child processes work: reference solution.
//! Chapter: book/src/step4-pipe-ipc.md

use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::thread;

use serde::{Deserialize, Serialize};

/// A job the parent sends to the worker: one JSON line on the worker's stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub text: String,
}

/// The worker's answer: one JSON line on its stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: u64,
    pub words: usize,
    pub shouted: String,
}

/// The work itself: count the words and shout the text.
pub fn process(job: &Job) -> Answer {
    Answer {
        id: job.id,
        words: job.text.split_whitespace().count(),
        shouted: job.text.to_uppercase(),
    }
}

/// The worker role: this same program, started with an extra argument.
pub mod worker {
    use super::*;

    /// `<program> --step4-worker` serves jobs on stdin until end-of-file.
    pub const WORKER_ARG: &str = "--step4-worker";

    /// Call this first thing in `main`. If the program was started as a
    /// worker, it serves jobs until its stdin ends and exits (0 on success);
    /// otherwise it returns and `main` goes on as usual.
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
        for line in input.lines() {
            let line = line?;
            let job: Job = serde_json::from_str(&line)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            serde_json::to_writer(&mut output, &process(&job))?;
            output.write_all(b"\n")?;
            output.flush()?;
        }
        Ok(())
    }
}

/// How the parent starts the worker: this same program with the worker
/// argument. No shell: the program and each argument are passed as they are.
pub fn worker_command() -> io::Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg(worker::WORKER_ARG);
    Ok(cmd)
}

/// Everything came back, and the worker has exited.
#[derive(Debug)]
pub struct Finished {
    /// One answer per job, in the order of the jobs.
    pub answers: Vec<Answer>,
    /// The worker's exit status: we waited for it, so it is no zombie.
    pub status: ExitStatus,
}

/// What can go wrong talking to a worker.
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

/// Starts the worker and runs `jobs` through it.
pub fn run_jobs(jobs: Vec<Job>) -> Result<Finished, IpcError> {
    run_jobs_with(worker_command().map_err(IpcError::Spawn)?, jobs)
}

/// Writes each job as one JSON line, then closes the pipe (by dropping it):
/// the worker sees end-of-file.
pub fn write_jobs(stdin: ChildStdin, jobs: &[Job]) -> io::Result<()> {
    let mut out = BufWriter::new(stdin);
    for job in jobs {
        serde_json::to_writer(&mut out, job)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Starts `cmd` with piped stdin and stdout, sends it `jobs` as JSON lines
/// and reads one `Answer` line per job. Writing happens on its own thread
/// while this one reads, so neither pipe can fill up and block both sides.
/// The worker is always waited for; on a bad answer it is killed first.
pub fn run_jobs_with(mut cmd: Command, jobs: Vec<Job>) -> Result<Finished, IpcError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(IpcError::Spawn)?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let expected = jobs.len();
    // The writer owns stdin; when it is done (or the worker is gone), the
    // pipe closes with it.
    let reader = thread::spawn(move || read_answers(stdout, expected));
    let written = write_jobs(stdin, &jobs);
    let (answers, failure) = reader.join().expect("the reader thread does not panic");
    finish(child, answers, expected, failure, written)
}

/// Reads up to `expected` answers; stops at the first line that is not one.
fn read_answers(
    stdout: std::process::ChildStdout,
    expected: usize,
) -> (Vec<Answer>, Option<IpcError>) {
    let mut answers = Vec::with_capacity(expected);
    let mut lines = BufReader::new(stdout).lines();
    let mut failure = None;
    while answers.len() < expected {
        match lines.next() {
            None => break,
            Some(Err(e)) => {
                failure = Some(IpcError::Io(e));
                break;
            }
            Some(Ok(line)) => match serde_json::from_str::<Answer>(&line) {
                Ok(answer) => answers.push(answer),
                Err(e) => {
                    failure = Some(IpcError::Malformed {
                        error: e.to_string(),
                        line,
                    });
                    break;
                }
            },
        }
    }
    (answers, failure)
}

fn finish(
    mut child: std::process::Child,
    answers: Vec<Answer>,
    expected: usize,
    failure: Option<IpcError>,
    written: io::Result<()>,
) -> Result<Finished, IpcError> {
    if failure.is_some() {
        // We stop listening: the worker must not run on unheard.
        let _ = child.kill();
    }
    // Always reap the child, whatever happened.
    let status = child.wait().map_err(IpcError::Io)?;
    // The writer ends too: all written, or a broken pipe. Its error matters
    // only if nothing else went wrong.
    if let Some(failure) = failure {
        return Err(failure);
    }
    if answers.len() < expected {
        return Err(IpcError::WorkerDied {
            answered: answers.len(),
            expected,
            status,
        });
    }
    written.map_err(IpcError::Io)?;
    Ok(Finished { answers, status })
}
