//! The checks of step 3, how threads work. Titles and hints live in
//! course.toml; run them with `cargo xtask check step3`.
//!
//! Correctness is compared with the single-threaded reference on random
//! data; the seed is printed on failure (rerun with `STEP3_SEED=<seed>`).
//! Parallelism is proved with a barrier, never with timings: each thread's
//! first byte waits until all N threads have arrived, which only happens if
//! they really run at the same time.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use check_harness::sync::{within, within_unless_stuck, Latch, Waited};
use check_harness::trace::{self, LaneKind, Tone};
use check_harness::{ensure, fail, human, Check, CheckResult, Failure};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step3_shared_atomics as subject;
#[cfg(feature = "solution")]
use step3_shared_atomics_solution as subject;

mod signatures;

use signatures::{count_in_background, count_scoped};
use subject::{histogram_single, Histogram};

fn main() {
    check_harness::main(&[
        Check::new("matches-reference", matches_reference),
        Check::new("threads-at-once", threads_at_once),
        Check::new("no-lost-updates", no_lost_updates),
        Check::new("outlives-the-call", outlives_the_call),
    ]);
}

const LIMIT: Duration = Duration::from_secs(5);

/// The seed: `STEP3_SEED` if set, otherwise a fresh random one. Every
/// message about the random data names it.
fn seed() -> u64 {
    std::env::var("STEP3_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

/// Random bytes, some runs skewed towards a few values.
fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let skewed = rng.gen_bool(0.5);
    (0..len)
        .map(|_| {
            if skewed {
                rng.gen_range(0..8u8)
            } else {
                rng.gen()
            }
        })
        .collect()
}

/// `len` random bytes for `threads` threads, such that each thread's part
/// (as split_ranges cuts it) holds byte values no other part holds: no two
/// threads ever add to the same counter. Whether `add` loses updates when
/// two threads add to one counter at once is no-lost-updates' business
/// alone; with shared values, a lossy `add` would fail the other checks too,
/// or not, depending on how the threads happened to overlap. (Merging that
/// overwrites instead of adding is caught there as well: it counts one value
/// on every thread.)
fn bytes_by_part(rng: &mut StdRng, len: usize, threads: usize) -> Vec<u8> {
    let width = 256 / threads;
    subject::split_ranges(len, threads)
        .iter()
        .enumerate()
        .flat_map(|(k, part)| {
            random_bytes(rng, part.len())
                .into_iter()
                .map(move |b| (k * width + usize::from(b) % width) as u8)
                .collect::<Vec<u8>>()
        })
        .collect()
}

/// "bucket 65: expected 3, got 2; ..." for the first few differences.
fn differences(expected: &[u64], got: &[u64]) -> String {
    if expected.len() != got.len() {
        return format!("expected {} buckets, got {}", expected.len(), got.len());
    }
    let diffs: Vec<String> = expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (e, g))| e != g)
        .take(4)
        .map(|(i, (e, g))| format!("byte {i}: expected {e}, got {g}"))
        .collect();
    diffs.join("; ")
}

