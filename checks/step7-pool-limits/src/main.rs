//! The checks of step 7, pool limits. Titles and hints live in course.toml;
//! run them with `cargo xtask check step7`.
//!
//! Nothing here is measured with a clock. Concurrency is counted: every job
//! (thread pool) and every child (process pool) registers with counters this
//! binary owns, and is held at a latch until the check lets it go. So "N ran
//! at once" is proven by N of them being held at the same moment, and "never
//! more than N" by the (N+1)-th never showing up while they are held.
//!
//! For the process pool this binary is also the child: started with the
//! child argument, it runs `controlled_job`, which reports to the check and
//! waits for its go-ahead over the pipes the check keeps (stdin and stderr).

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Write};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::process::{Child, ChildStderr, ChildStdin, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use check_harness::sync::{within, Latch};
use check_harness::{ensure, fail, Check, CheckResult, Failure};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step7_pool_limits as subject;
#[cfg(feature = "solution")]
use step7_pool_limits_solution as subject;

use subject::{run_in_processes, worker, ThreadPool};

fn main() {
    worker::run_if_requested(controlled_job);
    check_harness::main(&[
        Check::new("results-once", results_once),
        Check::new("runs-n-at-once", runs_n_at_once),
        Check::new("back-pressure", back_pressure),
        Check::new("shutdown-joins", shutdown_joins),
        Check::new("process-limit", process_limit),
        Check::new("process-results", process_results),
    ]);
}

/// The limit that turns a deadlock into a message. Nothing correct comes
/// anywhere near it.
const LIMIT: Duration = Duration::from_secs(8);

/// How long a check keeps N jobs held while it watches for an (N+1)-th, or
/// for a `submit` that should be waiting. A correct pool passes however long
/// this is; it only has to be long enough for a wrong one to show itself.
const WINDOW: Duration = Duration::from_millis(200);

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
    fn enter(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

fn results_once() -> CheckResult {
    const JOBS: usize = 30;
    let gauge = Arc::new(Gauge::default());
    let (tx, rx) = mpsc::channel();
    let g = gauge.clone();
    let Some(joined) = within(LIMIT, move || {
        let pool = ThreadPool::new(3, 2);
        for id in 0..JOBS {
            let (tx, g) = (tx.clone(), g.clone());
            pool.submit(move || {
                g.enter();
                let _ = tx.send(id);
                g.leave();
            });
        }
        pool.shutdown()
    }) else {
        fail!("submitting {JOBS} jobs to ThreadPool::new(3, 2) and calling shutdown() did not finish within {LIMIT:?}. Do the workers take jobs off the queue? Does shutdown close the queue before it joins them?");
    };
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
        "a pool of 3 workers should join 3 workers at shutdown; shutdown() returned {joined}"
    );
    ensure!(
        gauge.most() <= 3,
        "a pool of 3 workers ran {} jobs at the same moment",
        gauge.most()
    );
    Ok(())
}

/// Jobs that hold their worker until `release` opens.
struct Held {
    gauge: Arc<Gauge>,
    /// Counts down as each job starts: all N started = N ran at once.
    first_n: Arc<Latch>,
    /// Counts down N+1 times only if an (N+1)-th job starts while N are held.
    one_more: Arc<Latch>,
    release: Arc<Latch>,
    finished: Arc<AtomicUsize>,
}

impl Held {
    fn new(n: usize) -> Held {
        Held {
            gauge: Arc::default(),
            first_n: Arc::new(Latch::new(n)),
            one_more: Arc::new(Latch::new(n + 1)),
            release: Arc::new(Latch::new(1)),
            finished: Arc::default(),
        }
    }

    fn job(&self) -> impl FnOnce() + Send + 'static {
        let (gauge, first_n, one_more, release, finished) = (
            self.gauge.clone(),
            self.first_n.clone(),
            self.one_more.clone(),
            self.release.clone(),
            self.finished.clone(),
        );
        move || {
            gauge.enter();
            first_n.count_down();
            one_more.count_down();
            release.wait(LIMIT);
            gauge.leave();
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

fn runs_n_at_once() -> CheckResult {
    let held = Held::new(3);
    let pool = ThreadPool::new(3, 2);
    // Three workers, five jobs: three run, two wait in the queue.
    for _ in 0..5 {
        pool.submit(held.job());
    }
    let all_three = held.first_n.wait(LIMIT);
    let a_fourth = held.one_more.wait(WINDOW);
    let started = 5 - held.one_more.remaining().min(5);
    held.release.count_down();
    let joined = within(LIMIT, move || pool.shutdown());
    ensure!(
        all_three,
        "ThreadPool::new(3, 2) got five jobs that each hold their worker until released; only {started} of them were running at once, expected 3. Are there really 3 worker threads, all taking jobs from the same queue?"
    );
    ensure!(
        !a_fourth,
        "ThreadPool::new(3, 2) started a 4th job while 3 jobs still held all 3 workers: the pool runs more than 3 jobs at once. Exactly `workers` threads should take jobs."
    );
    ensure!(
        joined.is_some(),
        "after the held jobs were released, shutdown() did not return within {LIMIT:?}"
    );
    ensure!(
        held.gauge.most() == 3 && held.finished.load(Ordering::SeqCst) == 5,
        "expected at most 3 jobs at once and all 5 finished; saw {} at once and {} finished",
        held.gauge.most(),
        held.finished.load(Ordering::SeqCst)
    );
    Ok(())
}

fn back_pressure() -> CheckResult {
    let held = Held::new(3);
    let pool = Arc::new(ThreadPool::new(3, 2));
    for _ in 0..3 {
        pool.submit(held.job());
    }
    if !held.first_n.wait(LIMIT) {
        held.release.count_down();
        fail!("three jobs were submitted to ThreadPool::new(3, 2), but they were not all running at once, so the queue could not be tested (see the check runs-n-at-once)");
    }
    // All three workers are busy: the queue (capacity 2) takes two more.
    let filling = start({
        let (pool, jobs) = (pool.clone(), [held.job(), held.job()]);
        move || {
            for job in jobs {
                pool.submit(job);
            }
        }
    });
    if filling.recv_timeout(LIMIT).is_err() {
        held.release.count_down();
        fail!("with all 3 workers busy, 2 more jobs should fit in a queue of capacity 2, but submit() waited. Make the channel's capacity `queue_capacity`.");
    }
    // The queue is full now: the next submit must wait.
    let extra = start({
        let (pool, job) = (pool.clone(), held.job());
        move || pool.submit(job)
    });
    let returned_early = recv_or_panic(&extra, WINDOW).is_ok();
    held.release.count_down();
    ensure!(
        !returned_early,
        "3 workers busy, 2 jobs queued (the capacity): a 6th submit() should wait until there is room, but it returned at once. The queue is not bounded, so a fast producer could pile up jobs without limit."
    );
    ensure!(
        recv_or_panic(&extra, LIMIT).is_ok(),
        "once the workers were released, the waiting submit() should have gone through, but it did not return within {LIMIT:?}"
    );
    let Ok(pool) = Arc::try_unwrap(pool) else {
        fail!("internal: the pool is still shared");
    };
    let joined = within(LIMIT, move || pool.shutdown());
    ensure!(
        joined == Some(3) && held.finished.load(Ordering::SeqCst) == 6,
        "after release, shutdown() should finish all 6 jobs and join 3 workers; it returned {joined:?} and {} jobs finished",
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
    if let Ok(joined) = recv_or_panic(&shutting, WINDOW) {
        held.release.count_down();
        fail!("shutdown() returned {joined} while 3 jobs were still running and 4 were queued. It must wait for the workers to finish the queue: join every worker before returning.");
    }
    held.release.count_down();
    let joined = match recv_or_panic(&shutting, LIMIT) {
        Ok(joined) => joined,
        Err(_) => fail!("shutdown() did not return within {LIMIT:?} after the workers were released. Does it close the queue (drop the sender) before joining? A worker waits for jobs until the queue is closed."),
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
    format!("done:{input}")
}

/// The check's view of the children: how many the pool started, how many
/// reported finishing, and whether they may go on.
#[derive(Debug, Default)]
struct Census {
    spawned: usize,
    finished: usize,
    most_alive: usize,
    too_many: Option<String>,
    released: bool,
    /// The pool returned (or panicked): stop waiting for more children.
    pool_done: bool,
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
        {
            let mut census = lock(&shared);
            census.spawned += 1;
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
        }
        let mut cmd = worker::command(input);
        cmd.stdin(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let (Some(stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
            return Err(io::Error::other("the check's pipes were not set up"));
        };
        let shared = shared.clone();
        std::thread::spawn(move || control(stdin, stderr, shared));
        Ok(child)
    }
}

/// Holds one child until the check releases it, then counts its finish.
fn control(mut stdin: ChildStdin, stderr: ChildStderr, shared: Shared) {
    {
        let census = lock(&shared);
        let _unused = shared
            .1
            .wait_while(census, |c| !c.released)
            .unwrap_or_else(|e| e.into_inner());
    }
    let _ = writeln!(stdin, "go").and_then(|_| stdin.flush());
    let mut lines = BufReader::new(stderr).lines();
    let said_done = lines.by_ref().map_while(Result::ok).any(|l| l == "done");
    if said_done {
        lock(&shared).finished += 1;
        shared.1.notify_all();
    }
    let _ = writeln!(stdin, "bye").and_then(|_| stdin.flush());
    // Keep reading so the child never blocks writing to its stderr.
    for _ in lines {}
}

/// What one run of a process pool looked like from the check's side.
struct Seen {
    /// N children were alive at the same moment.
    reached: bool,
    most_alive: usize,
    too_many: Option<String>,
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

/// Runs `pool` over `inputs` with at most `limit` children, holding the
/// first `limit` children until they are all alive (or until LIMIT).
fn observe(pool: Pool, inputs: Vec<String>, limit: usize, hold: bool) -> Result<Seen, Failure> {
    let shared: Shared = Arc::default();
    lock(&shared).released = !hold;
    let spawn = counting_spawn(shared.clone(), limit);
    let done = PoolDone(shared.clone());
    let running = start(move || {
        let _done = done;
        pool(&inputs, limit, &spawn)
    });
    let reached = if hold {
        let census = lock(&shared);
        let (census, _) = shared
            .1
            .wait_timeout_while(census, LIMIT, |c| {
                c.spawned - c.finished < limit && c.too_many.is_none() && !c.pool_done
            })
            .unwrap_or_else(|e| e.into_inner());
        let reached = census.spawned - census.finished >= limit;
        // N are held: give a pool without a limit the chance to start one
        // more. (A correct pool passes however long this window is.)
        let (mut census, _) = shared
            .1
            .wait_timeout_while(census, WINDOW, |c| {
                reached && c.too_many.is_none() && !c.pool_done
            })
            .unwrap_or_else(|e| e.into_inner());
        census.released = true;
        shared.1.notify_all();
        reached
    } else {
        true
    };
    let results = match recv_or_panic(&running, LIMIT) {
        Ok(results) => results,
        Err(_) => fail!(
            "run_in_processes did not return within {LIMIT:?} after every child was allowed to finish. Does it read each child's stdout to the end and wait for it?"
        ),
    };
    let census = lock(&shared);
    Ok(Seen {
        reached,
        most_alive: census.most_alive,
        too_many: census.too_many.clone(),
        results,
    })
}

fn inputs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("job-{i}")).collect()
}

fn process_limit() -> CheckResult {
    // First, the measurement itself: the spawn-one-per-job pool must be
    // caught, or this check could not catch yours either.
    let naive = observe(spawn_per_job, inputs(6), 3, true)?;
    ensure!(
        naive.too_many.is_some(),
        "internal: the check's own spawn-per-job pool was not caught exceeding 3 children (it reached {}); please report this",
        naive.most_alive
    );
    eprintln!(
        "the spawn-per-job pool was caught: {}",
        naive.too_many.unwrap_or_default()
    );

    let seen = observe(learner_pool, inputs(8), 3, true)?;
    if let Some(what) = &seen.too_many {
        fail!("run_in_processes(8 jobs, max_alive = 3): {what}; at most 3 children may be alive at once (the most seen was {}). Starting one child per job with no limit is exactly what falls over under load.", seen.most_alive);
    }
    ensure!(
        seen.reached,
        "run_in_processes(8 jobs, max_alive = 3) never had 3 children alive at once (the most was {}), although every job waited for the others. The pool should keep max_alive children busy, not run them one after another.",
        seen.most_alive
    );
    if let Some(left) = check_harness::children::left_behind() {
        fail!("after run_in_processes returned, {left}. wait() for every child.");
    }
    Ok(())
}

fn process_results() -> CheckResult {
    let jobs = inputs(6);
    let seen = observe(learner_pool, jobs.clone(), 2, false)?;
    ensure!(
        seen.results.len() == jobs.len(),
        "6 jobs went in, {} results came out; expected one result per job, in order",
        seen.results.len()
    );
    for (input, result) in jobs.iter().zip(&seen.results) {
        let expected = format!("done:{input}");
        match result {
            Ok(text) => ensure!(
                *text == expected,
                "the child for {input:?} printed {expected:?}, but its result is {text:?}. Results must come back in the order of the inputs, each exactly once (trim the trailing newline)."
            ),
            Err(e) => fail!("the job {input:?} failed: {e}"),
        }
    }
    ensure!(
        seen.too_many.is_none() && seen.most_alive <= 2,
        "with max_alive = 2, {} children were alive at once",
        seen.most_alive
    );
    if let Some(left) = check_harness::children::left_behind() {
        fail!("after run_in_processes returned, {left}. wait() for every child, even when reading its output failed.");
    }
    Ok(())
}
