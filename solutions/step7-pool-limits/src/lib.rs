//! Reference solution of step 7, resource management and limits: *pool
//! limits*. Chapter: book/src/step7-pool-limits.md.
//!
//! Two bounded pools: a thread pool whose queue has a fixed capacity (a full
//! queue makes `submit` wait: back-pressure), and a process pool that never
//! has more than N children alive.

use std::io::{self, Read};
use std::process::{Child, Stdio};
use std::sync::Mutex;
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
        let (tx, rx) = bounded::<Job>(queue_capacity);
        let workers = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                // Each worker takes jobs until the queue is closed and empty.
                std::thread::spawn(move || {
                    for job in rx {
                        job();
                    }
                })
            })
            .collect();
        ThreadPool {
            queue: Some(tx),
            workers,
        }
    }

    /// Queues a job. While the queue is full, waits for room: that wait is
    /// the back-pressure that keeps a fast producer from piling up work.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(queue) = &self.queue {
            // `send` on a bounded channel blocks while it is full. It fails
            // only if every worker is gone.
            queue
                .send(Box::new(job))
                .expect("the pool's workers are gone");
        }
    }

    /// Lets every queued job finish, then joins every worker thread.
    /// Returns how many workers were joined.
    pub fn shutdown(mut self) -> usize {
        // Dropping the only sender closes the queue: each worker finishes
        // what is left and then leaves its loop.
        drop(self.queue.take());
        let mut joined = 0;
        for worker in self.workers.drain(..) {
            if worker.join().is_ok() {
                joined += 1;
            }
        }
        joined
    }
}

/// Runs one job per input, each in its own child process started by
/// `spawn`, with never more than `max_alive` children alive at once.
///
/// `spawn(input)` starts the child for one input with its stdout piped; the
/// child's result is everything it prints (trimmed). Results come back in
/// the order of `inputs`, one per input.
pub fn run_in_processes<F>(inputs: &[String], max_alive: usize, spawn: F) -> Vec<io::Result<String>>
where
    F: Fn(&str) -> io::Result<Child> + Sync,
{
    let (tx, rx) = bounded::<usize>(inputs.len());
    for index in 0..inputs.len() {
        tx.send(index).expect("the queue has room for every index");
    }
    drop(tx);
    let results: Mutex<Vec<Option<io::Result<String>>>> =
        Mutex::new((0..inputs.len()).map(|_| None).collect());
    // N slots, each a thread that owns at most one child at a time: the
    // limit holds by construction.
    std::thread::scope(|scope| {
        for _ in 0..max_alive.max(1) {
            let (rx, spawn, results) = (rx.clone(), &spawn, &results);
            scope.spawn(move || {
                for index in rx {
                    let result = run_one(&inputs[index], spawn);
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(io::Error::other("the job was never run"))))
        .collect()
}

/// Starts one child, reads its whole output, and waits for it to exit.
fn run_one<F>(input: &str, spawn: &F) -> io::Result<String>
where
    F: Fn(&str) -> io::Result<Child>,
{
    let mut child = spawn(input)?;
    let mut output = String::new();
    let read = match child.stdout.take() {
        Some(mut stdout) => stdout.read_to_string(&mut output).map(|_| ()),
        None => Err(io::Error::other("the child's stdout was not piped")),
    };
    // Wait whatever happened, so the child never stays behind as a zombie.
    let status = child.wait()?;
    read?;
    if !status.success() {
        return Err(io::Error::other(format!("the child failed: {status}")));
    }
    Ok(output.trim().to_string())
}

/// A ready-made `spawn` for [`run_in_processes`]: this program in the child
/// role (see [`worker`]), stdin closed, stderr shown.
pub fn spawn_worker(input: &str) -> io::Result<Child> {
    worker::command(input).stdin(Stdio::null()).spawn()
}