fn matches_reference() -> CheckResult {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let again =
        format!("(random data, seed {seed}: rerun with STEP3_SEED={seed} to get the same data)");
    let lengths = [0, 1, 2, 3, 7, 255, 4096, 65_537, rng.gen_range(1..200_000)];
    for len in lengths {
        for threads in [1, 2, 3, 4, 8] {
            let data = bytes_by_part(&mut rng, len, threads);
            let expected = histogram_single(&data);
            let seen = AtomicUsize::new(0);
            let counting = Counting::new();
            let got = count_scoped(&data, threads, |_| {
                counting.on_this_thread();
                seen.fetch_add(1, Ordering::Relaxed);
            });
            let got = all_256(got, "count_scoped")?;
            let ran_on = counting.threads();
            ensure!(
                ran_on <= threads,
                cause = MORE_THREADS_THAN_PARTS,
                "count_scoped of {len} bytes on {threads} thread(s) ran on_item on {ran_on} different threads. `threads` is the number of parts, and of threads: one thread per part of split_ranges({len}, {threads}).\n{again}"
            );
            if got != expected && got.len() == expected.len() {
                // Which way the counts are off is what was seen; each way
                // has its own cause.
                let fewer = got.iter().zip(&expected).all(|(g, e)| g <= e);
                let more = got.iter().zip(&expected).all(|(g, e)| g >= e);
                let (cause, how) = match (fewer, more) {
                    (true, _) => (Some(COUNTS_MISSING), "some bytes were not counted"),
                    (_, true) => (
                        Some(COUNTED_TWICE),
                        "some bytes were counted more than once",
                    ),
                    _ => (None, "some counts are too low and others too high"),
                };
                let message = format!(
                    "count_scoped of {len} bytes on {threads} thread(s) differs from the single-threaded count: {how} ({}).\n{again}",
                    differences(&expected, &got)
                );
                return Err(match cause {
                    Some(cause) => check_harness::Failure::because(cause, message),
                    None => check_harness::Failure::new(message),
                });
            }
            ensure!(
                got == expected,
                "count_scoped of {len} bytes on {threads} thread(s) differs from the single-threaded count: {}\n{again}",
                differences(&expected, &got)
            );
            let seen = seen.into_inner();
            ensure!(
                seen == len,
                cause = ON_ITEM_CALLS,
                "count_scoped of {len} bytes on {threads} thread(s) called on_item {seen} times; expected once per byte, {len} times\n{again}"
            );
        }
    }
    Ok(())
}

/// A count that came out too low: bytes that no thread counted, or counts
/// that did not reach the result.
const COUNTS_MISSING: &str = "counts-missing";

/// `on_item` was not called once for every byte.
const ON_ITEM_CALLS: &str = "on-item-calls";

/// A histogram came back with a number of counts other than 256.
const NOT_256_COUNTS: &str = "not-256-counts";

/// `counts`, which `what` returned, if it holds one count per byte value;
/// otherwise the failure that says so, before any count is compared.
fn all_256(counts: Vec<u64>, what: &str) -> Result<Vec<u64>, Failure> {
    if counts.len() == 256 {
        return Ok(counts);
    }
    Err(Failure::because(
        NOT_256_COUNTS,
        format!(
            "{what} returned {} counts; a histogram has one per byte value, 256, in byte order, the zeros included.",
            counts.len()
        ),
    ))
}
/// A count that came out too high: bytes counted more than once.
const COUNTED_TWICE: &str = "counted-twice";

/// A call that counted on more threads than it was given.
const MORE_THREADS_THAN_PARTS: &str = "more-threads-than-parts";

/// Counts the threads one call of the learner's code runs `on_item` on.
struct Counting {
    call: u64,
    threads: AtomicUsize,
}

