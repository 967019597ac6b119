//! What went through the pipes, for the check's trace (see
//! `check_harness::trace`).
//!
//! The pipes belong to the learner's code, so the picture is drawn from
//! both ends without touching them:
//!
//! - **The worker's end.** When a check traces, the worker (this binary,
//!   started by the learner's `run_jobs` with `worker::WORKER_ARG`) serves
//!   through [`serve_if_traced`] (when `run_if_requested` is the course's
//!   own, unchanged): the learner's `serve` gets the same stdin and stdout
//!   as `worker::run_if_requested` gives it, behind a thin wrapper that notes when a job's first byte and its newline arrive, and
//!   when an answer's first byte and its newline leave. Those notes travel
//!   to the check over `check_harness::trace_wire` (the address in
//!   [`ENV`]).
//! - **The check's end**, when the check gives up (stuck, or out of time):
//!   on Linux it looks at what every thread of its own process and of the
//!   worker is blocked in (`/proc/<pid>/task/<tid>/syscall`: a `write` to
//!   the pipe to the worker, a `read` of the pipe from it, a `wait` for it)
//!   and how full each pipe is (`FIONREAD` on the learner's own ends, which
//!   the check process holds; `F_GETPIPE_SZ` for the capacity). Both are
//!   reads that change nothing. Elsewhere the worker's open spans tell.
//!
//! Recording only: nothing here is read back to decide a verdict. With
//! `COURSE_NO_TRACE=1` the check opens no socket and the worker runs as
//! `run_if_requested` runs it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use check_harness::trace::{self, LaneKind, SpanId, Tone};
use check_harness::trace_wire::{self, Connection, Event, Inbox};

use crate::subject::worker;

/// The environment variable with the address the worker reports to.
pub const ENV: &str = "COURSE_STEP4_TRACE";

/// How many jobs a worker tells of one by one (2000 small jobs would be
/// 8000 notes, and no chart shows more than a few).
const TOLD_JOBS: u64 = 100;

// ---------------------------------------------------------------- worker side

/// In the worker role, with a check listening: serves as
/// `worker::run_if_requested` does (the learner's `serve` on this process's
/// stdin and stdout; exit code 0, or 1 after printing the error), telling
/// the check what passes. Otherwise returns at once.
pub fn serve_if_traced() {
    if std::env::args().nth(1).as_deref() != Some(worker::WORKER_ARG)
        || !run_if_requested_is_given()
        || !trace_wire::listening(ENV)
    {
        return;
    }
    // Reads go straight to the pipe: a BufReader asking for at least its
    // stdin buffer's size skips that buffer, so `serve` sees one 8 KiB
    // buffer, as with `stdin().lock()`, and the notes see each read.
    let input = BufReader::with_capacity(
        8 * 1024,
        Noted {
            inner: crate::tap::stdin(),
            jobs: 0,
            within: false,
        },
    );
    // Writes go through the process's stdout, line-buffered as ever.
    let output = Noted {
        inner: io::stdout().lock(),
        jobs: 0,
        within: false,
    };
    let code = match worker::serve(input, output) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("worker: {e}");
            1
        }
    };
    std::process::exit(code);
}

/// The source of the code under test, and of the other copy of the given
/// code (the exercise's for the solution, the solution's for the exercise).
#[cfg(feature = "solution")]
const SOURCES: [&str; 2] = [
    include_str!("../../../solutions/step4-pipe-ipc/src/lib.rs"),
    include_str!("../../../exercises/step4-pipe-ipc/src/lib.rs"),
];
#[cfg(not(feature = "solution"))]
const SOURCES: [&str; 2] = [
    include_str!("../../../exercises/step4-pipe-ipc/src/lib.rs"),
    include_str!("../../../solutions/step4-pipe-ipc/src/lib.rs"),
];

/// Whether `worker::run_if_requested` is the course's, unchanged (the same
/// text as the other copy): only then may [`serve_if_traced`] serve in its
/// place. A changed one (a `BufWriter` around stdout, say) runs as written,
/// and the worker tells nothing: the trace never changes what is graded.
pub fn run_if_requested_is_given() -> bool {
    let body = |src: &'static str| {
        let start = src.find("pub fn run_if_requested()")?;
        let len = src[start..].find("\n    }")?;
        Some(&src[start..start + len])
    };
    body(SOURCES[0]).is_some() && body(SOURCES[0]) == body(SOURCES[1])
}

/// A stream with notes: which job (or answer) is on it, whether one is
/// part-way through.
struct Noted<T> {
    inner: T,
    /// Lines completed so far.
    jobs: u64,
    /// Part of line `jobs` has passed.
    within: bool,
}

