//! What the workers did, for the check's trace (see `check_harness::trace`).
//!
//! The workers are separate processes, so their events travel back on a
//! line of their own (`check_harness::trace_wire`, the address in [`ENV`]):
//! one line per event, stamped with the system clock and moved onto the
//! check's. The end of the connection is the end of the process, so a
//! worker that is killed still says when, as the check hears it.
//!
//! How a worker ended comes from what it said last: it says when it exits
//! (unix: an `atexit` hook, which runs for an exit and a panic's exit code,
//! not for a kill or an abort), when it panics, aborts or prints garbage.
//! On Linux the check also asks, without collecting it, whether the ended
//! worker has been waited for (`waitid` with `WNOWAIT | WNOHANG`: it never
//! blocks, never reaps, so the supervisor's own wait is untouched, and no
//! thread of the check sleeps in the kernel's wait, which
//! `close_pipes_and_linger` looks for).
//!
//! Recording only: nothing here is read back to decide a verdict. With
//! `COURSE_NO_TRACE=1` the check opens no socket and the workers send
//! nothing.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use check_harness::trace::{self, LaneKind, Tone};
use check_harness::trace_wire::{self, Connection, Event, Inbox};

/// The environment variable with the address the workers report to.
pub const ENV: &str = "COURSE_STEP6_TRACE";

/// The check's lane: what it asked for, what it saw, the time limits.
pub fn check_lane() -> trace::Lane {
    trace::lane("check", LaneKind::Check)
}

// ---------------------------------------------------------------- worker side

/// Worker side: tells the check about `event` (nothing when the check does
/// not listen).
pub fn tell(event: &str) {
    trace_wire::tell(ENV, event);
}

/// Worker side, first thing in `main`: "started", and "exits" when the
/// process exits through the C runtime (unix).
pub fn worker_started() {
    tell("start");
    #[cfg(unix)]
    {
        extern "C" fn on_exit() {
            tell("exit");
        }
        // SAFETY: registers a plain function with no arguments; it runs at
        // most once, when the process exits.
        unsafe {
            libc::atexit(on_exit);
        }
    }
}

// ----------------------------------------------------------------- check side

/// What the check knows of one worker.
struct Worker {
    pid: u32,
    lane: trace::Lane,
    started_us: u64,
    /// Still held at the start gate (since `started_us`).
    held: bool,
    /// The job it is running, and since when.
    job: Option<(String, u64)>,
    /// What it said last about its end: "exit", "abort".
    last_word: Option<&'static str>,
    ended: bool,
    /// Ended, and known to be waited for (or not knowable here).
    settled: bool,
    /// The check's own process (jobs run in the supervisor's process).
    own: bool,
}

struct State {
    workers: Vec<Worker>,
}

/// The check's side: listens for workers while it lives.
pub struct Listener {
    /// The workers, and a signal for each one whose connection ended.
    state: Arc<(Mutex<State>, Condvar)>,
    _inbox: Inbox,
}

/// The supervisor's limit for one job, for the limit drawn on the check lane.
static JOB_LIMIT: OnceLock<Duration> = OnceLock::new();

/// What the times mean, for the chart's heading.
const CLOCK: &str = "since the check started; workers stamp their events with the system clock, their ends and waits are when the check saw them";

impl Listener {
    /// Listens on a loopback port and names it in [`ENV`]; `None` when
    /// tracing is off (or no socket can be had: then there is no picture).
    pub fn start(job_limit: Duration) -> Option<Listener> {
        if !trace::enabled() {
            return None;
        }
        let _ = JOB_LIMIT.set(job_limit);
        trace::clock_is(CLOCK);
        let _ = check_lane();
        let state = Arc::new((
            Mutex::new(State {
                workers: Vec::new(),
            }),
            Condvar::new(),
        ));
        let st = Arc::clone(&state);
        // Set before the supervisor starts any worker (see `Shared::new`).
        let inbox = Inbox::listen(ENV, move |worker| read_worker(worker, &st.0, &st.1))?;
        Some(Listener {
            state,
            _inbox: inbox,
        })
    }

