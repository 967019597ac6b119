//! Small tools for writing deterministic checks: no sleeps, no timings.
//! A time limit here only turns a hang into a clear message.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A count-down latch: `wait` returns once `count_down` was called `n` times.
#[derive(Debug)]
pub struct Latch {
    remaining: Mutex<usize>,
    zero: Condvar,
}

impl Latch {
    pub fn new(n: usize) -> Latch {
        Latch {
            remaining: Mutex::new(n),
            zero: Condvar::new(),
        }
    }

    pub fn count_down(&self) {
        let mut left = self.remaining.lock().unwrap_or_else(|e| e.into_inner());
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.zero.notify_all();
        }
    }

    /// Waits until the count reaches zero; `false` if `limit` passed first.
    pub fn wait(&self, limit: Duration) -> bool {
        let left = self.remaining.lock().unwrap_or_else(|e| e.into_inner());
        let (left, _) = self
            .zero
            .wait_timeout_while(left, limit, |left| *left > 0)
            .unwrap_or_else(|e| e.into_inner());
        *left == 0
    }

    /// How many `count_down` calls are still missing.
    pub fn remaining(&self) -> usize {
        *self.remaining.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The name of the thread [`within`] runs its closure on.
pub const WITHIN_THREAD: &str = "check-within";

/// Runs `f` on its own thread and waits at most `limit` for its result.
///
/// `None` means `f` did not return in time (it is left running; the check
/// process exits after reporting). Use it to turn a deadlock in the learner's
/// code into a precise message instead of a bare time-out. A panic in `f` is
/// passed on to the caller, so the check reports it as a panic.
pub fn within<T, F>(limit: Duration, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    within_after(limit, f, || false, limit)
}

/// Like [`within`], with a second, shorter limit for the last part of the
/// work: once `done()` says everything the check asked for has happened
/// (it is asked every 50 ms), `f` has at most `grace` more to return.
///
/// For work whose end the check can see from outside (the last job has
/// run, say) but whose return it cannot: a hang after that point is then
/// reported in `grace`, not at the end of the whole `limit`. Both are time
/// limits that only catch a hang; pick them far above what a right answer
/// needs.
pub fn within_after<T, F>(
    limit: Duration,
    f: F,
    mut done: impl FnMut() -> bool,
    grace: Duration,
) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(WITHIN_THREAD.into())
        .spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        })
        .expect("spawn a thread");
    let started = std::time::Instant::now();
    let mut deadline = started + limit;
    let mut seen_done = false;
    loop {
        // Past the deadline: `f` did not return in time.
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        match rx.recv_timeout(left.min(Duration::from_millis(50))) {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(payload)) => std::panic::resume_unwind(payload),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if !seen_done && done() {
            seen_done = true;
            deadline = deadline.min(std::time::Instant::now() + grace);
        }
    }
}
