//! The checks of step 7, pool limits. Titles and hints live in course.toml;
//! run them with `cargo xtask check step7`.
//!
//! Nothing here is measured with a clock. Concurrency is counted: every job
//! (thread pool) and every child (process pool) registers with counters this
//! binary owns, and is held at a latch until the check lets it go. So "N ran
//! at once" is proven by N of them being held at the same moment, and "never
//! more than N" by the (N+1)-th never showing up while they are held.
//!
//! "Never showing up" is proven by [`check_harness::settle`]: on Linux the
//! check waits until every thread of the pool (and every child) is asleep
//! and stays asleep, so nothing more can happen until the check acts; what
//! it sees then is final. Elsewhere it decides after a short pause.
//!
//! For the process pool this binary is also the child: started with the
//! child argument, it runs `controlled_job`, which reports to the check and
//! waits for its go-ahead over the pipes the check keeps (stdin and stderr).
//!
//! The thread-pool checks record a trace (`check_harness::trace`): each
//! held job as a span on the lane of the worker thread that ran it, and the
//! number running as a counter with the pool's limit. When a pool runs one
//! job too many, the grader draws the overlapping spans under the message.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Write};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::process::{Child, ChildStderr, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use check_harness::cpu::{self, ThreadClock};
use check_harness::settle::{settled, Settled};
use check_harness::sync::Latch;
use check_harness::threads;
use check_harness::timer_poll;
use check_harness::trace::{self, LaneKind, Tone};
use check_harness::{ensure, fail, human, Check, CheckResult, Failure};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step7_pool_limits as subject;
#[cfg(feature = "solution")]
use step7_pool_limits_solution as subject;

mod signatures;

use subject::{run_in_processes, worker, ThreadPool};

/// The argument that starts this program as a child that prints a line and
/// then fails (see [`failing_child_if_requested`]).
const FAILING_CHILD: &str = "--step7-check-failing-child";

/// What that child prints before it exits with code 3.
const FAILING_OUTPUT: &str = "half a result";

/// Child side: print [`FAILING_OUTPUT`], then exit with code 3.
fn failing_child_if_requested() {
    if std::env::args().nth(1).as_deref() == Some(FAILING_CHILD) {
        println!("{FAILING_OUTPUT}");
        std::process::exit(3);
    }
}

fn main() {
    failing_child_if_requested();
    worker::run_if_requested(controlled_job);
    check_harness::main(&[
        Check::new("results-once", results_once),
        Check::new("runs-n-at-once", || unless_submit_drops(runs_n_at_once())),
        Check::new("back-pressure", || unless_submit_drops(back_pressure())),
        Check::new("shutdown-joins", || unless_submit_drops(shutdown_joins())),
        Check::new("process-limit", process_limit),
        Check::new("process-results", process_results),
    ]);
}

/// The limit that turns a deadlock into a message. Nothing correct comes
/// anywhere near it.
const LIMIT: Duration = Duration::from_secs(8);

/// How long [`settle`] waits for the pool to fall asleep. A pool whose
/// threads wait (on a channel, a join, a pipe) settles in milliseconds; one
/// that never does is spinning.
const SETTLE_LIMIT: Duration = Duration::from_secs(3);

/// Waits until nothing more will happen in this process and in `children`
/// without the check acting (see the module's documentation). True if that
/// was proven; false on a platform that cannot tell (after a short pause)
/// or when the pool kept running.
fn settle(children: &dyn Fn() -> Option<Vec<u32>>) -> bool {
    settled(children, SETTLE_LIMIT) == Settled::Yes
}

/// No child processes to watch: a thread pool.
fn no_children() -> Option<Vec<u32>> {
    Some(Vec::new())
}

/// Waits until `done()`, or until it is proven that it will not become true
/// before the check acts (everything settled without it), or [`LIMIT`].
/// Returns `done()` at that point.
fn until_or_settled(children: &dyn Fn() -> Option<Vec<u32>>, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if done() {
            return true;
        }
        if settle(children) {
            return done();
        }
        if started.elapsed() >= LIMIT {
            return done();
        }
    }
}

// ---------------------------------------------------------------------------
// Thread pool
// ---------------------------------------------------------------------------

/// Counts the jobs running right now, and the most ever seen at once.
#[derive(Debug, Default)]
struct Gauge {
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    /// One more job running; how many are running now.
    fn enter(&self) -> usize {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        now
    }

