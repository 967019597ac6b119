//! mutant: wrong
//! rejected-by: result-once
//! mistake: after the input closes, polls the results channel in a busy loop instead of waiting on it

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::thread;

use crossbeam_channel::{never, select, unbounded, Receiver, Sender};

/// The heavy handler: counts the prime numbers up to `n` the slow way.
/// Pure CPU work, the same answer in a thread or in a child process.
pub fn heavy_work(n: u64) -> u64 {
    (2..=n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

/// The worker role: this same program, started again with an extra argument.
pub mod worker {
    /// The argument that tells the program to act as a worker:
    /// `<program> --step2-worker <n>` prints `heavy_work(n)` and exits.
    pub const WORKER_ARG: &str = "--step2-worker";

    /// Call this first thing in `main`. If the program was started as a
    /// worker, it does the job, prints the answer on stdout and exits;
    /// otherwise it returns and `main` goes on as usual.
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

/// What arrives at the loop from outside.
pub enum Event {
    /// A small event: answer it with `Reply::Pong` carrying the same number.
    Ping(u64),
    /// A heavy job to run on a worker thread.
    OnThread { id: u64, job: Job },
    /// A heavy job to run in a child process: `heavy_work(n)`.
    InChild { id: u64, n: u64 },
}

/// What the loop sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Pong(u64),
    /// A job finished: its number, or why it failed.
    Done {
        id: u64,
        result: Result<u64, String>,
    },
}

/// A finished job on its way back into the loop, as an event.
#[derive(Debug)]
pub struct Finished {
    pub id: u64,
    pub result: Result<u64, String>,
}

/// The event loop. Handles events until `events` is closed (every sender
/// dropped) and every job it started has reported back, then returns.
pub fn run(events: Receiver<Event>, replies: Sender<Reply>) {
    let (done_tx, done_rx) = unbounded::<Finished>();
    let mut open = true;
    let mut pending = 0usize;
    loop {
        if !open {
            // Busy-wait for the rest.
            while pending > 0 {
                if let Ok(Finished { id, result }) = done_rx.try_recv() {
                    pending -= 1;
                    let _ = replies.send(Reply::Done { id, result });
                }
            }
            return;
        }
        // Once the outside world has hung up, only finished jobs can arrive.
        let incoming = &events;
        select! {
            recv(incoming) -> event => match event {
                Ok(Event::Ping(n)) => {
                    let _ = replies.send(Reply::Pong(n));
                }
                Ok(Event::OnThread { id, job }) => {
                    pending += 1;
                    offload_to_thread(id, job, done_tx.clone());
                }
                Ok(Event::InChild { id, n }) => {
                    pending += 1;
                    offload_to_child(id, n, done_tx.clone());
                }
                Err(_) => open = false,
            },
            recv(done_rx) -> finished => {
                // We hold `done_tx`, so this channel cannot be closed.
                if let Ok(Finished { id, result }) = finished {
                    pending -= 1;
                    let _ = replies.send(Reply::Done { id, result });
                }
            }
        }
    }
}

/// Runs `job` on a new thread and sends its result to `done`, exactly once.
/// A panic in the job becomes `Err("the job panicked: <message>")`.
pub fn offload_to_thread(id: u64, job: Job, done: Sender<Finished>) {
    thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(job))
            .map_err(|payload| format!("the job panicked: {}", panic_message(payload.as_ref())));
        let _ = done.send(Finished { id, result });
    });
}

/// Runs `heavy_work(n)` in a child process without blocking the caller, and
/// sends the result to `done`, exactly once.
pub fn offload_to_child(id: u64, n: u64, done: Sender<Finished>) {
    thread::spawn(move || {
        let result = run_in_child(n);
        let _ = done.send(Finished { id, result });
    });
}

/// Starts this program again as a worker (`<exe> --step2-worker <n>`), waits
/// for it and reads its answer. Blocks until the child has exited.
pub fn run_in_child(n: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let output = Command::new(exe)
        .arg(worker::WORKER_ARG)
        .arg(n.to_string())
        .output()
        .map_err(|e| format!("cannot start the worker: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the worker failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .map_err(|e| format!("the worker printed {text:?}, not a number: {e}"))
}

/// The text of a panic, from the payload `catch_unwind` or `join` gives back.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
