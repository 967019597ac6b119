//! CPU time, to tell a thread that waits from a thread that spins.
//!
//! A check that must prove "the code waits here" cannot prove it with a
//! stopwatch. It compares what two threads asked of the CPUs instead: the
//! check thread burns a known amount of its OWN CPU time ([`burn_own_cpu`])
//! and meanwhile reads the watched thread's *demand* ([`ThreadClock::demand`]):
//! the time it ran plus the time it was ready to run and waited for a CPU.
//! A thread blocked in `recv` has next to none. A thread polling in a loop
//! is ready to run the whole time, so its demand is at least the time the
//! check burned, on one CPU as on many, however loaded the machine: polling
//! with `thread::yield_now` between tries gives its CPU time to others, and
//! still counts in full, as time spent waiting for a CPU. CPU time alone
//! would miss it (it is the fallback where the waiting time cannot be read).

use std::time::Duration;

/// A handle on one thread's CPU-time clock, readable from any thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadClock {
    #[cfg(target_os = "linux")]
    id: libc::clockid_t,
    /// The thread's kernel id, for `/proc/self/task/<tid>/schedstat`.
    #[cfg(target_os = "linux")]
    tid: libc::pid_t,
}

impl ThreadClock {
    /// The calling thread's clock. `None` where the platform cannot read
    /// another thread's CPU time (only Linux is supported).
    pub fn current() -> Option<ThreadClock> {
        #[cfg(target_os = "linux")]
        {
            let mut id: libc::clockid_t = 0;
            // SAFETY: writes one clockid_t for the calling thread.
            let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
            // SAFETY: gettid takes no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t;
            (rc == 0).then_some(ThreadClock { id, tid })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The CPU time the thread has used so far; `None` once it has ended.
    pub fn cpu_time(&self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            read_clock(self.id)
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The time the thread has spent running or ready to run (waiting for
    /// a CPU) so far: the first two fields of its `schedstat`. Where that
    /// cannot be read, its CPU time ([`ThreadClock::cpu_time`]). `None` once
    /// the thread has ended.
    pub fn demand(&self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            let text = std::fs::read_to_string(format!("/proc/self/task/{}/schedstat", self.tid));
            let fields: Option<Vec<u64>> = text.ok().map(|t| {
                t.split_whitespace()
                    .take(2)
                    .map_while(|f| f.parse().ok())
                    .collect()
            });
            match fields.as_deref() {
                Some([ran, waited]) => Some(Duration::from_nanos(ran.saturating_add(*waited))),
                _ => self.cpu_time(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        None
    }
}

impl ThreadClock {
    /// The kernel's thread id, for other views of the same thread (see
    /// [`crate::timer_poll`]).
    #[cfg(target_os = "linux")]
    pub fn tid(&self) -> libc::pid_t {
        self.tid
    }
}

/// Burns half of `amount` of the calling thread's own CPU time, then
/// `amount` more ([`burn_own_cpu`], ending early when `stop` says so), and
/// returns whether it stopped early, and the demand
/// ([`ThreadClock::demand`]) of the thread `clock` watches during the second
/// part (`None` where it cannot be read, or when it stopped in the first).
pub fn demand_while_burning(
    clock: Option<ThreadClock>,
    amount: Duration,
    mut stop: impl FnMut() -> bool,
) -> (bool, Option<Duration>) {
    // A thread just started or woken is ready to run until it gets to where
    // it waits, and on a loaded machine that wait for a CPU alone can be
    // long: it would count as demand. So the check first burns half as much
    // unmeasured, time in which a fair scheduler lets the other thread run
    // up to its wait; only then does the measured part begin.
    if burn_own_cpu(amount / 2, &mut stop) {
        return (true, None);
    }
    let before = clock.and_then(|c| c.demand());
    let stopped = burn_own_cpu(amount, stop);
    let used = match (before, clock.and_then(|c| c.demand())) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    (stopped, used)
}

#[cfg(unix)]
fn read_clock(id: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// The calling thread's own CPU time (`None` where it cannot be read).
pub fn own_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        read_clock(libc::CLOCK_THREAD_CPUTIME_ID)
    }
    #[cfg(not(unix))]
    None
}

/// Spins until the calling thread has used `amount` of CPU time, calling
/// `stop` between spins; returns early (with `true`) when `stop` says so.
/// Without a per-thread clock, it spins for `amount` of wall-clock time.
pub fn burn_own_cpu(amount: Duration, mut stop: impl FnMut() -> bool) -> bool {
    let wall = std::time::Instant::now();
    let start = own_cpu_time();
    loop {
        if stop() {
            return true;
        }
        let used = match (start, own_cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall.elapsed(),
        };
        if used >= amount {
            return false;
        }
        for _ in 0..1000 {
            std::hint::spin_loop();
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};

    /// Starts a thread running `body`, and returns its clock.
    fn watched(body: impl FnOnce() + Send + 'static) -> (ThreadClock, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            tx.send(ThreadClock::current().expect("a Linux thread clock"))
                .expect("the test waits for the clock");
            body();
        });
        (rx.recv().expect("the thread sends its clock"), handle)
    }

    #[test]
    fn a_yielding_poller_demands_at_least_what_the_check_burns_and_a_sleeper_next_to_nothing() {
        const BURN: Duration = Duration::from_millis(50);
        let stop = Arc::new(AtomicBool::new(false));
        let (poller, poll_handle) = watched({
            let stop = stop.clone();
            move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::yield_now();
                }
            }
        });
        let (wake, asleep) = mpsc::channel::<()>();
        let (sleeper, sleep_handle) = watched(move || {
            let _ = asleep.recv();
        });
        let (_, polled) = demand_while_burning(Some(poller), BURN, || false);
        let (_, slept) = demand_while_burning(Some(sleeper), BURN, || false);
        stop.store(true, Ordering::Relaxed);
        drop(wake);
        poll_handle.join().unwrap();
        sleep_handle.join().unwrap();
        let (polled, slept) = (polled.unwrap(), slept.unwrap());
        // The kernel adds a wait to the total when the wait ends, and run
        // time at its ticks: a read can miss up to one time slice.
        assert!(polled >= BURN / 2, "the poller demanded only {polled:?}");
        assert!(slept < BURN / 4, "the sleeper demanded {slept:?}");
    }
}
