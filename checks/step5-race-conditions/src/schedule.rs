//! The schedule that went wrong, for the check's trace (see
//! `check_harness::trace`).
//!
//! loom reports what it does through `tracing`: an event when it switches
//! to another thread ("THREAD 2") and one per operation on an atomic
//! ("Atomic::load", "Atomic::store", "Atomic::rmw" for a read-modify-write
//! such as `fetch_add` or a compare-exchange). [`Watcher`] listens while the
//! check explores ([`watching`]) and keeps the current schedule's steps, from
//! the start of each schedule ("iter") on; the check copies them out when a
//! schedule ends wrong ([`steps`]) and [`draw`]s one: a lane per thread, one
//! box per step, in the order loom ran them. It prefers a wrong schedule
//! whose threads take turns ([`interleaved`]): under loom a `Relaxed` load
//! may also read an old value after the other thread's store, which is
//! true, but a picture of it shows no overlap at all.
//!
//! Recording only: loom's choices do not depend on who listens, and nothing
//! here is read back to decide a verdict.

use std::sync::Mutex;

use check_harness::trace::{self, LaneKind, Tone};
use tracing::field::{Field, Visit};
use tracing::{span, Event, Metadata, Subscriber};

/// One step of a schedule: which loom thread did what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// loom's thread number: 0 is the scenario's own (the check's) thread.
    pub thread: usize,
    pub what: &'static str,
}

struct Schedule {
    /// The thread running now.
    thread: usize,
    steps: Vec<Step>,
}

static CURRENT: Mutex<Schedule> = Mutex::new(Schedule {
    thread: 0,
    steps: Vec::new(),
});

fn current() -> std::sync::MutexGuard<'static, Schedule> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The steps of the schedule running now.
pub fn steps() -> Vec<Step> {
    current().steps.clone()
}

/// Whether the schedule running now is [`interleaved`].
pub fn now_interleaved() -> bool {
    interleaved(&current().steps)
}

/// Runs `explore` with loom's events recorded (nothing when tracing is off).
pub fn watching<T>(explore: impl FnOnce() -> T) -> T {
    if !trace::enabled() {
        return explore();
    }
    tracing::subscriber::with_default(Watcher, explore)
}

/// Listens to loom's `tracing` events.
struct Watcher;

/// The message of an event (its formatted text).
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// What a loom event's message says this step did.
fn step_of(message: &str) -> Option<&'static str> {
    match message {
        "Atomic::load" => Some("load"),
        "Atomic::store" => Some("store"),
        "Atomic::rmw" => Some("read-modify-write"),
        _ => None,
    }
}

/// "~~~~~~~~ THREAD 2 ~~~~~~~~": the thread loom switched to.
fn switched_to(message: &str) -> Option<usize> {
    message
        .trim_matches(|c| c == '~' || c == ' ')
        .strip_prefix("THREAD ")?
        .trim()
        .parse()
        .ok()
}

impl Subscriber for Watcher {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // The schedules' spans, the thread switches and the atomics: loom's
        // other events (allocations, Arc counts, locks' bookkeeping) are
        // neither formatted nor kept.
        matches!(
            metadata.target(),
            "loom::model" | "loom::rt::execution" | "loom::rt::atomic"
        )
    }

    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        // A new schedule begins.
        if attrs.metadata().name() == "iter" {
            let mut s = current();
            s.thread = 0;
            s.steps.clear();
        }
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = Message::default();
        event.record(&mut message);
        let mut s = current();
        if let Some(thread) = switched_to(&message.0) {
            s.thread = thread;
        } else if let Some(what) = step_of(&message.0) {
            let thread = s.thread;
            s.steps.push(Step { thread, what });
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Whether the spawned threads' steps take turns (thread 1, then 2, then
/// 1 again): a schedule where one thread's steps come between another's.
pub fn interleaved(steps: &[Step]) -> bool {
    let mut order: Vec<usize> = steps.iter().map(|s| s.thread).filter(|&t| t != 0).collect();
    order.dedup();
    let mut seen = order.clone();
    seen.sort_unstable();
    seen.dedup();
    order.len() > seen.len()
}

/// How far apart the steps are drawn (µs on the trace's clock).
const STEP_US: u64 = 1000;

/// Draws `steps`, a schedule that ended with `verdict` (a fault: the check
/// fails on it, and the picture explains why).
pub fn draw(setting: &str, steps: &[Step], verdict: &str, tone: Tone) {
    trace::clock_is("the order of the steps of one schedule loom tried (the first that went wrong, if one did), 1 ms per step, not real time");
    let check = trace::lane("check", LaneKind::Check);
    let end = steps.len() as u64 * STEP_US;
    trace::span_at(check, setting, 0, end, Tone::Plain);
    for (i, step) in steps.iter().enumerate() {
        let name = match step.thread {
            0 => "the check's thread".to_string(),
            n => format!("thread {n}"),
        };
        let lane = trace::lane(&name, LaneKind::Thread);
        let at = i as u64 * STEP_US;
        trace::span_at(lane, step.what, at, at + STEP_US * 9 / 10, Tone::Plain);
    }
    trace::instant_at(check, end, verdict, tone);
    if tone == Tone::Fault {
        trace::explains_failure(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_looms_words() {
        assert_eq!(switched_to("~~~~~~~~ THREAD 2 ~~~~~~~~"), Some(2));
        assert_eq!(switched_to("Atomic::load"), None);
        assert_eq!(step_of("Atomic::rmw"), Some("read-modify-write"));
        assert_eq!(step_of("Arc::ref_inc"), None);
    }

    #[test]
    fn a_schedule_is_interleaved_when_threads_take_turns() {
        let steps = |threads: &[usize]| -> Vec<Step> {
            threads
                .iter()
                .map(|&thread| Step {
                    thread,
                    what: "load",
                })
                .collect()
        };
        assert!(interleaved(&steps(&[1, 2, 1, 2, 0])));
        assert!(!interleaved(&steps(&[1, 1, 2, 2, 0])));
        assert!(!interleaved(&steps(&[0, 2, 2, 1, 1, 0])));
    }
}