    /// When `run_all` has returned (or the check gave up on it): how each
    /// worker stands now, on its lane.
    pub fn settle(&self) {
        let (state, ended_one) = &*self.state;
        let mut st = lock(state);
        for i in 0..st.workers.len() {
            if st.workers[i].own {
                continue;
            }
            if !st.workers[i].ended {
                match peek(st.workers[i].pid) {
                    Some(Seen::Running) => {
                        let w = &mut st.workers[i];
                        if let Some((job, since)) = w.job.take() {
                            close_job(w.lane, &job, since, trace::now_us(), Tone::Fault);
                        }
                        trace::instant_toned(w.lane, "still running", Tone::Fault);
                        // Whatever it does later is not part of this picture.
                        w.ended = true;
                        w.settled = true;
                    }
                    Some(_) => {
                        // It is gone, so its last words and the end of its
                        // connection are there to be read: let its reader
                        // tell them (the bound only in case it cannot).
                        let bound = Instant::now() + Duration::from_millis(500);
                        while !st.workers[i].ended {
                            let Some(left) = bound.checked_duration_since(Instant::now()) else {
                                break;
                            };
                            st = ended_one
                                .wait_timeout(st, left)
                                .unwrap_or_else(|e| e.into_inner())
                                .0;
                        }
                    }
                    None => {}
                }
            }
            let w = &mut st.workers[i];
            if w.ended && !w.settled {
                match peek(w.pid) {
                    Some(Seen::Reaped) => trace::instant_toned(w.lane, "waited", Tone::Good),
                    _ => trace::instant_toned(w.lane, "never waited (zombie)", Tone::Fault),
                }
                w.settled = true;
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// One worker's connection, until the worker is gone.
fn read_worker(worker: Connection, state: &Mutex<State>, ended_one: &Condvar) {
    let pid = worker.pid;
    let index = {
        let mut st = lock(state);
        let own = pid == std::process::id();
        let name = if own {
            "check's own process".to_string()
        } else {
            let n = st.workers.iter().filter(|w| !w.own).count() + 1;
            format!("worker {n} pid {pid}")
        };
        let started_us = worker.since_us;
        st.workers.push(Worker {
            pid,
            lane: trace::lane(&name, LaneKind::Process),
            started_us,
            held: false,
            job: None,
            last_word: None,
            ended: false,
            settled: own,
            own,
        });
        st.workers.len() - 1
    };
    for Event {
        at_us: at,
        what,
        arg,
    } in worker.events
    {
        let (event, arg) = (what.as_str(), arg.as_str());
        let mut st = lock(state);
        if event == "start" {
            // A new worker: have the ones before it been waited for by now?
            for w in st.workers.iter_mut() {
                if w.ended && !w.settled && peek(w.pid) == Some(Seen::Reaped) {
                    trace::instant_toned(w.lane, "waited", Tone::Good);
                    w.settled = true;
                }
            }
        }
        let w = &mut st.workers[index];
        if w.ended {
            continue;
        }
        match event {
            "start" => {
                w.started_us = at;
                trace::instant_at(w.lane, at, "started", Tone::Plain);
            }
            "held" => w.held = true,
            "let-go" => {
                w.held = false;
                trace::span_at(w.lane, "held at start", w.started_us, at, Tone::Plain);
            }
            "begin" => w.job = Some((arg.to_string(), at)),
            "end" => {
                if let Some((job, since)) = w.job.take() {
                    close_job(w.lane, &job, since, at, Tone::Plain);
                }
            }
            "garbage" => trace::instant_at(w.lane, at, "prints garbage", Tone::Plain),
            "pipes-closed" => trace::instant_at(w.lane, at, "closes its pipes", Tone::Plain),
            "panic" => trace::instant_at(w.lane, at, "panics", Tone::Plain),
            "abort" => {
                w.last_word = Some("abort");
                trace::instant_at(w.lane, at, "aborts", Tone::Plain);
            }
            "exit" => w.last_word = Some("exit"),
            _ => {}
        }
    }
    // End of the connection: the process is gone.
    let mut st = lock(state);
    let w = &mut st.workers[index];
    if !w.ended && !w.own {
        let look = ended(w);
        if look {
            drop(st);
            st = look_for_wait(state, index);
        }
    }
    drop(st);
    ended_one.notify_all();
}

/// The worker has ended, just now: close what it was doing and say how it
/// ended. Whether it still needs looking at (ended, not yet waited for).
fn ended(w: &mut Worker) -> bool {
    w.ended = true;
    let now = trace::now_us();
    if w.held {
        trace::span_at(w.lane, "held at start", w.started_us, now, Tone::Plain);
    }
    if let Some((job, since)) = w.job.take() {
        close_job(w.lane, &job, since, now, Tone::Plain);
    }
    let how = match w.last_word {
        // An exit, a panic's included (its exit code is 101).
        Some("exit") => "exited",
        Some("abort") => "aborted",
        // No word of an exit: something ended it from outside (on unix;
        // elsewhere the worker cannot say that it exits).
        _ if cfg!(unix) => "killed",
        _ => "ended",
    };
    match peek(w.pid) {
        Some(Seen::Reaped) => {
            trace::instant(w.lane, format!("{how}, waited"));
            w.settled = true;
            false
        }
        Some(_) => {
            trace::instant(w.lane, how);
            true
        }
        None => {
            trace::instant(w.lane, how);
            // This platform cannot tell whether it was waited for.
            w.settled = true;
            false
        }
    }
}

/// A supervisor that waits for a worker does so as soon as it has ended:
/// looks a few times over a moment (without the lock), so that the wait
/// shows where it happened, before what came next. For the picture only:
/// no verdict reads it, and a supervisor that never waits costs the check
/// [`LOOK_FOR_WAIT`] on this thread, not on the check's.
fn look_for_wait(state: &Mutex<State>, index: usize) -> MutexGuard<'_, State> {
    let pid = lock(state).workers[index].pid;
    let look = Instant::now();
    let mut seen = peek(pid);
    while seen != Some(Seen::Reaped) && look.elapsed() < LOOK_FOR_WAIT {
        std::thread::sleep(Duration::from_micros(200));
        seen = peek(pid);
    }
    let mut st = lock(state);
    let w = &mut st.workers[index];
    if seen == Some(Seen::Reaped) && !w.settled {
        trace::instant_toned(w.lane, "waited", Tone::Good);
        w.settled = true;
    }
    st
}

/// How long [`look_for_wait`] looks.
const LOOK_FOR_WAIT: Duration = Duration::from_millis(20);

/// A job's span on its worker's lane; when it ran longer than half the
/// supervisor's limit, the limit on the check's lane.
fn close_job(lane: trace::Lane, job: &str, since: u64, until: u64, tone: Tone) {
    trace::span_at(lane, job, since, until, tone);
    let limit = JOB_LIMIT
        .get()
        .map_or(0, |l| u64::try_from(l.as_micros()).unwrap_or(u64::MAX));
    if limit > 0 && until.saturating_sub(since) > limit / 2 {
        trace::span_at(
            check_lane(),
            format!("{job}: {} s limit", limit as f64 / 1e6),
            since,
            since + limit,
            Tone::Plain,
        );
    }
}

/// Where an ended child stands, asked without collecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Only Linux can ask (see `peek`); elsewhere the variants are matched, never
// made.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
enum Seen {
    Running,
    /// Ended, not yet waited for (a zombie).
    Zombie,
    /// Waited for (or not a child of this process).
    Reaped,
}

#[cfg(target_os = "linux")]
fn peek(pid: u32) -> Option<Seen> {
    // SAFETY: waitid only writes the siginfo_t we pass it; WNOHANG never
    // blocks, WNOWAIT leaves the child waitable for the supervisor.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc == -1 {
        let echild = std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
        return echild.then_some(Seen::Reaped);
    }
    // SAFETY: waitid filled (or left zeroed) the SIGCHLD fields.
    if unsafe { info.si_pid() } == 0 {
        Some(Seen::Running)
    } else {
        Some(Seen::Zombie)
    }
}

/// Elsewhere the check cannot ask without collecting the child.
#[cfg(not(target_os = "linux"))]
fn peek(_pid: u32) -> Option<Seen> {
    None
}
