//! Small tools for writing deterministic checks: no sleeps, no timings.
//! A time limit here only turns a hang into a clear message.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A count-down latch: `wait` returns once `count_down` was called `n` times,
/// or once the latch was [abandoned](Latch::abandon).
#[derive(Debug)]
pub struct Latch {
    state: Mutex<LatchState>,
    changed: Condvar,
}

#[derive(Debug)]
struct LatchState {
    remaining: usize,
    abandoned: bool,
}

impl Latch {
    pub fn new(n: usize) -> Latch {
        Latch {
            state: Mutex::new(LatchState {
                remaining: n,
                abandoned: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn count_down(&self) {
        let mut state = self.state();
        state.remaining = state.remaining.saturating_sub(1);
        if state.remaining == 0 {
            self.changed.notify_all();
        }
    }

    /// What the waiters wait for can no longer come (say, the thread that
    /// was to start the counting panicked): every `wait`, now and later,
    /// returns at once. The count itself is left as it is.
    pub fn abandon(&self) {
        self.state().abandoned = true;
        self.changed.notify_all();
    }

    /// Whether [`Latch::abandon`] was called.
    pub fn abandoned(&self) -> bool {
        self.state().abandoned
    }

    /// Waits until the count reaches zero; `false` if `limit` passed first,
    /// or if the latch was abandoned before the count reached zero.
    pub fn wait(&self, limit: Duration) -> bool {
        let (state, _) = self
            .changed
            .wait_timeout_while(self.state(), limit, |s| s.remaining > 0 && !s.abandoned)
            .unwrap_or_else(|e| e.into_inner());
        state.remaining == 0
    }

    /// How many `count_down` calls are still missing.
    pub fn remaining(&self) -> usize {
        self.state().remaining
    }
}

/// The name of the thread [`within`] runs its closure on.
pub const WITHIN_THREAD: &str = "check-within";

/// Starts `f` on a thread named [`WITHIN_THREAD`]; its result (or its
/// panic) arrives on the receiver.
fn on_own_thread<T, F>(f: F) -> mpsc::Receiver<std::thread::Result<T>>
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
    rx
}

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
    let rx = on_own_thread(f);
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

/// How long everything must stay asleep, and unchanged, before
/// [`within_unless_stuck`] and [`recv_unless_stuck`] call it a deadlock: far
/// longer than any moment in which the kernel has queued a wake-up but not
/// yet carried it out (see [`crate::settle::HOLD`]), far shorter than the
/// limit a deadlock would otherwise wait for.
pub const STUCK_HOLD: Duration = Duration::from_secs(1);

/// How [`within_unless_stuck`] ended.
#[derive(Debug)]
pub enum Waited<T> {
    /// `f` returned this.
    Returned(T),
    /// Proven stuck: every thread of this process (but the waiting one) and
    /// of every process it started was asleep, and stayed so, while `f` had
    /// not returned. Nothing is left to wake them: a deadlock.
    Stuck,
    /// `f` had not returned when the limit ran out.
    TimedOut(Duration),
    /// [`recv_unless_stuck`]: every sender is gone, nothing more can come.
    Closed,
}

impl<T> Waited<T> {
    /// "was stuck for good (…)" or "did not return within 8 s", for messages
    /// such as "run_jobs {how}".
    pub fn how(&self) -> String {
        match self {
            Waited::Returned(_) => "returned".to_string(),
            Waited::Stuck => "was stuck for good: every thread of the check and of the processes it started was waiting, and none was left to wake the others".to_string(),
            Waited::TimedOut(limit) => {
                format!("did not return within {}", crate::human::duration(*limit))
            }
            Waited::Closed => "ended without a result".to_string(),
        }
    }
}

/// Like [`within`], but a deadlock is reported as soon as it is proven, not
/// at the end of `limit`: while `f` runs, [`crate::settle::settled`] looks
/// at every thread of this process and of every process it started
/// ([`crate::settle::descendants`]). When all of them sleep and stay asleep,
/// no one can wake the others and `f` will never return.
///
/// Only for code that never sleeps on a timer: a timer would wake it, so it
/// would look busy and get the full `limit` (never a wrong verdict). Where
/// the proof is not available (not Linux) this is [`within`].
pub fn within_unless_stuck<T, F>(limit: Duration, f: F) -> Waited<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let rx = on_own_thread(f);
    match recv_unless_stuck(&rx, limit) {
        Waited::Returned(Ok(value)) => Waited::Returned(value),
        Waited::Returned(Err(payload)) => std::panic::resume_unwind(payload),
        Waited::Stuck => Waited::Stuck,
        Waited::TimedOut(limit) => Waited::TimedOut(limit),
        Waited::Closed => Waited::Closed,
    }
}

/// The next message on `rx`, unless it is proven that none can come: every
/// thread of this process (but the caller) and of every process it started
/// sleeps and stays asleep (see [`within_unless_stuck`]), or `limit` passes.
/// A channel whose senders are all gone is [`Waited::Closed`] at once.
pub fn recv_unless_stuck<T>(rx: &mpsc::Receiver<T>, limit: Duration) -> Waited<T> {
    let started = std::time::Instant::now();
    let children = || Some(crate::settle::descendants());
    let mut stillness = crate::settle::Stillness::new(&children);
    loop {
        let Some(left) = limit.checked_sub(started.elapsed()) else {
            return Waited::TimedOut(limit);
        };
        // The pause paces the readings; it proves nothing by itself.
        match rx.recv_timeout(left.min(Duration::from_millis(5))) {
            Ok(value) => return Waited::Returned(value),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Waited::Closed,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if stillness
            .still_for()
            .is_some_and(|still| still >= STUCK_HOLD)
        {
            // A thread that sends is not asleep: had anything been sent,
            // it is here by now.
            return match rx.try_recv() {
                Ok(value) => Waited::Returned(value),
                Err(mpsc::TryRecvError::Empty) => Waited::Stuck,
                Err(mpsc::TryRecvError::Disconnected) => Waited::Closed,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_latch_wakes_its_waiter_and_says_the_count_was_not_reached() {
        let latch = std::sync::Arc::new(Latch::new(2));
        latch.count_down();
        let (tx, woken) = mpsc::channel();
        {
            let latch = latch.clone();
            // Only `abandon` can end this wait within the test's bound.
            std::thread::spawn(move || tx.send(latch.wait(Duration::from_secs(3600))));
        }
        latch.abandon();
        // The bound only turns a waiter that was never woken into a failure.
        let reached = woken.recv_timeout(Duration::from_secs(60));
        assert_eq!(reached, Ok(false), "the waiter was not woken with `false`");
        assert!(latch.abandoned());
        assert_eq!(latch.remaining(), 1);
        assert!(
            !latch.wait(Duration::from_secs(3600)),
            "later waits end at once too"
        );
    }

    #[test]
    fn a_latch_that_reached_zero_stays_reached_when_abandoned() {
        let latch = Latch::new(1);
        latch.count_down();
        latch.abandon();
        assert!(latch.wait(Duration::ZERO));
    }
}