    /// One job fewer; how many are still running.
    fn leave(&self) -> usize {
        self.running.fetch_sub(1, Ordering::SeqCst) - 1
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// The pool has more or fewer worker threads than `workers`.
const WORKER_COUNT: &str = "worker-count";

/// The pool has its `workers` threads, yet they run their jobs one after
/// another: something a worker holds while its job runs keeps the others
/// out.
const JOBS_TAKE_TURNS: &str = "jobs-take-turns";

/// Every job ran, and then `shutdown` got stuck with every thread waiting:
/// the workers still wait for jobs.
const QUEUE_NOT_CLOSED: &str = "queue-not-closed";

/// With the queue full, `submit` ran the job itself, on the caller's thread.
const SUBMIT_RUNS_JOB: &str = "submit-runs-job";

thread_local! {
    /// Set on a thread of the check while it is inside `submit`: a job that
    /// starts on such a thread was run by `submit` itself.
    static IN_SUBMIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Submits `job` with the thread marked as inside `submit` (see
/// [`IN_SUBMIT`]).
fn submit_marked(pool: &ThreadPool, job: impl FnOnce() + Send + 'static) {
    IN_SUBMIT.with(|inside| inside.set(true));
    pool.submit(job);
    IN_SUBMIT.with(|inside| inside.set(false));
}

/// What [`SUBMIT_RUNS_JOB`] observed.
const RAN_INSIDE_SUBMIT: &str = "ThreadPool::new(3, 2): with its queue full, submit() ran the job itself, on the thread that called submit(), and returned once the job had run. submit() should wait until there is room, and leave the job to the pool's workers.";

/// `submit` returned while the queue was full, and its job never ran.
const SUBMIT_DROPS_JOBS: &str = "submit-drops-jobs";

/// A thread-pool check's verdict, unless it failed because `submit` lets
/// jobs go when the queue is full: the jobs such a `submit` loses depend on
/// how fast the workers empty the queue, so each check would see something
/// else. [`submit_drops_jobs`] tells it in a way that does not.
fn unless_submit_drops(verdict: CheckResult) -> CheckResult {
    match verdict {
        Err(_) if submit_drops_jobs() => Err(dropped_jobs()),
        verdict => verdict,
    }
}

/// The failure for [`SUBMIT_DROPS_JOBS`].
fn dropped_jobs() -> Failure {
    Failure::because(
        SUBMIT_DROPS_JOBS,
        "with the one worker of ThreadPool::new(1, 1) busy and its queue full, a further submit() returned at once, and that job never ran, not even after the worker was let go and the pool shut down: submit() let the job go.",
    )
}

/// Whether `submit` lets a job go when the queue is full: one worker held
/// by a job, one job in the queue (capacity 1), then a third submit. A right
/// pool holds that submit until there is room (proven by everything
/// settling with it still waiting), and runs the job later; an unbounded
/// queue lets it return, but runs it too.
fn submit_drops_jobs() -> bool {
    let pool = Arc::new(ThreadPool::new(1, 1));
    let (started, release) = (Arc::new(Latch::new(1)), Arc::new(Latch::new(1)));
    pool.submit({
        let (started, release) = (started.clone(), release.clone());
        move || {
            started.count_down();
            release.wait(LIMIT);
        }
    });
    if !started.wait(LIMIT) {
        release.count_down();
        return false;
    }
    pool.submit(|| {});
    let ran = Arc::new(AtomicBool::new(false));
    let third = start({
        let (pool, ran) = (pool.clone(), ran.clone());
        move || pool.submit(move || ran.store(true, Ordering::SeqCst))
    });
    settle(&no_children);
    let returned_while_full = try_recv_or_panic(&third).is_some();
    release.count_down();
    let submitted = returned_while_full || returns(&third).is_some();
    if let Ok(pool) = Arc::try_unwrap(pool) {
        let _ = finishes(move || pool.shutdown());
    }
    settle(&no_children);
    returned_while_full && submitted && !ran.load(Ordering::SeqCst)
}

fn results_once() -> CheckResult {
    const JOBS: usize = 30;
    // A job that `submit` lets go never runs; whether a burst of submits
    // meets a full queue depends on how fast the workers empty it, so that
    // is shown on a queue the check fills itself.
    if submit_drops_jobs() {
        return Err(dropped_jobs());
    }
    let (tx, rx) = mpsc::channel();
    let Some(joined) = finishes(move || {
        let pool = ThreadPool::new(3, 2);
        for id in 0..JOBS {
            let tx = tx.clone();
            pool.submit(move || {
                let _ = tx.send(id);
            });
        }
        pool.shutdown()
    }) else {
        let ran = rx.try_iter().count();
        ensure!(
            ran < JOBS,
            cause = QUEUE_NOT_CLOSED,
            "submitted {JOBS} jobs to ThreadPool::new(3, 2) and called shutdown(): all {JOBS} jobs ran, and then shutdown() got stuck, every thread waiting and none able to go on."
        );
        fail!("submitting {JOBS} jobs to ThreadPool::new(3, 2) and calling shutdown() got stuck: every thread was waiting and none could go on, and only {ran} of the jobs had run. Do the workers take jobs off the queue?");
    };
    // Jobs that run on threads the pool did not join finish by themselves:
    // once nothing moves any more, every job that will ever run has run.
    // (Whether shutdown waits for them is the check shutdown-joins.)
    settle(&no_children);
    let mut seen: Vec<usize> = rx.try_iter().collect();
    seen.sort_unstable();
    let missing: Vec<usize> = (0..JOBS).filter(|id| !seen.contains(id)).collect();
    let mut twice = seen.clone();
    twice.dedup();
    ensure!(
        missing.is_empty(),
        "{JOBS} jobs were submitted, but these never ran: {missing:?}. shutdown() must let every queued job finish."
    );
    ensure!(
        twice.len() == seen.len(),
        "every job should run exactly once; some ran more than once: {seen:?}"
    );
    ensure!(
        joined == 3,
        cause = WORKER_COUNT,
        "a pool of 3 workers should join 3 workers at shutdown; shutdown() returned {joined}"
    );
    Ok(())
}

/// The trace's lane for the check's own doings.
fn check_lane() -> trace::Lane {
    trace::lane("check", LaneKind::Check)
}

/// The trace's lane of the worker thread running this code: "worker 1" for
/// the first thread that ran a held job, and so on.
fn worker_lane() -> trace::Lane {
    static SEEN: Mutex<Vec<std::thread::ThreadId>> = Mutex::new(Vec::new());
    let me = std::thread::current().id();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let n = match seen.iter().position(|t| *t == me) {
        Some(i) => i + 1,
        None => {
            seen.push(me);
            seen.len()
        }
    };
    trace::lane(&format!("worker {n}"), LaneKind::Thread)
}

/// Jobs that hold their worker until `release` opens.
struct Held {
    /// The limit: how many may run at once.
    n: usize,
    /// Jobs made so far, to number them in the trace.
    made: AtomicUsize,
    /// Keeps a change of the gauge and its trace event together, so the
    /// trace's counter shows the gauge's values in their order.
    tracing: Arc<Mutex<()>>,
    gauge: Arc<Gauge>,
    /// Counts down as each job starts: all N started = N ran at once.
    first_n: Arc<Latch>,
    /// Counts down N+1 times only if an (N+1)-th job starts while N are held.
    one_more: Arc<Latch>,
    release: Arc<Latch>,
    finished: Arc<AtomicUsize>,
    /// A job started on a thread inside `submit` (see [`IN_SUBMIT`]).
    ran_inside_submit: Arc<AtomicBool>,
}

impl Held {
    fn new(n: usize) -> Held {
        // The lanes in the order they are drawn: the check first.
        check_lane();
        trace::counter_lane("jobs running", Some(n as u64));
        Held {
            n,
            made: AtomicUsize::new(0),
            tracing: Arc::default(),
            gauge: Arc::default(),
            first_n: Arc::new(Latch::new(n)),
            one_more: Arc::new(Latch::new(n + 1)),
            release: Arc::new(Latch::new(1)),
            finished: Arc::default(),
            ran_inside_submit: Arc::default(),
        }
    }

    fn job(&self) -> impl FnOnce() + Send + 'static {
        let (gauge, first_n, one_more, release, finished, tracing) = (
            self.gauge.clone(),
            self.first_n.clone(),
            self.one_more.clone(),
            self.release.clone(),
            self.finished.clone(),
            self.tracing.clone(),
        );
        let ran_inside_submit = self.ran_inside_submit.clone();
        let (limit, id) = (self.n, self.made.fetch_add(1, Ordering::SeqCst) + 1);
        let running = trace::counter_lane("jobs running", Some(limit as u64));
        move || {
            if IN_SUBMIT.with(|inside| inside.get()) {
                // Run by `submit` on the caller's thread: not held, so that
                // the caller is not kept waiting by the check.
                ran_inside_submit.store(true, Ordering::SeqCst);
                finished.fetch_add(1, Ordering::SeqCst);
                return;
            }
            let span = {
                let _together = tracing.lock().unwrap_or_else(|e| e.into_inner());
                let now = gauge.enter();
                trace::count(running, now as u64);
                let tone = if now > limit {
                    Tone::Fault
                } else {
                    Tone::Plain
                };
                trace::begin_toned(worker_lane(), format!("job {id}"), tone)
            };
            first_n.count_down();
            one_more.count_down();
            release.wait(LIMIT);
            let _together = tracing.lock().unwrap_or_else(|e| e.into_inner());
            trace::end(span);
            trace::count(running, gauge.leave() as u64);
            finished.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Runs `f` on a thread of its own; the receiver gets its result (or the
/// panic, passed on by [`recv_or_panic`]).
fn start<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> mpsc::Receiver<std::thread::Result<T>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    rx
}

fn recv_or_panic<T>(
    rx: &mpsc::Receiver<std::thread::Result<T>>,
    limit: Duration,
) -> Result<T, RecvTimeoutError> {
    match rx.recv_timeout(limit)? {
        Ok(value) => Ok(value),
        Err(payload) => resume_unwind(payload),
    }
}

/// Runs `f` on a thread of its own and waits for it to return, until it is
/// proven stuck (everything settled while it had not returned) or [`LIMIT`].
/// `None` if it did not return.
fn finishes<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    returns(&start(f))
}

/// Waits for a [`start`]ed closure to return, until it is proven stuck or
/// [`LIMIT`]. `None` if it did not return.
fn returns<T>(running: &mpsc::Receiver<std::thread::Result<T>>) -> Option<T> {
    let result = std::cell::RefCell::new(None);
    until_or_settled(&no_children, || {
        let mut result = result.borrow_mut();
        if result.is_none() {
            *result = try_recv_or_panic(running);
        }
        result.is_some()
    });
    result.into_inner()
}

/// The result of a [`start`]ed closure if it has returned by now.
fn try_recv_or_panic<T>(rx: &mpsc::Receiver<std::thread::Result<T>>) -> Option<T> {
    match rx.try_recv().ok()? {
        Ok(value) => Some(value),
        Err(payload) => resume_unwind(payload),
    }
}

/// Why fewer than `workers` held jobs ran at once, given how many threads
/// `ThreadPool::new` started (where the platform says, see
/// [`threads::count`]): with `workers` threads there, they take turns.
fn too_few_at_once(started_threads: Option<usize>) -> &'static str {
    if started_threads == Some(3) {
        JOBS_TAKE_TURNS
    } else {
        WORKER_COUNT
    }
}

/// The message for [`JOBS_TAKE_TURNS`]: `running` held jobs of `held` ran at
/// once in a pool with 3 threads.
fn take_turns_message(running: usize, held: usize) -> String {
    format!("ThreadPool::new(3, 2) started 3 threads, and {held} jobs that each hold their worker until released were submitted, but only {running} of them ran at once: while one job ran, the other threads waited instead of taking the next job.")
}

/// Builds `ThreadPool::new(workers, capacity)` and counts the threads it
/// started, where the platform can tell.
fn counted_pool(workers: usize, capacity: usize) -> (ThreadPool, Option<usize>) {
    let before = threads::count();
    let pool = ThreadPool::new(workers, capacity);
    let started = threads::count()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    (pool, started)
}

fn runs_n_at_once() -> CheckResult {
    let held = Held::new(3);
    let (pool, started_threads) = counted_pool(3, 2);
    let pool = Arc::new(pool);
    // Three workers, five jobs: three run, two wait in the queue. The first
    // three each take a worker (or are proven not to) before the next is
    // submitted; at most two can be waiting, so these submits never meet a
    // full queue: this check is about workers, not about the queue. The
    // last two are submitted from a thread of their own, so that a pool that
    // runs fewer than three at once holds that thread in `submit`, not the
    // check.
    for id in 1..=3 {
        trace::instant(check_lane(), format!("submit job {id}"));
        pool.submit(held.job());
        until_or_settled(&no_children, || held.first_n.remaining() <= 3 - id);
    }
    let submitting = start({
        let (pool, jobs) = (pool.clone(), [(); 2].map(|_| held.job()));
        move || {
            for (id, job) in (4..).zip(jobs) {
                trace::instant(check_lane(), format!("submit job {id}"));
                pool.submit(job);
            }
        }
    });
    let all_three = until_or_settled(&no_children, || held.first_n.remaining() == 0);
    // Three are held. Once nothing moves any more, a pool with more than
    // three workers has started a 4th job, and a right one never will.
    settle(&no_children);
    let started = held.gauge.running.load(Ordering::SeqCst);
    let a_fourth = held.one_more.remaining() == 0;
    if !all_three || a_fourth {
        let seen = if a_fourth {
            "a 4th job ran"
        } else {
            "not 3 at once"
        };
        trace::instant_toned(check_lane(), seen, Tone::Fault);
        trace::explains_failure(true);
    }
    trace::instant(check_lane(), "release the jobs");
    held.release.count_down();
    let submitted = returns(&submitting).is_some();
    let joined = match Arc::try_unwrap(pool) {
        Ok(pool) => finishes(move || pool.shutdown()),
        Err(_) => None,
    };
    // Jobs on threads the pool did not join finish by themselves.
    settle(&no_children);
    let too_few = too_few_at_once(started_threads);
    ensure!(
        all_three || too_few != JOBS_TAKE_TURNS,
        cause = JOBS_TAKE_TURNS,
        "{}",
        take_turns_message(started, 5)
    );
    ensure!(
        all_three,
        cause = WORKER_COUNT,
        "ThreadPool::new(3, 2) got five jobs that each hold their worker until released; only {started} of them were running at once, expected 3."
    );
    ensure!(
        !a_fourth,
        cause = WORKER_COUNT,
        "ThreadPool::new(3, 2) started a 4th job while 3 jobs still held all 3 workers: the pool runs more than 3 jobs at once. Exactly `workers` threads should take jobs."
    );
    ensure!(
        submitted,
        "after the held jobs were released, submit() got stuck with only {} of the 5 jobs finished.",
        held.finished.load(Ordering::SeqCst)
    );
    ensure!(
        joined.is_some() || held.finished.load(Ordering::SeqCst) != 5,
        cause = QUEUE_NOT_CLOSED,
        "after the held jobs were released, all 5 jobs finished, and then shutdown() got stuck: every thread was waiting and none could go on."
    );
    ensure!(
        joined.is_some(),
        "after the held jobs were released, shutdown() got stuck with only {} of the 5 jobs finished: every thread was waiting and none could go on.",
        held.finished.load(Ordering::SeqCst)
    );
    ensure!(
        held.gauge.most() == 3 && held.finished.load(Ordering::SeqCst) == 5,
        "expected at most 3 jobs at once and all 5 finished; saw {} at once and {} finished",
        held.gauge.most(),
        held.finished.load(Ordering::SeqCst)
    );
    Ok(())
}

/// The CPU time the check burns while a `submit` waits for room (see
/// [`back_pressure`]).
const SPIN_BURN: Duration = Duration::from_millis(100);

fn back_pressure() -> CheckResult {
    let held = Held::new(3);
    let (pool, started_threads) = counted_pool(3, 2);
    let pool = Arc::new(pool);
    for _ in 0..3 {
        submit_marked(&pool, held.job());
    }
    // Before its workers take the first two jobs, the queue can be full for
    // a moment: a submit that runs the job itself may do it here already.
    ensure!(
        !held.ran_inside_submit.load(Ordering::SeqCst),
        cause = SUBMIT_RUNS_JOB,
        "{RAN_INSIDE_SUBMIT}"
    );
    if !until_or_settled(&no_children, || held.first_n.remaining() == 0) {
        let running = held.gauge.running.load(Ordering::SeqCst);
        held.release.count_down();
        let cause = too_few_at_once(started_threads);
        let seen = if cause == JOBS_TAKE_TURNS {
            take_turns_message(running, 3)
        } else {
            format!("three jobs were submitted to ThreadPool::new(3, 2), but only {running} of them were running at once")
        };
        fail!(cause = cause, "{seen} So the queue could not be tested (see the check \"The thread pool runs N jobs at once, never more\").");
    }
    // All three workers are busy: the queue (capacity 2) takes two more.
    let filling = start({
        let (pool, jobs) = (pool.clone(), [held.job(), held.job()]);
        move || {
            for job in jobs {
                submit_marked(&pool, job);
            }
        }
    });
    if returns(&filling).is_none() {
        held.release.count_down();
        fail!("with all 3 workers busy, 2 more jobs should fit in a queue of capacity 2, but submit() waited. Make the channel's capacity `queue_capacity`.");
    }
    // The queue is full now: the next submit must wait.
    let (clock_tx, clock_rx) = mpsc::channel();
    let extra = start({
        let (pool, job) = (pool.clone(), held.job());
        move || {
            let _ = clock_tx.send(ThreadClock::current());
            submit_marked(&pool, job);
        }
    });
    // While it waits, the check burns a known amount of its own CPU time and
    // reads the waiting thread's demand meanwhile (see `cpu`): a thread
    // asleep in a full channel's `send` has next to none, one that tries
    // again and again is ready to run all along (on one CPU as on many).
    let clock = clock_rx.recv_timeout(LIMIT).ok().flatten();
    let (_, used) = cpu::demand_while_burning(clock, SPIN_BURN, || false);
    const ON_A_TIMER: &str = "3 workers busy, 2 jobs queued (the capacity): a 6th submit() had to wait for room, and it did not return, but its thread slept on a timer: it woke up again and again to try, instead of sleeping until there is room. What makes a thread sleep until a full bounded channel has room?";
    if let Some(used) = used.filter(|used| *used >= SPIN_BURN / 4) {
        // A submit that polls every few ms may also be ready to run for
        // long on a busy machine: what it sleeps in, not the load, picks
        // the words.
        let on_a_timer = timer_poll::polls_on_a_timer(clock, SPIN_BURN) == Some(true);
        held.release.count_down();
        let _ = returns(&extra);
        if on_a_timer {
            fail!(cause = "submit-spins", "{ON_A_TIMER}");
        }
        fail!(
            cause = "submit-spins",
            "3 workers busy, 2 jobs queued (the capacity): a 6th submit() had to wait for room, and it did not return, but while the check used {} of CPU time, the thread inside submit() was running or ready to run for {}: it kept running while it waited instead of sleeping. What makes a thread sleep until a full bounded channel has room?",
            human::duration(SPIN_BURN),
            human::duration(used)
        );
    }
    // It hardly ran; it may still poll with a sleep or a timeout between
    // tries, which only what it sleeps in shows.
    if timer_poll::polls_on_a_timer(clock, LIMIT) == Some(true) {
        held.release.count_down();
        let _ = returns(&extra);
        fail!(cause = "submit-spins", "{ON_A_TIMER}");
    }
    // Once nothing moves any more, a bounded queue still holds that submit,
    // and an unbounded one has let it through.
    settle(&no_children);
    let returned_early = try_recv_or_panic(&extra).is_some();
    // More jobs running than workers: the extra threads, not an unbounded
    // queue, may be why submit returned.
    let running = held.gauge.running.load(Ordering::SeqCst);
    held.release.count_down();
    ensure!(
        !held.ran_inside_submit.load(Ordering::SeqCst),
        cause = SUBMIT_RUNS_JOB,
        "{RAN_INSIDE_SUBMIT}"
    );
    ensure!(
        !returned_early || running <= 3,
        cause = WORKER_COUNT,
        "3 workers busy, 2 jobs queued (the capacity): a 6th submit() should wait until there is room, but it returned at once. The pool was running {running} jobs at once: more threads than its 3 workers run jobs (see the check \"The thread pool runs N jobs at once, never more\"), so this check cannot tell whether the queue is bounded."
    );
    ensure!(
        !returned_early,
        "3 workers busy, 2 jobs queued (the capacity): a 6th submit() should wait until there is room, but it returned at once. The queue is not bounded, so a fast producer could pile up jobs without limit."
    );
    ensure!(
        returns(&extra).is_some(),
        "once the workers were released, the waiting submit() should have gone through, but it got stuck"
    );
    let Ok(pool) = Arc::try_unwrap(pool) else {
        fail!("internal: the pool is still shared");
    };
    let joined = finishes(move || pool.shutdown());
    settle(&no_children);
    let Some(joined) = joined else {
        let finished = held.finished.load(Ordering::SeqCst);
        ensure!(
            finished != 6,
            cause = QUEUE_NOT_CLOSED,
            "after the held jobs were released, all 6 jobs finished, and then shutdown() got stuck: every thread was waiting and none could go on."
        );
        fail!("after the held jobs were released, shutdown() got stuck with only {finished} of the 6 jobs finished: every thread was waiting and none could go on.");
    };
    ensure!(
        joined == 3 && held.finished.load(Ordering::SeqCst) == 6,
        "after release, shutdown() should finish all 6 jobs and join 3 workers; it returned {joined} and {} jobs finished",
        held.finished.load(Ordering::SeqCst)
    );
    Ok(())
}

/// Counts a worker thread as gone when its thread-local data is dropped,
/// which happens as the thread ends (before `join` returns).
struct ExitMark(Arc<AtomicUsize>);

impl Drop for ExitMark {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static MARK: RefCell<Option<ExitMark>> = const { RefCell::new(None) };
}

fn shutdown_joins() -> CheckResult {
    let held = Held::new(3);
    let exited = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPool::new(3, 4);
    let mark = |exited: &Arc<AtomicUsize>, threads: &Arc<Mutex<HashSet<_>>>| {
        let (exited, threads) = (exited.clone(), threads.clone());
        move || {
            MARK.with(|m| {
                m.borrow_mut()
                    .get_or_insert_with(|| ExitMark(exited.clone()));
            });
            threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(std::thread::current().id());
        }
    };
    // Three jobs hold the workers; four more wait in the queue.
    for _ in 0..3 {
        let (first, job) = (mark(&exited, &threads), held.job());
        pool.submit(move || {
            first();
            job();
        });
    }
    // A pool that runs fewer than three jobs at once fails "runs N at
    // once"; here its held jobs are let go at once, so that the submits
    // below do not wait out the hold in a queue that only drains that late.
    let let_go = !until_or_settled(&no_children, || held.first_n.remaining() == 0);
    if let_go {
        held.release.count_down();
    }
    for _ in 0..4 {
        let (first, done) = (mark(&exited, &threads), done.clone());
        pool.submit(move || {
            first();
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    // Shut down while jobs are still queued, then let the workers go.
    let shutting = start(move || pool.shutdown());
    // The three held jobs cannot finish yet, so shutdown() must still be
    // waiting for them.
    settle(&no_children);
    if let Some(joined) = (!let_go).then(|| try_recv_or_panic(&shutting)).flatten() {
        held.release.count_down();
        fail!("shutdown() returned {joined} while 3 jobs were still running and 4 were queued. It must wait for the workers to finish the queue: join every worker before returning.");
    }
    held.release.count_down();
    let Some(joined) = returns(&shutting) else {
        let (held_done, queued_done) = (
            held.finished.load(Ordering::SeqCst),
            done.load(Ordering::SeqCst),
        );
        ensure!(
            (held_done, queued_done) != (3, 4),
            cause = QUEUE_NOT_CLOSED,
            "shutdown() was called with 3 jobs running and 4 queued; after the workers were released, all 7 jobs ran, and then shutdown() got stuck: every thread was waiting and none could go on."
        );
        fail!("after the workers were released, shutdown() got stuck with {} of the 7 jobs run: every thread was waiting and none could go on.", held_done + queued_done);
    };
    let ran = done.load(Ordering::SeqCst);
    ensure!(
        ran == 4,
        "shutdown() was called while 4 jobs were still queued; only {ran} of them ran. Shutting down should let the queue drain: close it, and let the workers finish what is in it."
    );
    let workers = threads.lock().unwrap_or_else(|e| e.into_inner()).len();
    let gone = exited.load(Ordering::SeqCst);
    ensure!(
        joined == 3,
        cause = WORKER_COUNT,
        "shutdown() should join all 3 workers and return 3; it returned {joined}"
    );
    ensure!(
        gone == workers,
        "{workers} worker threads ran jobs, but only {gone} of them had ended when shutdown() returned. Join every worker's JoinHandle before returning."
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Process pool
// ---------------------------------------------------------------------------

/// How much each child prints: more than a default pipe holds (on Linux 16
/// pages, 64 KiB with 4 KiB pages; less on macOS and Windows), so a pool that
/// waits for a child before it reads the child's output deadlocks every time
/// there, not only when a child happens to print a lot. (A Linux kernel with
/// 64 KiB pages has 1 MiB pipes, which this would fit in.)
const OUTPUT_BYTES: usize = 256 * 1024;

/// What the child for `input` prints, all of it: lines of filler, then its
/// result line. Its result is this, trimmed.
fn child_output(input: &str) -> String {
    let line = format!("{input} is working\n");
    let mut out = line.repeat(OUTPUT_BYTES / line.len() + 1);
    out.push_str(&format!("done:{input}"));
    out
}

/// A child's result for a message: its length and how it ends.
fn shown(text: &str) -> String {
    let tail: String = text
        .chars()
        .rev()
        .take(24)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{} bytes ending in {tail:?}", text.len())
}

/// What runs in each child: tell the check it may count us as finished only
/// when the check says so, over the pipes it keeps (stdin from the check,
/// stderr to the check).
fn controlled_job(input: &str) -> String {
    let stdin = io::stdin();
    let mut line = String::new();
    // "go": the check decides when this child may finish.
    let _ = stdin.lock().read_line(&mut line);
    eprintln!("done");
    // "bye": the check has counted this child as finished; only now may it
    // print its result and exit.
    line.clear();
    let _ = stdin.lock().read_line(&mut line);
    let output = child_output(input);
    let (filler, result) = output.rsplit_once('\n').unwrap_or(("", &output));
    // The filler goes out here; it blocks once the pipe is full until the
    // pool reads. "written" tells the check it got through.
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{filler}").and_then(|_| out.flush());
    drop(out);
    eprintln!("written");
    result.to_string()
}

/// The check's view of the children: how many the pool started, how many
/// reported finishing, and whether they may go on.
#[derive(Debug, Default)]
struct Census {
    spawned: usize,
    finished: usize,
    /// Children that got all but their last line out (see [`controlled_job`]).
    written: usize,
    /// The process ids of the children started so far.
    pids: Vec<u32>,
    /// Children being started right now (see [`counting_spawn`]).
    starting: usize,
    most_alive: usize,
    too_many: Option<String>,
    released: bool,
    /// Children (numbered from 1 in the order they were started) let go
    /// one by one, and those that have reported finishing.
    go: HashSet<usize>,
    finished_ones: HashSet<usize>,
    /// The pool returned (or panicked): stop waiting for more children.
    pool_done: bool,
    /// The first time a child had finished, everything had settled, fewer
    /// than the limit were alive and inputs were still waiting (see
    /// [`Hold::NewestFirst`]).
    idle: Option<String>,
}

/// Marks the pool as done when dropped, even if it panicked.
struct PoolDone(Shared);

impl Drop for PoolDone {
    fn drop(&mut self) {
        lock(&self.0).pool_done = true;
        self.0 .1.notify_all();
    }
}

type Shared = Arc<(Mutex<Census>, Condvar)>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Census> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `spawn` the check hands to the pool. It counts each child before it
/// starts it, so a child is counted as alive from before its start until it
/// reported finishing, which is before it can exit. A pool that keeps to its
/// limit therefore never shows more than N here.
fn counting_spawn(
    shared: Shared,
    limit: usize,
) -> impl Fn(&str) -> io::Result<Child> + Sync + Send + 'static {
    move |input: &str| {
        let serial = {
            let mut census = lock(&shared);
            census.spawned += 1;
            census.starting += 1;
            let alive = census.spawned - census.finished;
            census.most_alive = census.most_alive.max(alive);
            if alive > limit && census.too_many.is_none() {
                census.too_many = Some(format!(
                    "child {} (input {input:?}) was started while {} others were still alive",
                    census.spawned,
                    alive - 1
                ));
            }
            shared.1.notify_all();
            census.spawned
        };
        let mut cmd = worker::command(input);
        cmd.stdin(Stdio::piped()).stderr(Stdio::piped());
        let spawned = cmd.spawn();
        let mut census = lock(&shared);
        census.starting -= 1;
        let mut child = spawned?;
        census.pids.push(child.id());
        drop(census);
        let (Some(stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
            return Err(io::Error::other("the check's pipes were not set up"));
        };
        let shared = shared.clone();
        std::thread::spawn(move || control(serial, stdin, stderr, shared));
        Ok(child)
    }
}

/// Holds one child until the check releases it, then counts its finish.
fn control(serial: usize, mut stdin: ChildStdin, stderr: ChildStderr, shared: Shared) {
    {
        let census = lock(&shared);
        let _unused = shared
            .1
            .wait_while(census, |c| !c.released && !c.go.contains(&serial))
            .unwrap_or_else(|e| e.into_inner());
    }
    let _ = writeln!(stdin, "go").and_then(|_| stdin.flush());
    let mut lines = BufReader::new(stderr).lines();
    let said_done = lines.by_ref().map_while(Result::ok).any(|l| l == "done");
    if said_done {
        let mut census = lock(&shared);
        census.finished += 1;
        census.finished_ones.insert(serial);
        shared.1.notify_all();
    }
    let _ = writeln!(stdin, "bye").and_then(|_| stdin.flush());
    // Keep reading so the child never blocks writing to its stderr.
    for line in lines.map_while(Result::ok) {
        if line == "written" {
            lock(&shared).written += 1;
            shared.1.notify_all();
        }
    }
}

/// What one run of a process pool looked like from the check's side.
struct Seen {
    /// N children were alive at the same moment.
    reached: bool,
    most_alive: usize,
    too_many: Option<String>,
    /// A place left empty while inputs waited (see [`Hold::NewestFirst`]).
    idle: Option<String>,
    results: Vec<io::Result<String>>,
}

type Pool =
    fn(&[String], usize, &(dyn Fn(&str) -> io::Result<Child> + Sync)) -> Vec<io::Result<String>>;

fn learner_pool(
    inputs: &[String],
    limit: usize,
    spawn: &(dyn Fn(&str) -> io::Result<Child> + Sync),
) -> Vec<io::Result<String>> {
    run_in_processes(inputs, limit, spawn)
}

/// The pool the chapter warns about: one child per job, all at once.
fn spawn_per_job(
    inputs: &[String],
    _limit: usize,
    spawn: &(dyn Fn(&str) -> io::Result<Child> + Sync),
) -> Vec<io::Result<String>> {
    let children: Vec<io::Result<Child>> = inputs.iter().map(|i| spawn(i)).collect();
    children
        .into_iter()
        .map(|child| {
            let output = child?.wait_with_output()?;
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        })
        .collect()
}

/// How the check lets the children of a pool finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// Hold them until `limit` are alive at once (or the pool can start no
    /// more), then let every child go.
    UntilFull,
    /// Let them go one at a time, the one started last first, each once
    /// nothing else moves: so they finish in an order the check chose, never
    /// the order of the inputs. Each time everything has settled after a
    /// child finished, the check also notes whether the pool left a place
    /// empty while inputs were still waiting.
    NewestFirst,
}

/// The newest child that is alive and not yet let go.
fn newest_held(c: &Census) -> Option<usize> {
    (1..=c.spawned)
        .rev()
        .find(|n| !c.finished_ones.contains(n) && !c.go.contains(n))
}

/// Runs `pool` over `inputs` with at most `limit` children, holding them as
/// `hold` says.
fn observe(pool: Pool, inputs: Vec<String>, limit: usize, hold: Hold) -> Result<Seen, Failure> {
    let shared: Shared = Arc::default();
    let total = inputs.len();
    let spawn = counting_spawn(shared.clone(), limit);
    let done = PoolDone(shared.clone());
    let running = start(move || {
        let _done = done;
        pool(&inputs, limit, &spawn)
    });
    // The children to watch; none while one is being started (its id is
    // not known yet, and the thread starting it sleeps meanwhile).
    let pids = || {
        let c = lock(&shared);
        (c.starting == 0).then(|| c.pids.clone())
    };
    let reached = match hold {
        Hold::NewestFirst => {
            loop {
                // Wait for a child to let go, once the pool has started all it
                // will start for now.
                let some_held = || {
                    let c = lock(&shared);
                    c.pool_done || newest_held(&c).is_some()
                };
                if !until_or_settled(&pids, some_held) {
                    break;
                }
                // Only a proven stillness counts: a pool that is still
                // starting the next child is not idle. Once every input has
                // had its child, no place can be left empty while inputs
                // wait, so there is nothing left to prove and no reason to
                // wait for stillness.
                let all_started = lock(&shared).spawned >= total;
                if !all_started && settle(&pids) {
                    let mut c = lock(&shared);
                    let alive = c.spawned - c.finished;
                    if c.finished > 0
                        && !c.pool_done
                        && c.spawned < total
                        && alive < limit
                        && c.idle.is_none()
                    {
                        c.idle = Some(format!(
                            "{} of its children had finished and {alive} were still alive, yet {} inputs were waiting and no new child was started",
                            c.finished,
                            total - c.spawned
                        ));
                    }
                }
                let Some(next) = newest_held(&lock(&shared)) else {
                    break;
                };
                lock(&shared).go.insert(next);
                shared.1.notify_all();
                let finished = || {
                    let c = lock(&shared);
                    c.finished_ones.contains(&next) || c.pool_done
                };
                until_or_settled(&pids, finished);
            }
            lock(&shared).released = true;
            shared.1.notify_all();
            lock(&shared).most_alive >= limit
        }
        Hold::UntilFull => {
            let full = || {
                let c = lock(&shared);
                c.spawned - c.finished >= limit || c.too_many.is_some() || c.pool_done
            };
            until_or_settled(&pids, full);
            let reached = {
                let c = lock(&shared);
                c.spawned - c.finished >= limit
            };
            // N are held. Once nothing moves any more, a pool without a limit has
            // started one more child, and a right one never will.
            if reached {
                settle(&pids);
            }
            lock(&shared).released = true;
            shared.1.notify_all();
            reached
        }
    };
    if !until_or_settled(&pids, || lock(&shared).pool_done) {
        let c = lock(&shared);
        let stuck = c.spawned - c.written;
        if stuck > 0 {
            return Err(check_harness::Failure::because(
                "waits-before-reading",
                format!(
                    "run_in_processes is stuck, and so are {stuck} of its children: each child prints {} KiB, more than a pipe holds, and a child that has filled its pipe waits until someone reads it. None of them has finished writing, so none can exit, and a wait() on one never returns.",
                    OUTPUT_BYTES / 1024
                ),
            ));
        }
        fail!(
            cause = "pool-stuck-at-the-end",
            "every child was allowed to finish and had printed its output, but run_in_processes did not return. What is it still waiting for, and can that wait end once no input is left?"
        );
    }
    let results = match recv_or_panic(&running, LIMIT) {
        Ok(results) => results,
        Err(_) => fail!(
            "run_in_processes did not return within {limit} after every child was allowed to finish. Does it read each child's stdout to the end and wait for it?", limit = human::duration(LIMIT)),
    };
    let census = lock(&shared);
    Ok(Seen {
        reached,
        most_alive: census.most_alive,
        too_many: census.too_many.clone(),
        idle: census.idle.clone(),
        results,
    })
}

fn inputs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("job-{i}")).collect()
}

fn process_limit() -> CheckResult {
    // First, the measurement itself: the spawn-one-per-job pool must be
    // caught, or this check could not catch yours either.
    let naive = observe(spawn_per_job, inputs(4), 3, Hold::UntilFull)?;
    ensure!(
        naive.too_many.is_some(),
        "internal: the check's own spawn-per-job pool was not caught exceeding 3 children (it reached {}); please report this",
        naive.most_alive
    );

    // The check lets the children finish one at a time, newest first: a
    // pool that keeps 3 busy starts the next child as soon as one is done.
    let seen = observe(learner_pool, inputs(8), 3, Hold::NewestFirst)?;
    if let Some(what) = &seen.too_many {
        fail!(cause = TOO_MANY_ALIVE, "run_in_processes(8 jobs, max_alive = 3): {what}; at most 3 children may be alive at once (the most seen was {}). Starting one child per job with no limit is exactly what falls over under load.", seen.most_alive);
    }
    ensure!(
        seen.reached,
        "run_in_processes(8 jobs, max_alive = 3) never had 3 children alive at once (the most was {}), although every job waited for the others. The pool should keep max_alive children busy, not run them one after another.",
        seen.most_alive
    );
    if let Some(what) = &seen.idle {
        return Err(check_harness::Failure::because(
            "slot-left-empty",
            format!("run_in_processes(8 jobs, max_alive = 3): the check let the children finish one at a time, newest first; {what}. While there is work, each child that ends should make room for the next input at once, whichever child it is."),
        ));
    }
    if let Some(left) = check_harness::children::left_behind() {
        fail!("after run_in_processes returned, {left}. wait() for every child.");
    }
    Ok(())
}

fn process_results() -> CheckResult {
    let jobs = inputs(6);
    let seen = observe(learner_pool, jobs.clone(), 2, Hold::NewestFirst)?;
    ensure!(
        seen.results.len() == jobs.len(),
        "6 jobs went in, {} results came out; expected one result per job, in order",
        seen.results.len()
    );
    for (input, result) in jobs.iter().zip(&seen.results) {
        let expected = child_output(input);
        match result {
            Ok(text) if text.trim() == expected && *text != expected => {
                return Err(check_harness::Failure::because(
                    "result-not-trimmed",
                    format!(
                        "the child for {input:?} printed {}, and its result is {}: the same text with whitespace around it (the child's last newline, say).",
                        shown(&expected),
                        shown(text)
                    ),
                ))
            }
            Ok(text) if *text != expected && jobs.iter().any(|other| child_output(other) == *text) => {
                return Err(check_harness::Failure::because(
                    "results-in-finish-order",
                    format!(
                        "the child for {input:?} printed {}, but its result is {}, which is what another input's child printed: the children finished in another order than the inputs (the check let them finish newest first), and the results followed that order.",
                        shown(&expected),
                        shown(text)
                    ),
                ))
            }
            Ok(text) => ensure!(
                *text == expected,
                "the child for {input:?} printed {}, but its result is {}. Results must come back in the order of the inputs, each exactly once: all that the child printed, trimmed.",
                shown(&expected),
                shown(text)
            ),
            Err(e) => fail!("the job {input:?} failed: {e}"),
        }
    }
    ensure!(
        seen.too_many.is_none() && seen.most_alive <= 2,
        cause = TOO_MANY_ALIVE,
        "with max_alive = 2, {} children were alive at once",
        seen.most_alive
    );
    if let Some(left) = check_harness::children::left_behind() {
        fail!("after run_in_processes returned, {left}. wait() for every child, even when reading its output failed.");
    }
    failing_child_is_an_error()
}

/// One child that prints a line and exits with code 3, between two that
/// succeed: its result must be an `Err`, whatever it printed.
fn failing_child_is_an_error() -> CheckResult {
    let inputs: Vec<String> = ["ok-1", "fails", "ok-2"].map(String::from).to_vec();
    let spawn = |input: &str| -> io::Result<Child> {
        if input == "fails" {
            let exe = std::env::current_exe()?;
            std::process::Command::new(exe)
                .arg(FAILING_CHILD)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
        } else {
            // Its notes to the check (on stderr) are of no use here.
            worker::command(input)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        }
    };
    let Some(results) = finishes(move || run_in_processes(&inputs, 2, spawn)) else {
        fail!("run_in_processes of 3 children, one of which prints a line and exits with code 3, did not return");
    };
    match results.get(1) {
        Some(Err(_)) => Ok(()),
        Some(Ok(text)) => fail!(
            cause = CHILD_STATUS_IGNORED,
            "the child for \"fails\" printed {} and then exited with code 3, yet its result is Ok({text:?}): a child that did not exit successfully gives an Err, whatever it printed.",
            shown(FAILING_OUTPUT)
        ),
        None => fail!(
            "3 jobs went in, {} results came out; expected one result per job, in order",
            results.len()
        ),
    }
}

/// More children alive at once than `max_alive`.
const TOO_MANY_ALIVE: &str = "too-many-alive";

/// A child that failed got an `Ok` result.
const CHILD_STATUS_IGNORED: &str = "child-status-ignored";