/// Numbers the calls, so a thread-local can tell a new call from an old one.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Counting {
    fn new() -> Counting {
        Counting {
            call: CALLS.fetch_add(1, Ordering::Relaxed),
            threads: AtomicUsize::new(0),
        }
    }

    /// In `on_item`: counts this thread once per call.
    fn on_this_thread(&self) {
        if COUNTED_IN.with(|c| c.replace(self.call)) != self.call {
            self.threads.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn threads(&self) -> usize {
        self.threads.load(Ordering::Relaxed)
    }
}

thread_local! {
    /// The call ([`Counting`]) this thread last counted itself in.
    static COUNTED_IN: Cell<u64> = const { Cell::new(0) };
    /// Whether this thread already waited at the barrier.
    static ARRIVED: Cell<bool> = const { Cell::new(false) };
    /// For the trace: this thread's "counts its part", ended when the
    /// thread ends (its thread-locals are dropped before a join returns).
    static COUNTING: RefCell<Option<trace::SpanGuard>> = const { RefCell::new(None) };
}

fn threads_at_once() -> CheckResult {
    let check = trace::lane("check", LaneKind::Check);
    let gate = trace::lane("the gate", LaneKind::Check);
    // Threads are numbered in the order they reach their first byte.
    let arrivals = Arc::new(AtomicUsize::new(0));
    for threads in [2, 4] {
        let data: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
        let call = trace::begin(check, format!("count_scoped: {threads} parts"));
        let arrivals = Arc::clone(&arrivals);
        // Only whether they ran at once: the counts are matches-reference's
        // and no-lost-updates' business. (Compared here, threads adding at
        // the same moment would make a lost-update mistake show up or not
        // by luck.) A thread held at the gate sleeps, so a wrong answer that
        // keeps the others from starting is proven stuck, not timed out.
        let here = Arc::new(AtomicUsize::new(0));
        let waited = within_unless_stuck(LIMIT, {
            let here = Arc::clone(&here);
            move || {
                let barrier = Barrier::new(threads);
                count_scoped(&data, threads, |_| {
                    // Each thread's first byte waits here until all have come.
                    if !ARRIVED.with(|a| a.replace(true)) {
                        let n = arrivals.fetch_add(1, Ordering::SeqCst) + 1;
                        let lane = trace::lane(&format!("thread {n}"), LaneKind::Thread);
                        let held = trace::begin(lane, "waits at the gate");
                        // The last one to come opens it.
                        if here.fetch_add(1, Ordering::SeqCst) + 1 == threads {
                            trace::instant(gate, format!("opens: all {threads} there"));
                        }
                        barrier.wait();
                        trace::end(held);
                        let counting = trace::span(lane, "counts its part");
                        COUNTING.with(|c| *c.borrow_mut() = Some(counting));
                    }
                })
            }
        });
        trace::end(call);
        let arrived = here.load(Ordering::SeqCst);
        if arrived > threads {
            trace::explains_failure(true);
            fail!(
                cause = MORE_THREADS_THAN_PARTS,
                "count_scoped of 4000 bytes with threads = {threads} ran on_item on {arrived} different threads (count_scoped {}). `threads` is the number of parts, and of threads: one thread per part of split_ranges(4000, {threads}).",
                waited.how()
            );
        }
        if !matches!(waited, Waited::Returned(_)) {
            let label = format!("gave up: not all {threads} threads at the gate");
            trace::instant_toned(check, label, Tone::Fault);
            trace::explains_failure(true);
            fail!(
                "your {threads} parts did not run at the same time: each thread's first byte waits until all {threads} threads have reached it, and they never all did (count_scoped {}).\nStart every thread before waiting for any; a scope waits for all of them at its end.",
                waited.how()
            );
        }
    }
    Ok(())
}

fn no_lost_updates() -> CheckResult {
    // Eight threads hammer the same counter.
    const THREADS: usize = 8;
    const ADDS: u64 = 100_000;
    // One add and one snapshot on this thread first, so that a `todo!()`
    // is reported once, not by each of the eight threads (or by a signal
    // handler, where a panic cannot unwind).
    let warm_up = Histogram::new();
    warm_up.add(42, 1);
    let _ = warm_up.snapshot();

    // First the proof that does not depend on the number of CPUs: one add
    // interrupted, at an unpredictable instruction, by another add.
    #[cfg(unix)]
    interrupted::adds_survive_interruption()?;

    let histogram = Histogram::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..ADDS {
                        histogram.add(42, 1);
                    }
                })
            })
            .collect();
        // Pass a panic in `add` on as it is, with its own message.
        for handle in handles {
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
    });
    let got = all_256(histogram.snapshot(), "snapshot()")?;
    let total = THREADS as u64 * ADDS;
    ensure!(
        got[42] == total,
        "{THREADS} threads each called add(42, 1) {ADDS} times, at the same time: expected {total}, got {}.\nUpdates were lost: the read and the write of the counter must be one indivisible step.",
        got[42]
    );
    ensure!(
        got.iter().enumerate().all(|(i, &n)| i == 42 || n == 0),
        "only byte 42 was added to, but other buckets are not zero: {}",
        differences(&[&[0u64; 42][..], &[total], &[0; 213]].concat(), &got)
    );
    // The same through count_scoped: every byte the same value. A few
    // thousand bytes are enough (a count that goes missing between the parts
    // and the result does so whatever their size), and keep this quick for a
    // count_scoped that spawns far more threads than parts: that one is
    // matches-reference's to reject, not this check's time limit's.
    const BYTES: usize = 8 * 1024 + 3;
    let data = vec![7u8; BYTES];
    let got = all_256(count_scoped(&data, THREADS, |_| {}), "count_scoped")?;
    let seven = got.get(7).copied();
    ensure!(
        seven.is_none_or(|n| n <= BYTES as u64),
        cause = COUNTED_TWICE,
        "count_scoped of {BYTES} bytes, all 7, on {THREADS} threads: expected bucket 7 = {BYTES}, got {seven:?}, more than there are bytes: some were counted more than once."
    );
    ensure!(
        seven == Some(BYTES as u64),
        cause = COUNTS_MISSING,
        "count_scoped of {BYTES} bytes, all 7, on {THREADS} threads: expected bucket 7 = {BYTES}, got {seven:?}. add itself kept every update above, so these counts went missing in count_scoped, between the threads' parts and the histogram it returned."
    );
    Ok(())
}

