//! What the code under test did, and when: a small timeline a check records
//! while it runs, sent back to the grader with the outcome and drawn there
//! (under a failing check's message, and as files with `--trace`).
//!
//! A trace has lanes (the check itself, the learner's loop, a worker thread,
//! a child process, a counter such as "jobs running") and events on them: a
//! span (job 3 ran from here to there), an instant (Ping 2 answered, child 4
//! killed) and counter values. Times are microseconds on this process's
//! monotonic clock, counted from the start of the check.
//!
//! Recording is for showing only: no check may read the trace back to decide
//! anything, so it cannot change a verdict. It costs a lock and a push per
//! event; set `COURSE_NO_TRACE=1` to record nothing (to measure that cost).

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A recorded timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub lanes: Vec<LaneInfo>,
    pub events: Vec<Event>,
    /// When the trace was taken (the check's end), in µs.
    pub end_us: u64,
    /// The check said this trace shows why it failed: the grader draws it
    /// under the failure message.
    #[serde(default)]
    pub explains_failure: bool,
    /// Events not kept because the trace was full.
    #[serde(default)]
    pub dropped: u64,
    /// What the times count, when not the check's own clock from its start
    /// (step 1's loops run on a clock the check moves by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// When the times count steps rather than time (step 5's schedules):
    /// how many µs of the trace are one step. The axis then reads in steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_us: Option<u64>,
    /// Lines shown under the picture: what the boxes stand for where their
    /// labels would not fit (step 5: each thread's steps with their lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One lane of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneInfo {
    pub name: String,
    pub kind: LaneKind,
    /// For a counter: the most it may show; more is drawn as a fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// What a lane stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneKind {
    /// The check's own thread: what it sent, what it saw, when it gave up.
    Check,
    /// The learner's event loop.
    Loop,
    /// A thread (a worker, a job's thread).
    Thread,
    /// A child process.
    Process,
    /// A number that changes over time (jobs running, bytes in a pipe).
    Counter,
}

/// How an event reads: most are plain; a fault is what the check failed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Fault,
}

/// One event on a lane, at `at_us`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub lane: u32,
    pub at_us: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventKind {
    /// Something that lasted from `at_us` to `end_us`; no end: it was still
    /// going when the trace was taken.
    Span {
        label: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_us: Option<u64>,
        #[serde(default)]
        tone: Tone,
    },
    /// Something that happened at one moment.
    Instant {
        label: String,
        #[serde(default)]
        tone: Tone,
    },
    /// The counter lane's value from now on.
    Counter { value: u64 },
}

impl Trace {
    /// The time of the last thing that happened, a span's end included
    /// (the trace's end if nothing did).
    pub fn last_event_us(&self) -> u64 {
        let latest = self.events.iter().map(|e| match e.kind {
            EventKind::Span {
                end_us: Some(end), ..
            } => end.max(e.at_us),
            _ => e.at_us,
        });
        latest.max().unwrap_or(self.end_us)
    }
}

/// A lane of the trace being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lane(u32);

/// A span being recorded: [`end`] it, or drop the guard from [`span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanId(Option<usize>);

/// The most events one trace keeps (a few hundred KiB of JSON).
const MAX_EVENTS: usize = 20_000;

struct Recorder {
    trace: Trace,
}

static RECORDER: Mutex<Recorder> = Mutex::new(Recorder {
    trace: Trace {
        lanes: Vec::new(),
        events: Vec::new(),
        end_us: 0,
        explains_failure: false,
        dropped: 0,
        clock: None,
        step_us: None,
        notes: Vec::new(),
    },
});

static START: OnceLock<Instant> = OnceLock::new();
static ENABLED: OnceLock<bool> = OnceLock::new();

fn recorder() -> MutexGuard<'static, Recorder> {
    RECORDER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this process records (`COURSE_NO_TRACE` unset or empty): a
/// check may skip work done only for the picture.
pub fn enabled() -> bool {
    *ENABLED.get_or_init(|| std::env::var_os("COURSE_NO_TRACE").is_none_or(|v| v.is_empty()))
}

/// Sets time zero: the harness calls it just before a check runs. Without
/// it, time zero is the first event.
pub fn start_clock() {
    START.get_or_init(Instant::now);
}

