//! Step 1, the single-thread model: *single-thread blocking*.
//!
//! Read the chapter first: book/src/step1-blocking.md
//! (or `cargo xtask book --open`, then "1. The single-thread model").
//!
//! You are building the smallest possible event loop, the model Node.js runs
//! your JavaScript on: one queue of events, one thread, one handler at a time.
//! Then you measure what that model costs: how long each event waited in the
//! queue, and which handler made the others wait.
//!
//! Replace every `todo!()` below. Next to each one: what it must do, and the
//! chapter section that explains the idea.
//! Check your work with:
//!
//! ```text
//! cargo xtask check step1
//! ```
//!
//! Stuck? `cargo xtask hint step1` gives hints one level at a time; the
//! chapter's exercise section has a walk-through behind a "Stuck?" block.

// Delete this line once you start: the compiler's warnings will help you.
#![allow(unused_variables, dead_code)]

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Where the loop reads the time, as a duration since some fixed start
/// (given). The loop never reads the wall clock itself, only its `Clock`: a
/// `ManualClock` makes every time it records exact, on any machine.
pub trait Clock {
    fn now(&self) -> Duration;
}

/// The real clock: time since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A clock that moves only when told to. A handler that "does 300 ms of CPU
/// work" calls `advance(300 ms)`.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Rc<Cell<Duration>>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
}

/// An event's handler. It runs once, to completion, and may post more events.
pub type Handler = Box<dyn FnOnce(&mut Context<'_>)>;

/// An event waiting in the queue (given).
struct Queued {
    name: String,
    arrived: Duration,
    handler: Handler,
}

/// What the loop records about each event it handled (given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub name: String,
    /// When the event was posted.
    pub arrived: Duration,
    /// When its handler started.
    pub started: Duration,
    /// When its handler returned.
    pub finished: Duration,
}

impl Handled {
    /// How long the event sat in the queue before its handler started.
    pub fn waited(&self) -> Duration {
        // TODO. Chapter: "Waiting time, and who caused it".
        todo!("Handled::waited")
    }

    /// How long its handler ran (given).
    pub fn ran(&self) -> Duration {
        self.finished - self.started
    }
}

/// A single-threaded event loop: one queue, one handler at a time.
pub struct EventLoop<C: Clock> {
    clock: C,
    queue: VecDeque<Queued>,
}

/// What a running handler can do: post more events to its loop.
pub struct Context<'a> {
    queue: &'a mut VecDeque<Queued>,
    clock: &'a dyn Clock,
}

impl<C: Clock> EventLoop<C> {
    pub fn new(clock: C) -> EventLoop<C> {
        EventLoop {
            clock,
            queue: VecDeque::new(),
        }
    }

    /// Adds an event to the back of the queue, stamped with its arrival time
    /// (given: it uses your `enqueue`).
    pub fn post(&mut self, name: &str, handler: impl FnOnce(&mut Context<'_>) + 'static) {
        enqueue(&mut self.queue, &self.clock, name, Box::new(handler));
    }

    /// Handles events in arrival order until the queue is empty, and returns
    /// what happened to each of them, in the order they were handled.
    pub fn run(&mut self) -> Vec<Handled> {
        // TODO. One handler at a time, each run to completion; an event a
        // handler posts joins the back of the queue and is handled in this
        // same call. Time comes only from `self.clock`. Chapter: "The concept".
        todo!("EventLoop::run")
    }
}

impl Context<'_> {
    /// Posts an event from inside a handler (given: it uses your `enqueue`).
    pub fn post(&mut self, name: &str, handler: impl FnOnce(&mut Context<'_>) + 'static) {
        enqueue(self.queue, self.clock, name, Box::new(handler));
    }
}

/// Puts an event at the back of `queue`, stamped with the clock's time now.
fn enqueue(queue: &mut VecDeque<Queued>, clock: &dyn Clock, name: &str, handler: Handler) {
    // TODO. An event arrives when it is posted, by the loop's clock, also
    // when a handler posts it. Chapter: "The concept".
    todo!("enqueue")
}

/// The handler that held up the rest of the loop the most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blame {
    /// Its position in the report.
    pub index: usize,
    pub name: String,
    /// The waiting it caused, added up over every event that waited for it.
    pub delayed_others_by: Duration,
}

/// Finds the handler that caused the most waiting, or `None` when no
/// handler caused any (no event waited while another one's handler ran).
///
/// The rule: each event waits from `arrived` to `started`, and the part of
/// that wait during which another handler ran (`started..finished`) is
/// waiting that handler caused. A handler's blame is all the waiting it
/// caused, over every event; the blocker is the handler with the most (the
/// earlier one, when two cause the same). The slowest handler is not always
/// the culprit: a slow handler that runs while nobody waits delays no one.
pub fn find_blocker(report: &[Handled]) -> Option<Blame> {
    // TODO. Chapter: "Waiting time, and who caused it", and "A worked
    // example of the blame rule" for the arithmetic.
    todo!("find_blocker")
}
