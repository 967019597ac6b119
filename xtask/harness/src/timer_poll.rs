//! A thread that polls on a timer, told from one that waits.
//!
//! [`crate::cpu`] catches a thread that keeps running while it waits. A
//! thread that polls with a sleep or a timeout in between (`recv_timeout`,
//! `select!` with a `default(timeout)` arm, `try_send` and `sleep(1 ms)`)
//! runs for next to nothing, so its demand is small. What gives it away is
//! what it sleeps in: the kernel shows each sleeping thread's system call
//! and its arguments in `/proc/self/task/<tid>/syscall`. A thread that
//! waits for a message sleeps in a `futex` wait with no timeout; a poller
//! sleeps with a timer (a `futex` wait with a timeout, or `nanosleep`), and
//! comes back again and again.
//!
//! [`polls_on_a_timer`] looks at the thread while the check knows nothing
//! can arrive for it: seen asleep without a timer, it waits (the answer
//! right away); seen asleep on a timer, the answer is "polls" once it has
//! also woken up and gone back to sleep twice (its voluntary context
//! switches), which any poller does within its period. A thread that sleeps
//! on a timer far longer than `limit` is taken to wait. Linux only;
//! elsewhere the answer is `None` and the CPU-time proof stands alone.

use std::time::{Duration, Instant};

use crate::cpu::ThreadClock;

/// Whether the thread of `clock` polls on a timer (see the module's
/// documentation); `None` where this cannot be seen, or once the thread
/// has ended.
pub fn polls_on_a_timer(clock: Option<ThreadClock>, limit: Duration) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let tid = clock?.tid();
        let started = Instant::now();
        let mut woke_from: Option<u64> = None;
        loop {
            match linux::sleeping_in(tid)? {
                linux::Sleep::Untimed => return Some(false),
                linux::Sleep::Timed => {
                    let switches = linux::voluntary_switches(tid)?;
                    match woke_from {
                        None => woke_from = Some(switches),
                        Some(first) if switches >= first + 2 => return Some(true),
                        Some(_) => {}
                    }
                }
                linux::Sleep::Awake => {}
            }
            if started.elapsed() >= limit {
                return Some(false);
            }
            // Paces the readings; what decides is what they show.
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (clock, limit, Instant::now());
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    /// How a thread stood at one reading.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Sleep {
        /// Running, or in a system call that is not a wait.
        Awake,
        /// Asleep in a wait with no time limit.
        Untimed,
        /// Asleep until a timer, or something else, wakes it.
        Timed,
    }

    /// What the thread `tid` of this process is sleeping in; `None` once it
    /// has ended.
    pub fn sleeping_in(tid: libc::pid_t) -> Option<Sleep> {
        let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
        let mut fields = text.split_whitespace();
        let Some(Ok(nr)) = fields.next().map(str::parse::<i64>) else {
            // "running", or "-1 …" between system calls.
            return Some(Sleep::Awake);
        };
        let args: Vec<u64> = fields
            .take(6)
            .map(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).unwrap_or(0))
            .collect();
        Some(if nr == libc::SYS_futex {
            // futex(uaddr, op, val, timeout, …): a wait has a timeout
            // pointer or none.
            match args.get(3) {
                Some(0) => Sleep::Untimed,
                Some(_) => Sleep::Timed,
                None => Sleep::Awake,
            }
        } else if nr == libc::SYS_nanosleep || nr == libc::SYS_clock_nanosleep {
            Sleep::Timed
        } else {
            Sleep::Awake
        })
    }

    /// How many times the thread has gone to sleep by itself.
    pub fn voluntary_switches(tid: libc::pid_t) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|n| n.trim().parse().ok())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A thread that runs `body`, and its clock.
    fn watched(
        body: impl FnOnce() + Send + 'static,
    ) -> (Option<ThreadClock>, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            tx.send(ThreadClock::current()).unwrap();
            body();
        });
        (rx.recv().unwrap(), handle)
    }

    #[test]
    fn a_thread_that_waits_for_a_message_waits() {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (clock, handle) = watched(move || {
            let _ = stop_rx.recv();
        });
        assert_eq!(polls_on_a_timer(clock, Duration::from_secs(5)), Some(false));
        drop(stop_tx);
        handle.join().unwrap();
    }

    #[test]
    fn a_thread_that_polls_every_few_ms_polls() {
        for poll in [Duration::from_millis(1), Duration::from_millis(20)] {
            let (stop_tx, stop_rx) = mpsc::channel::<()>();
            let (clock, handle) = watched(move || while stop_rx.recv_timeout(poll).is_err() {});
            assert_eq!(
                polls_on_a_timer(clock, Duration::from_secs(5)),
                Some(true),
                "{poll:?}"
            );
            stop_tx.send(()).unwrap();
            handle.join().unwrap();
        }
    }

    #[test]
    fn a_thread_that_sleeps_between_tries_polls() {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (clock, handle) = watched({
            let stop = stop.clone();
            move || {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        assert_eq!(polls_on_a_timer(clock, Duration::from_secs(5)), Some(true));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        handle.join().unwrap();
    }
}
