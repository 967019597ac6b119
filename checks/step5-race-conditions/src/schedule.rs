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

use std::backtrace::Backtrace;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use check_harness::trace::{self, LaneKind, Tone};
use tracing::field::{Field, Visit};
use tracing::{span, Event, Metadata, Subscriber};

/// One step of a schedule: which loom thread did what, and where.
#[derive(Debug, Clone)]
pub struct Step {
    /// loom's thread number: 0 is the scenario's own (the check's) thread.
    pub thread: usize,
    pub what: &'static str,
    /// The stack when loom reported the step, read only for the schedule
    /// drawn ([`line_of`]): loom's events do not carry the caller's
    /// location, the stack does.
    pub stack: Option<Arc<Backtrace>>,
}

struct Schedule {
    /// The thread running now.
    thread: usize,
    steps: Vec<Step>,
    /// The Mutexes made so far: loom's name of each ("Ref<…>(3)") and the
    /// stack that made it.
    mutexes: Vec<(String, Arc<Backtrace>)>,
    /// The Mutex each thread asked for last, by loom's name: in a deadlock,
    /// the one it waits for.
    asked: Vec<(usize, String)>,
}

static CURRENT: Mutex<Schedule> = Mutex::new(Schedule {
    thread: 0,
    steps: Vec::new(),
    mutexes: Vec::new(),
    asked: Vec::new(),
});

/// Whether the steps of the schedules still to come need their stacks:
/// false once the schedule to draw is one no later schedule can replace
/// ([`drawn_for_good`]). Walking the stack at every atomic operation was
/// most of an exploration's time (an untouched exercise's both-directions:
/// 13 858 schedules, 4 s).
static STEP_STACKS: AtomicBool = AtomicBool::new(true);

/// The schedule to draw is chosen for good: later steps go without their
/// stacks (a Mutex's still has one, for a deadlock's message).
pub fn drawn_for_good() {
    STEP_STACKS.store(false, Ordering::Relaxed);
}

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
    STEP_STACKS.store(true, Ordering::Relaxed);
    tracing::subscriber::with_default(Watcher, explore)
}

/// Listens to loom's `tracing` events.
struct Watcher;

/// The message of an event (its formatted text), and the loom object it
/// is about (its `obj` or `state` field), if any.
#[derive(Default)]
struct Message(String, String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.0 = format!("{value:?}"),
            "obj" | "state" => self.1 = format!("{value:?}"),
            _ => {}
        }
    }
}

/// Where the Mutex that loom's thread `thread` waits for in the schedule
/// running now was made: "the Mutex made at line 88", or which one it is
/// ("the 2nd Mutex made") where the line is not known. `None` when the
/// thread asked for no Mutex (it waits in `join`) or tracing is off.
pub fn mutex_waited_for(thread: usize) -> Option<String> {
    let s = current();
    let (_, name) = s.asked.iter().find(|(t, _)| *t == thread)?;
    let index = s.mutexes.iter().position(|(n, _)| n == name)?;
    let places: Vec<Option<String>> = s.mutexes.iter().map(|(_, made)| line_of(made)).collect();
    let Some(place) = &places[index] else {
        return Some(format!("the Mutex made {}", ordinal(index + 1)));
    };
    let at = match place.strip_prefix("src/lib.rs:") {
        Some(line) => format!("at line {line}"),
        None => format!("at {place}"),
    };
    // Several made on one line (`[Mutex::new(a), Mutex::new(b)]`): which.
    let same: Vec<usize> = (0..places.len())
        .filter(|&i| places[i] == places[index])
        .collect();
    Some(match same.iter().position(|&i| i == index) {
        Some(nth) if same.len() > 1 => format!(
            "the {} of the {} Mutexes made {at}",
            ordinal(nth + 1),
            same.len()
        ),
        _ => format!("the Mutex made {at}"),
    })
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
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
        // The schedules' spans, the thread switches, the atomics and the
        // Mutexes (made, asked for): loom's other events (allocations, Arc
        // counts) are neither formatted nor kept.
        matches!(
            metadata.target(),
            "loom::model"
                | "loom::rt::execution"
                | "loom::rt::atomic"
                | "loom::rt::mutex"
                | "loom::rt::object"
        )
    }

    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        // A new schedule begins.
        if attrs.metadata().name() == "iter" {
            let mut s = current();
            s.thread = 0;
            s.steps.clear();
            s.mutexes.clear();
            s.asked.clear();
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
        } else if message.0 == "Mutex::new" {
            s.mutexes.push((message.1, Arc::new(stack_now())));
        } else if message.0 == "Object::branch_acquire" {
            let thread = s.thread;
            s.asked.retain(|(t, _)| *t != thread);
            s.asked.push((thread, message.1));
        } else if let Some(what) = step_of(&message.0) {
            let thread = s.thread;
            let stack = STEP_STACKS
                .load(Ordering::Relaxed)
                .then(|| Arc::new(stack_now()));
            s.steps.push(Step {
                thread,
                what,
                stack,
            });
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

/// The stack now, for [`line_of`]. Walked on Unix only, where it is tried:
/// loom runs each model thread on a stack of its own, and whether the
/// walk is sound there on Windows is not known here; there the steps go
/// without their lines.
fn stack_now() -> Backtrace {
    if cfg!(unix) {
        Backtrace::force_capture()
    } else {
        Backtrace::disabled()
    }
}

/// The line of the exercise's code that made the step: the first frame
/// of `stack` in the exercise's crate (or the solution's), as
/// "src/lib.rs:44". `None` where the build has no line tables.
pub fn line_of(stack: &Backtrace) -> Option<String> {
    line_in(&stack.to_string())
}

/// [`line_of`] on a stack's text, as std prints it.
fn line_in(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("at "))
        .find_map(|place| {
            let place = place.replace('\\', "/");
            [
                "exercises/step5-race-conditions/",
                "solutions/step5-race-conditions/",
            ]
            .iter()
            .find_map(|dir| place.split_once(dir).map(|(_, rest)| rest.to_string()))
        })
        .map(|place| {
            // "src/lib.rs:44:19": the column is of no help here.
            match place.rsplit_once(':') {
                Some((at, col)) if col.chars().all(|c| c.is_ascii_digit()) => at.to_string(),
                _ => place,
            }
        })
}

