//! A check that runs out of time still shows what it did (Unix).
//!
//! The grader gives each check a time limit and kills the check's process
//! group when it passes ([`crate::runner::run_check`]). The timeline the
//! check had recorded by then (see [`crate::trace`]) lives in that process
//! and would die with it. So, on Unix, the grader first asks for it: it
//! sends the check's process `SIGUSR1`, and a thread the harness keeps
//! asleep for this ([`arm`]) writes the timeline so far as the sealed result
//! and ends the process at once. The grader waits for that at most
//! [`ANSWER_WITHIN`] (a bound against a process that cannot answer, never a
//! verdict: the verdict is the timeout either way), takes only the trace from
//! what was written, and kills the group as before.
//!
//! The thread sleeps in a read until the signal comes, so it never looks
//! busy to [`crate::settle`]. Elsewhere there is no signal to ask with, and a
//! timed-out check shows no chart.

use std::time::Duration;

/// How long the grader waits for a timed-out check to hand over its trace.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(1);

#[cfg(unix)]
pub use platform::{arm, ask};

#[cfg(unix)]
mod platform {
    use std::process::Child;

    use signal_hook::iterator::Signals;
    use wait_timeout::ChildExt;

    use crate::trace::{self, LaneKind, Tone};

    /// The signal the grader asks with.
    pub const SIGNAL: i32 = signal_hook::consts::SIGUSR1;

    /// Check side, before the check runs: on [`SIGNAL`], `hand_over` is
    /// called with the timeline so far marked as what explains the failure
    /// (when anything was recorded), and the process ends without running
    /// exit handlers (a check's worker role may linger in one).
    pub fn arm(hand_over: fn()) {
        let Ok(mut signals) = Signals::new([SIGNAL]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("time-limit".into())
            .spawn(move || {
                if signals.forever().next().is_some() {
                    if trace::recorded() {
                        let check = trace::lane("check", LaneKind::Check);
                        trace::instant_toned(check, "out of time", Tone::Fault);
                        trace::explains_failure(true);
                        hand_over();
                    }
                    // SAFETY: _exit ends the process and runs nothing else.
                    unsafe { libc::_exit(0) }
                }
            });
    }

    /// Grader side, when `child` is out of time: asks it for its trace and
    /// gives it [`super::ANSWER_WITHIN`] to write it and end.
    pub fn ask(child: &mut Child) {
        let Ok(pid) = i32::try_from(child.id()) else {
            return;
        };
        // SAFETY: kill only sends a signal; `child` has not been waited for,
        // so `pid` is still this child's.
        if unsafe { libc::kill(pid, SIGNAL) } == 0 {
            let _ = child.wait_timeout(super::ANSWER_WITHIN);
        }
    }
}

/// Elsewhere: nothing to arm.
#[cfg(not(unix))]
pub fn arm(_hand_over: fn()) {}

/// Elsewhere: nothing to ask with.
#[cfg(not(unix))]
pub fn ask(_child: &mut std::process::Child) {}