impl<T> Noted<T> {
    /// Notes the lines in `bytes`, which just passed: `begin` when a line's
    /// first byte passes, `end` when its newline does.
    fn passed(&mut self, mut bytes: &[u8], begin: &str, end: &str) {
        while !bytes.is_empty() {
            self.begins(begin);
            let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
                break;
            };
            if self.jobs < TOLD_JOBS {
                trace_wire::tell(ENV, &format!("{end} {}", self.jobs));
            }
            self.jobs += 1;
            self.within = false;
            bytes = &bytes[newline + 1..];
        }
    }

    /// Notes `begin` if no line is part-way through: the next byte starts
    /// one.
    fn begins(&mut self, begin: &str) {
        if !self.within {
            self.within = true;
            if self.jobs < TOLD_JOBS {
                trace_wire::tell(ENV, &format!("{begin} {}", self.jobs));
            }
        }
    }
}

impl<R: BufRead> Read for Noted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            trace_wire::tell(ENV, "eof");
        }
        self.passed(&buf[..n], "in-begin", "in-end");
        Ok(n)
    }
}

impl<W: Write> Write for Noted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Said before the write, which may block.
        if !buf.is_empty() {
            self.begins("out-begin");
        }
        let n = self.inner.write(buf)?;
        self.passed(&buf[..n], "out-begin", "out-end");
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

// ----------------------------------------------------------------- check side

/// What the check knows of one worker.
struct Worker {
    /// Looked at when the check gives up (on Linux only).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pid: u32,
    /// What comes in on its stdin, and what goes out on its stdout.
    reading: trace::Lane,
    writing: trace::Lane,
    /// The job coming in, since when.
    job: Option<(String, u64)>,
    /// The answer going out, since when.
    answer: Option<(String, u64)>,
    gone: bool,
}

/// The check's side, while `run_jobs` runs: the check's lane with the call,
/// and a lane per worker.
pub struct Timeline {
    workers: Arc<Mutex<Vec<Worker>>>,
    check: trace::Lane,
    call: SpanId,
    _inbox: Inbox,
}

fn lock(workers: &Mutex<Vec<Worker>>) -> MutexGuard<'_, Vec<Worker>> {
    workers.lock().unwrap_or_else(|e| e.into_inner())
}

impl Timeline {
    /// Listens for the workers started from now on, with `call` (what the
    /// check asked for) as a span on the check's lane; `None` when tracing
    /// is off.
    pub fn start(call: &str) -> Option<Timeline> {
        if !trace::enabled() {
            return None;
        }
        trace::clock_is(
            "since the check started; the worker stamps its notes with the system clock",
        );
        let check = trace::lane("check", LaneKind::Check);
        let workers = Arc::new(Mutex::new(Vec::new()));
        let w = Arc::clone(&workers);
        let inbox = Inbox::listen(ENV, move |c| read_worker(c, &w))?;
        Some(Timeline {
            workers,
            check,
            call: trace::begin(check, call),
            _inbox: inbox,
        })
    }

    /// The check's own lane, for what it does itself.
    pub fn check_lane(&self) -> trace::Lane {
        self.check
    }

    /// The call returned.
    pub fn returned(&self) {
        trace::end(self.call);
    }

    /// The check gave up on the call (`stuck`: proven so, else out of
    /// time): where each side stands now, drawn as the reason for the
    /// failure.
    pub fn gave_up(&self, stuck: bool) {
        trace::end(self.call);
        let now = trace::now_us();
        let mut workers = lock(&self.workers);
        #[cfg(target_os = "linux")]
        let seen = {
            let live: Vec<u32> = workers.iter().filter(|w| !w.gone).map(|w| w.pid).collect();
            probe::parent(&live)
        };
        #[cfg(not(target_os = "linux"))]
        let seen = Parent::default();
        for (name, state, full) in seen.pipes {
            let lane = trace::lane(name, LaneKind::Process);
            let tone = if full { Tone::Fault } else { Tone::Plain };
            trace::instant_toned(lane, state, tone);
        }
        for w in workers.iter_mut().filter(|w| !w.gone) {
            #[cfg(target_os = "linux")]
            let blocked = probe::worker(w.pid);
            #[cfg(not(target_os = "linux"))]
            let blocked: Option<&str> = None;
            if let Some((answer, since)) = w.answer.take() {
                let label = match blocked {
                    Some("writing") => format!("{answer}: blocked writing"),
                    _ => format!("{answer}: not all out"),
                };
                trace::span_at(w.writing, label, since, now, Tone::Fault);
            }
            if let Some((job, since)) = w.job.take() {
                trace::span_at(
                    w.reading,
                    format!("{job}: not all in"),
                    since,
                    now,
                    Tone::Fault,
                );
            }
            if blocked == Some("reading") {
                trace::instant_toned(w.reading, "blocked reading its stdin", Tone::Fault);
            }
            w.gone = true;
        }
        let why = if stuck { "stuck" } else { "out of time" };
        let label = match seen.doing {
            Some(doing) => format!("{why}: {doing}"),
            None => why.to_string(),
        };
        trace::instant_toned(self.check, label, Tone::Fault);
        trace::explains_failure(true);
    }
}