/// How far apart the steps are drawn (µs on the trace's clock).
const STEP_US: u64 = 1000;

/// The lane of loom's thread `thread`.
fn lane_name(thread: usize) -> String {
    match thread {
        0 => "the check's thread".to_string(),
        n => format!("thread {n}"),
    }
}

/// A step in words, with its line when known: "load at line 43" (the
/// exercise is one file; another file is named: "load at src/x.rs:12").
fn step_words(step: &Step) -> String {
    match step.stack.as_deref().and_then(line_of) {
        Some(place) => match place.strip_prefix("src/lib.rs:") {
            Some(line) => format!("{} at line {line}", step.what),
            None => format!("{} at {place}", step.what),
        },
        None => step.what.to_string(),
    }
}

/// Draws `steps`, a schedule that ended with `verdict` (a fault: the check
/// fails on it, and the picture explains why): one box per step, labelled
/// with what it did and the line that did it where the box has room, and
/// under the picture each thread's steps in order with their lines.
pub fn draw(setting: &str, steps: &[Step], verdict: &str, tone: Tone) {
    trace::clock_in_steps(
        "one schedule loom tried, the first that went wrong if one did, step by step, not in real time",
        STEP_US,
    );
    let check = trace::lane("check", LaneKind::Check);
    let end = steps.len() as u64 * STEP_US;
    trace::span_at(check, setting, 0, end, Tone::Plain);
    let mut threads: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let lane = trace::lane(&lane_name(step.thread), LaneKind::Thread);
        let at = i as u64 * STEP_US;
        let words = step_words(step);
        trace::span_at(lane, &words, at, at + STEP_US * 9 / 10, Tone::Plain);
        let words = format!("step {} {words}", i + 1);
        match threads.iter_mut().find(|(t, _)| *t == step.thread) {
            Some((_, list)) => list.push(words),
            None => threads.push((step.thread, vec![words])),
        }
    }
    trace::instant_at(check, end, verdict, tone);
    // Each thread's steps with their lines, by the numbers on the axis:
    // "thread 1: step 1 load at line 43; step 4 store at line 44".
    if steps
        .iter()
        .any(|s| s.stack.as_deref().and_then(line_of).is_some())
    {
        threads.sort_by_key(|&(t, _)| (t == 0, t));
        for (thread, list) in threads {
            trace::note(format!("{}: {}", lane_name(thread), list.join("; ")));
        }
    }
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
        let nth: Vec<String> = [1, 2, 3, 4, 11, 12, 21, 22].map(ordinal).into();
        assert_eq!(
            nth,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "21st", "22nd"]
        );
    }

    #[test]
    fn a_step_is_placed_on_the_exercises_line() {
        let stack = "   4: loom::sync::atomic::int::AtomicUsize::load
             at /home/me/.cargo/registry/src/x/loom-0.7.3/src/sync/atomic/int.rs:56:17
   5: step5_race_conditions::Counter::hit
             at ./exercises/step5-race-conditions/src/lib.rs:43:29
   6: step5_race_conditions_checks::lost_update::{{closure}}
             at ./checks/step5-race-conditions/src/main.rs:300:9";
        assert_eq!(line_in(stack).as_deref(), Some("src/lib.rs:43"));
        let scratch =
            "  at C:\\course\\target\\mutants\\solutions\\step5-race-conditions\\src\\bank.rs:7:1";
        assert_eq!(line_in(scratch).as_deref(), Some("src/bank.rs:7"));
        // No line tables: nothing.
        assert_eq!(line_in("   5: step5_race_conditions::Counter::hit"), None);
    }

    #[test]
    fn a_schedule_is_interleaved_when_threads_take_turns() {
        let steps = |threads: &[usize]| -> Vec<Step> {
            threads
                .iter()
                .map(|&thread| Step {
                    thread,
                    what: "load",
                    stack: None,
                })
                .collect()
        };
        assert!(interleaved(&steps(&[1, 2, 1, 2, 0])));
        assert!(!interleaved(&steps(&[1, 1, 2, 2, 0])));
        assert!(!interleaved(&steps(&[0, 2, 2, 1, 1, 0])));
    }
}
