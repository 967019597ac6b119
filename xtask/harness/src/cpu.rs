//! CPU time, to tell a thread that waits from a thread that spins.
//!
//! A check that must prove "the code waits here" cannot prove it with a
//! stopwatch. It can compare CPU time instead: the check thread burns a
//! known amount of its OWN CPU time ([`burn_own_cpu`]) and meanwhile reads
//! how much CPU the watched thread used ([`ThreadClock`]). A thread blocked
//! in `recv` uses next to none; a thread polling in a loop gets its fair
//! share of a CPU (about as much as the check thread on one CPU, all of its
//! own CPU on several). The verdict rests on the scheduler's fairness, not
//! on the machine's speed: a slow machine makes both numbers grow together.

use std::time::Duration;

/// A handle on one thread's CPU-time clock, readable from any thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadClock {
    #[cfg(target_os = "linux")]
    id: libc::clockid_t,
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
            (rc == 0).then_some(ThreadClock { id })
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