/// Microseconds since time zero.
pub fn now_us() -> u64 {
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The lane called `name` (made on first use, as a lane of `kind`).
pub fn lane(name: &str, kind: LaneKind) -> Lane {
    let mut r = recorder();
    let lanes = &mut r.trace.lanes;
    let index = match lanes.iter().position(|l| l.name == name) {
        Some(i) => i,
        None => {
            lanes.push(LaneInfo {
                name: name.to_string(),
                kind,
                limit: None,
            });
            lanes.len() - 1
        }
    };
    Lane(u32::try_from(index).unwrap_or(u32::MAX))
}

/// A counter lane called `name` whose values above `limit` are faults.
pub fn counter_lane(name: &str, limit: Option<u64>) -> Lane {
    let lane = lane(name, LaneKind::Counter);
    if let Some(info) = recorder().trace.lanes.get_mut(lane.0 as usize) {
        info.limit = limit;
    }
    lane
}

fn push(lane: Lane, at_us: u64, kind: EventKind) -> Option<usize> {
    if !enabled() {
        return None;
    }
    let mut r = recorder();
    if r.trace.events.len() >= MAX_EVENTS {
        r.trace.dropped += 1;
        return None;
    }
    r.trace.events.push(Event {
        lane: lane.0,
        at_us,
        kind,
    });
    Some(r.trace.events.len() - 1)
}

/// Something that happened now on `lane`.
pub fn instant(lane: Lane, label: impl Into<String>) {
    instant_toned(lane, label, Tone::Plain);
}

/// [`instant`] with a tone: [`Tone::Fault`] for what the check failed on.
pub fn instant_toned(lane: Lane, label: impl Into<String>, tone: Tone) {
    push(
        lane,
        now_us(),
        EventKind::Instant {
            label: label.into(),
            tone,
        },
    );
}

/// Starts a span on `lane` now; [`end`] ends it.
pub fn begin(lane: Lane, label: impl Into<String>) -> SpanId {
    begin_toned(lane, label, Tone::Plain)
}

/// [`begin`] with a tone.
pub fn begin_toned(lane: Lane, label: impl Into<String>, tone: Tone) -> SpanId {
    SpanId(push(
        lane,
        now_us(),
        EventKind::Span {
            label: label.into(),
            end_us: None,
            tone,
        },
    ))
}

/// Ends a span now (once; later calls change nothing).
pub fn end(span: SpanId) {
    let Some(index) = span.0 else { return };
    let now = now_us();
    if let Some(Event {
        kind: EventKind::Span { end_us, .. },
        ..
    }) = recorder().trace.events.get_mut(index)
    {
        end_us.get_or_insert(now);
    }
}

/// A span from `start_us` to `end_us` on a clock of the check's choosing
/// (see [`clock_is`]): for a timeline the check knows, not one it watches.
pub fn span_at(lane: Lane, label: impl Into<String>, start_us: u64, end_us: u64, tone: Tone) {
    push(
        lane,
        start_us,
        EventKind::Span {
            label: label.into(),
            end_us: Some(end_us.max(start_us)),
            tone,
        },
    );
}

/// Something that happened at `at_us` on `lane`, a time the check knows
/// rather than now (another process's stamp, moved onto this clock).
pub fn instant_at(lane: Lane, at_us: u64, label: impl Into<String>, tone: Tone) {
    push(
        lane,
        at_us,
        EventKind::Instant {
            label: label.into(),
            tone,
        },
    );
}

/// Says what the trace's times count, when the check records them with
/// [`span_at`] from a clock of its own rather than the check's real time.
pub fn clock_is(what: impl Into<String>) {
    recorder().trace.clock = Some(what.into());
}

/// Says that the trace's times count steps, `step_us` µs each, not time:
/// `what` says whose steps ("one schedule loom tried"), and the chart's
/// axis reads "step 1, 2, 3".
pub fn clock_in_steps(what: impl Into<String>, step_us: u64) {
    let mut r = recorder();
    r.trace.clock = Some(what.into());
    r.trace.step_us = Some(step_us.max(1));
}

/// A line to show under the trace's picture (see [`Trace::notes`]).
pub fn note(text: impl Into<String>) {
    recorder().trace.notes.push(text.into());
}

/// A span that ends when the guard is dropped (a panic included).
pub fn span(lane: Lane, label: impl Into<String>) -> SpanGuard {
    SpanGuard(begin(lane, label))
}

/// Ends its span when dropped.
#[derive(Debug)]
pub struct SpanGuard(SpanId);

impl Drop for SpanGuard {
    fn drop(&mut self) {
        end(self.0);
    }
}

/// The counter `lane` holds `value` from now on.
pub fn count(lane: Lane, value: u64) {
    push(lane, now_us(), EventKind::Counter { value });
}

/// Whether the trace shows why the check fails: say so where the check
/// is about to fail on something the timeline makes visible.
pub fn explains_failure(yes: bool) {
    recorder().trace.explains_failure = yes;
}

/// Whether anything was recorded so far.
pub fn recorded() -> bool {
    !recorder().trace.events.is_empty()
}

/// The trace so far, ended now; `None` if nothing was recorded.
pub fn take() -> Option<Trace> {
    let end = now_us();
    let mut r = recorder();
    if r.trace.events.is_empty() {
        return None;
    }
    let mut trace = std::mem::take(&mut r.trace);
    if trace.clock.is_none() {
        trace.end_us = end;
    }
    Some(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the recorder is global to the process.
    #[test]
    fn records_lanes_spans_instants_and_counters() {
        start_clock();
        let check = lane("check", LaneKind::Check);
        assert_eq!(lane("check", LaneKind::Check), check);
        let worker = lane("worker 1", LaneKind::Thread);
        let running = counter_lane("running", Some(3));
        instant(check, "sent job 1");
        let job = begin(worker, "job 1");
        count(running, 1);
        {
            let _inner = span(worker, "inner");
        }
        end(job);
        end(job);
        let open = begin(worker, "job 2");
        instant_toned(check, "gave up", Tone::Fault);
        explains_failure(true);
        let trace = take().expect("events were recorded");
        let _ = open;
        assert!(trace.explains_failure);
        assert_eq!(
            trace
                .lanes
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>(),
            ["check", "worker 1", "running"]
        );
        assert_eq!(trace.lanes[2].limit, Some(3));
        assert_eq!(trace.events.len(), 6);
        let ends: Vec<Option<u64>> = trace
            .events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Span { end_us, .. } => Some(end_us),
                _ => None,
            })
            .collect();
        assert!(ends[0].is_some() && ends[1].is_some() && ends[2].is_none());
        // Times never go back, and the trace ends after its last event.
        let times: Vec<u64> = trace.events.iter().map(|e| e.at_us).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(trace.end_us >= *times.last().unwrap());
        // Taken: the next trace starts empty.
        assert_eq!(take(), None);
        // It travels as JSON and comes back the same.
        let json = serde_json::to_string(&trace).unwrap();
        assert_eq!(serde_json::from_str::<Trace>(&json).unwrap(), trace);

        // A timeline on a clock of the check's own keeps its times.
        clock_is("model time");
        span_at(worker, "ran", 40_000, 340_000, Tone::Plain);
        span_at(worker, "backwards", 9, 3, Tone::Fault);
        instant_at(worker, 20, "heard of", Tone::Plain);
        let model = take().expect("events were recorded");
        assert_eq!(model.clock.as_deref(), Some("model time"));
        assert_eq!(model.step_us, None);
        assert_eq!(model.end_us, 0);
        assert_eq!(model.last_event_us(), 340_000);
        assert!(matches!(
            model.events[1].kind,
            EventKind::Span {
                end_us: Some(9),
                ..
            }
        ));
        assert_eq!(model.events[2].at_us, 20);

        // A clock of steps says how long a step is, and travels.
        clock_in_steps("one schedule", 1000);
        span_at(worker, "load", 0, 900, Tone::Plain);
        note("worker 1: load at line 43");
        let steps = take().expect("events were recorded");
        assert_eq!(steps.step_us, Some(1000));
        assert_eq!(steps.notes, ["worker 1: load at line 43"]);
        let json = serde_json::to_string(&steps).unwrap();
        assert!(json.contains("\"step_us\":1000"), "{json}");
        assert_eq!(serde_json::from_str::<Trace>(&json).unwrap(), steps);
    }
}