/// What holds a `run_jobs` that is stuck for good, where the platform
/// shows each side's blocking call (Linux: see `probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Seen only where the platform shows each side's blocking call.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum Jam {
    /// The parent waits for the worker to exit, and the worker waits for
    /// more input in an empty pipe: its stdin was never closed.
    StdinOpen,
    /// The parent is blocked writing jobs, and the worker writing answers:
    /// both pipes are full (the pipe deadlock).
    BothFull,
    /// The parent waits for the worker to exit while answers the worker
    /// wrote are still unread in the pipe (the worker may be blocked
    /// writing more).
    WaitsBeforeReading,
    /// The parent is blocked reading the worker's output, and the worker
    /// writes nothing more.
    ParentReads,
}

/// Which [`Jam`] holds the worker processes still running now, if the check
/// can tell; call it once the call is proven stuck.
pub fn jam() -> Option<Jam> {
    #[cfg(target_os = "linux")]
    {
        let workers = check_harness::settle::descendants();
        let seen = probe::parent(&workers);
        let blocked: Vec<_> = workers.iter().filter_map(|&w| probe::worker(w)).collect();
        let pipe = |wanted: &str| {
            seen.pipes
                .iter()
                .find(|(name, ..)| *name == wanted)
                .map(|(_, state, _)| state.as_str())
        };
        let to_worker_empty = pipe("pipe to worker") == Some("empty");
        let answers_unread = pipe("pipe from worker").is_some_and(|state| state != "empty");
        if seen.waits && answers_unread {
            return Some(Jam::WaitsBeforeReading);
        }
        if seen.waits && blocked.contains(&"reading") && to_worker_empty {
            return Some(Jam::StdinOpen);
        }
        match seen.doing? {
            "parent blocked writing to worker" if blocked.contains(&"writing") => {
                Some(Jam::BothFull)
            }
            "parent blocked reading from worker" => Some(Jam::ParentReads),
            _ => None,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// How the check's side stands when it gives up (known on Linux).
#[derive(Default)]
struct Parent {
    /// What the learner's code in this process is blocked in.
    doing: Option<&'static str>,
    /// Whether one of its threads waits for a child to exit (whatever the
    /// others do). Known on Linux only, like the rest.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    waits: bool,
    /// Each pipe's lane name, its state, whether a write into it is blocked
    /// (it is full: a pipe stores whole pages, so "full" can come a little
    /// before its capacity in bytes).
    pipes: Vec<(&'static str, String, bool)>,
}

/// One worker's notes, until it is gone.
fn read_worker(c: Connection, workers: &Mutex<Vec<Worker>>) {
    let index = {
        let mut ws = lock(workers);
        // One worker per call; a second one gets lanes of its own.
        let n = match ws.len() {
            0 => String::new(),
            k => format!(" {}", k + 1),
        };
        let reading = trace::lane(&format!("worker{n} reads"), LaneKind::Process);
        let writing = trace::lane(&format!("worker{n} writes"), LaneKind::Process);
        let started = format!("started (pid {})", c.pid);
        trace::instant_at(reading, c.since_us, started, Tone::Plain);
        ws.push(Worker {
            pid: c.pid,
            reading,
            writing,
            job: None,
            answer: None,
            gone: false,
        });
        ws.len() - 1
    };
    for Event { at_us, what, arg } in c.events {
        let mut ws = lock(workers);
        let w = &mut ws[index];
        if w.gone {
            break;
        }
        match what.as_str() {
            "in-begin" => w.job = Some((format!("job {arg} in"), at_us)),
            "in-end" => {
                if let Some((job, since)) = w.job.take() {
                    trace::span_at(w.reading, job, since, at_us, Tone::Plain);
                }
            }
            "out-begin" => w.answer = Some((format!("answer {arg} out"), at_us)),
            "out-end" => {
                if let Some((answer, since)) = w.answer.take() {
                    trace::span_at(w.writing, answer, since, at_us, Tone::Plain);
                }
            }
            "eof" => trace::instant_at(w.reading, at_us, "end of input", Tone::Plain),
            _ => {}
        }
    }
    let mut ws = lock(workers);
    let w = &mut ws[index];
    if !w.gone {
        w.gone = true;
        let now = trace::now_us();
        if let Some((job, since)) = w.job.take() {
            trace::span_at(
                w.reading,
                format!("{job}: cut off"),
                since,
                now,
                Tone::Plain,
            );
        }
        if let Some((answer, since)) = w.answer.take() {
            trace::span_at(
                w.writing,
                format!("{answer}: cut off"),
                since,
                now,
                Tone::Plain,
            );
        }
        trace::instant(w.writing, "gone");
    }
}

/// Linux: what each side is blocked in, and how full the pipes are.
#[cfg(target_os = "linux")]
mod probe {
    /// The system call each thread of `pid` is in, and its first argument
    /// (a file descriptor, for the calls looked for here); a running thread,
    /// or one whose state cannot be read, is left out.
    fn calls(pid: u32) -> Vec<(i64, i64)> {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("syscall")).ok())
            .filter_map(|s| {
                let mut words = s.split_whitespace();
                let nr = words.next()?.parse().ok()?;
                let fd = i64::from_str_radix(words.next()?.trim_start_matches("0x"), 16).ok()?;
                Some((nr, fd))
            })
            .collect()
    }

    fn is_write(nr: i64) -> bool {
        nr == libc::SYS_write || nr == libc::SYS_writev
    }

    fn is_read(nr: i64) -> bool {
        nr == libc::SYS_read || nr == libc::SYS_readv
    }

    fn is_wait(nr: i64) -> bool {
        nr == libc::SYS_wait4 || nr == libc::SYS_waitid
    }

    /// What the worker's threads are blocked in: "writing" (its stdout),
    /// "reading" (its stdin), "waiting" (anything else).
    pub fn worker(pid: u32) -> Option<&'static str> {
        let calls = calls(pid);
        if calls.iter().any(|&(nr, fd)| is_write(nr) && fd == 1) {
            Some("writing")
        } else if calls.iter().any(|&(nr, fd)| is_read(nr) && fd == 0) {
            Some("reading")
        } else if calls.is_empty() {
            None
        } else {
            Some("waiting")
        }
    }

    /// This process's descriptor for the pipe that `pid` has as `fd`.
    fn own_end(pid: u32, fd: u32) -> Option<i32> {
        let theirs = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        if !theirs.to_string_lossy().starts_with("pipe:") {
            return None;
        }
        std::fs::read_dir("/proc/self/fd")
            .ok()?
            .flatten()
            .find(|e| std::fs::read_link(e.path()).ok().as_ref() == Some(&theirs))?
            .file_name()
            .to_str()?
            .parse()
            .ok()
    }

    /// Bytes in the pipe behind `fd`, and its capacity.
    fn fill(fd: i32) -> Option<(u64, u64)> {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int; F_GETPIPE_SZ only reads. Both
        // leave the pipe as it is.
        let (rc, size) = unsafe {
            (
                libc::ioctl(fd, libc::FIONREAD, &mut queued),
                libc::fcntl(fd, libc::F_GETPIPE_SZ),
            )
        };
        (rc == 0 && size > 0).then_some((queued as u64, size as u64))
    }

    fn kib(bytes: u64) -> String {
        format!("{} KiB", bytes.div_ceil(1024))
    }

    /// How the check's side (the learner's `run_jobs`, in this process)
    /// and the pipes to and from the `workers` stand.
    pub fn parent(workers: &[u32]) -> super::Parent {
        let mut seen = super::Parent::default();
        let mine = calls(std::process::id());
        for &pid in workers {
            let worker_writes = worker(pid) == Some("writing");
            for (theirs, name, doing, blocks) in [
                (
                    0,
                    "pipe to worker",
                    "parent blocked writing to worker",
                    is_write as fn(i64) -> bool,
                ),
                (
                    1,
                    "pipe from worker",
                    "parent blocked reading from worker",
                    is_read,
                ),
            ] {
                let Some(fd) = own_end(pid, theirs) else {
                    continue;
                };
                let parent_blocked = mine.iter().any(|&(nr, f)| f == i64::from(fd) && blocks(nr));
                if parent_blocked {
                    seen.doing = Some(doing);
                }
                // Whoever writes into it is blocked: it is full.
                let full = if theirs == 0 {
                    parent_blocked
                } else {
                    worker_writes
                };
                let Some((queued, size)) = fill(fd) else {
                    continue;
                };
                let state = match queued {
                    q if full => format!("full: {}", kib(q)),
                    0 => "empty".to_string(),
                    q => format!("{} of {}", kib(q), kib(size)),
                };
                seen.pipes.push((name, state, full));
            }
        }
        seen.waits = mine.iter().any(|&(nr, _)| is_wait(nr));
        if seen.doing.is_none() && seen.waits {
            seen.doing = Some("parent waits for worker to exit");
        }
        seen
    }
}
