//! Step 1, the single-thread model: reference solution.
//! Chapter: book/src/step1-blocking.md

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Where the loop reads the time, as a duration since some fixed start.
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
/// work" calls `advance(300 ms)`: the results are exact on any machine.
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

/// An event waiting in the queue.
struct Queued {
    name: String,
    arrived: Duration,
    handler: Handler,
}

/// What the loop records about each event it handled.
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
        self.started - self.arrived
    }

    /// How long its handler ran.
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

    /// Adds an event to the back of the queue, stamped with its arrival time.
    pub fn post(&mut self, name: &str, handler: impl FnOnce(&mut Context<'_>) + 'static) {
        enqueue(&mut self.queue, &self.clock, name, Box::new(handler));
    }

    /// Handles events in arrival order until the queue is empty, and returns
    /// what happened to each of them, in the order they were handled.
    pub fn run(&mut self) -> Vec<Handled> {
        let mut handled = Vec::new();
        while let Some(event) = self.queue.pop_front() {
            let started = self.clock.now();
            let mut context = Context {
                queue: &mut self.queue,
                clock: &self.clock,
            };
            (event.handler)(&mut context);
            handled.push(Handled {
                name: event.name,
                arrived: event.arrived,
                started,
                finished: self.clock.now(),
            });
        }
        handled
    }
}

impl Context<'_> {
    /// Posts an event from inside a handler: it waits behind everything
    /// already queued.
    pub fn post(&mut self, name: &str, handler: impl FnOnce(&mut Context<'_>) + 'static) {
        enqueue(self.queue, self.clock, name, Box::new(handler));
    }
}

fn enqueue(queue: &mut VecDeque<Queued>, clock: &dyn Clock, name: &str, handler: Handler) {
    queue.push_back(Queued {
        name: name.to_string(),
        arrived: clock.now(),
        handler,
    });
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
/// An event waits from `arrived` to `started`; during that time other
/// handlers run. The part of an event's wait that overlaps handler H's run is
/// waiting that H caused.
pub fn find_blocker(report: &[Handled]) -> Option<Blame> {
    let mut worst: Option<Blame> = None;
    for (index, blocker) in report.iter().enumerate() {
        let caused: Duration = report
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, waiter)| {
                let from = waiter.arrived.max(blocker.started);
                let to = waiter.started.min(blocker.finished);
                to.saturating_sub(from)
            })
            .sum();
        let better = match &worst {
            None => !caused.is_zero(),
            Some(w) => caused > w.delayed_others_by,
        };
        if better {
            worst = Some(Blame {
                index,
                name: blocker.name.clone(),
                delayed_others_by: caused,
            });
        }
    }
    worst
}