/// An add interrupted by another add, on ONE thread: a signal arrives every
/// few microseconds while a loop calls `add(42, 1)`, and the signal handler
/// calls `add(42, 1)` too. Wherever the signal lands, the handler's add runs
/// to its end before the interrupted add continues, exactly as another
/// thread's add would if the OS switched threads at that instruction. A load
/// followed by a store loses the handler's add whenever a signal lands
/// between the two, whatever the number of CPUs and the load: the
/// interruptions are aimed at the looping thread (`pthread_kill` from a
/// thread of its own), not left to threads overlapping on different cores.
/// With hundreds of interruptions at random instructions, a window of even a
/// few per cent is hit (a miss on every one of 500 is less likely than 1 in
/// 10^10 for a 5 % window).
///
/// A process-wide timer signal (`setitimer`) is not enough: the kernel hands
/// it to any thread that does not block it, and the harness's own threads
/// took most of them, which on a busy machine left a load and a store with
/// only a few lost adds in a run, or none.
///
/// An add that takes a lock waits for itself here (the interrupted add holds
/// the lock the handler's add waits for): that is reported as such.
#[cfg(unix)]
mod interrupted {
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

    use check_harness::{ensure, fail, CheckResult};

    use super::Histogram;

    /// The histogram the handler adds to (null while no test runs).
    static TARGET: AtomicPtr<Histogram> = AtomicPtr::new(std::ptr::null_mut());
    /// Handler adds that returned.
    static HANDLED: AtomicU64 = AtomicU64::new(0);
    /// How many interruptions the test waits for.
    const SIGNALS: u64 = 500;

    extern "C" fn on_alarm(_signal: libc::c_int) {
        let target = TARGET.load(Ordering::SeqCst);
        if !target.is_null() {
            // SAFETY: TARGET points at a leaked Histogram, never freed.
            unsafe { (*target).add(42, 1) };
            HANDLED.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Lets SIGALRM through to the calling thread.
    fn unblock_alarm() {
        // SAFETY: plain calls on a local signal set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGALRM);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
    }

    /// The looping thread, for the thread that signals it.
    #[derive(Clone, Copy)]
    struct Aim(libc::pthread_t);

    // SAFETY: a pthread_t is only a name for a thread; the looping thread
    // outlives every use of it (it joins the signalling thread first).
    unsafe impl Send for Aim {}

    /// Signals `aim` over and over until `stop`; a signal sent while one is
    /// still pending merges with it, and the count that matters is HANDLED.
    fn keep_interrupting(aim: Aim, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            // SAFETY: `aim` names a live thread (see Aim).
            unsafe { libc::pthread_kill(aim.0, libc::SIGALRM) };
            // Spaces the signals out; how far does not change the verdict.
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }

    pub fn adds_survive_interruption() -> CheckResult {
        let histogram: &'static Histogram = Box::leak(Box::new(Histogram::new()));
        // SAFETY: the handler only does atomic operations and calls `add`,
        // whose warm-up call already ran without a panic.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut());
        }
        TARGET.store(
            histogram as *const Histogram as *mut Histogram,
            Ordering::SeqCst,
        );
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut adds = 0u64;
            // The signals are aimed at this thread, which must not block them.
            unblock_alarm();
            // SAFETY: pthread_self has no preconditions.
            let aim = Aim(unsafe { libc::pthread_self() });
            let stop = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| keep_interrupting(aim, &stop));
                while HANDLED.load(Ordering::SeqCst) < SIGNALS {
                    histogram.add(42, 1);
                    adds += 1;
                }
                stop.store(true, Ordering::SeqCst);
            });
            let _ = done.send(adds);
        });
        // A time limit only to turn a self-deadlock into a clear message.
        let Ok(adds) = finished.recv_timeout(super::LIMIT) else {
            fail!(
                "add(42, 1) never returned when another add(42, 1) ran while it was still in progress (on the same thread: a signal handler interrupted it, after {} interruptions had gone through).\nadd must never wait: a Mutex or a spin lock here waits for a lock that the interrupted add is holding. Use one atomic read-modify-write (fetch_add) on the counter.",
                HANDLED.load(Ordering::SeqCst)
            );
        };
        TARGET.store(std::ptr::null_mut(), Ordering::SeqCst);
        let handled = HANDLED.load(Ordering::SeqCst);
        let expected = adds + handled;
        let got = super::all_256(histogram.snapshot(), "snapshot()")?[42];
        ensure!(
            got == expected,
            "a loop called add(42, 1) {adds} times and was interrupted {handled} times by a signal whose handler also called add(42, 1): expected {expected}, got {got}, so {} add(s) were lost.\nAn add that reads the counter and then writes it back loses the other add whenever something runs between the read and the write (here a signal handler; in real programs another thread, on any number of CPUs). Make the read and the write one indivisible step: fetch_add.",
            expected.saturating_sub(got)
        );
        Ok(())
    }
}

fn outlives_the_call() -> CheckResult {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    const THREADS: usize = 3;
    let data: Arc<[u8]> = bytes_by_part(&mut rng, 50_000, THREADS).into();
    let expected = histogram_single(&data);
    // Every thread's first byte waits for the gate, which opens only after
    // count_in_background has returned.
    let gate = Arc::new(Latch::new(1));
    // Every byte passes through on_item, once, as in count_scoped.
    let seen = Arc::new(AtomicUsize::new(0));
    let started = {
        let (data, gate, items) = (data.clone(), gate.clone(), seen.clone());
        // A thread held at the gate sleeps: a call that joins them is
        // proven stuck, not timed out.
        within_unless_stuck(LIMIT, move || {
            count_in_background(data, THREADS, move |_| {
                items.fetch_add(1, Ordering::Relaxed);
                if !ARRIVED.with(|a| a.replace(true)) {
                    gate.wait(Duration::from_secs(60));
                }
            })
        })
    };
    let background = match started {
        Waited::Returned(background) => background,
        Waited::Stuck => fail!(
            cause = "joins-before-returning",
            "count_in_background did not return while its threads were still working: they waited for the check, the check waited for the call to return, and the call waited for them. Every thread was asleep, so it could never go on."
        ),
        other => fail!(
            "count_in_background did not return while its threads were still working (they wait for the check, which waits for the call to return): it {}.",
            other.how()
        ),
    };
    gate.count_down();
    ensure!(
        background.handles.len() == THREADS,
        "asked for {THREADS} threads, got {} JoinHandles back",
        background.handles.len()
    );
    let histogram = background.histogram.clone();
    let Some(got) = within(LIMIT, move || background.finish()) else {
        fail!(
            "the background threads did not finish within {limit} after the gate opened",
            limit = human::duration(LIMIT)
        );
    };
    let got = all_256(got, "Background::finish")?;
    ensure!(
        got == expected,
        "count_in_background of 50000 random bytes differs from the single-threaded count: {}\n(seed {seed}: rerun with STEP3_SEED={seed})",
        differences(&expected, &got)
    );
    let seen = seen.load(Ordering::Relaxed);
    ensure!(
        seen == data.len(),
        cause = ON_ITEM_CALLS,
        "count_in_background of {} bytes called on_item {seen} times; expected once per byte, as count_scoped does.",
        data.len()
    );
    ensure!(
        Arc::strong_count(&histogram) == 1,
        "all threads have ended, yet {} other owner(s) of the histogram's Arc are still alive; each thread should own one clone, dropped when it ends",
        Arc::strong_count(&histogram) - 1
    );
    ensure!(
        Arc::strong_count(&data) == 1,
        "all threads have ended, yet {} other owner(s) of the data's Arc are still alive",
        Arc::strong_count(&data) - 1
    );
    Ok(())
}
