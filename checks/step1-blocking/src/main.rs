//! The checks of step 1, the single-thread model. Titles and hints live in
//! course.toml; run them with `cargo xtask check step1`.
//!
//! Every check drives the loop with a `ManualClock`: a handler "works" for
//! 300 ms by advancing the clock 300 ms, so every expected number is exact
//! and nothing depends on how fast or busy the machine is.
//!
//! The checks that judge a report draw it as a trace on that same clock
//! (`check_harness::trace`): each handler's run on the loop's lane, each
//! event's wait in the queue on a lane of its own, as the report says.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use check_harness::trace::{self, LaneKind, Tone};
use check_harness::{ensure, fail, human, sync::within, Check, CheckResult};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step1_blocking as subject;
#[cfg(feature = "solution")]
use step1_blocking_solution as subject;

mod signatures;

use subject::{find_blocker, EventLoop, Handled, ManualClock};

/// The loop took the newest event first: a stack, not a queue.
const NEWEST_FIRST: &str = "newest-first";

fn main() {
    check_harness::main(&[
        Check::new("fifo-order", fifo_order),
        Check::new("posted-during-run", posted_during_run),
        Check::new("queue-delay", queue_delay),
        Check::new("blame", blame),
        Check::new("empty-loop", empty_loop),
    ]);
}

const LIMIT: Duration = Duration::from_secs(5);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A shared log the handlers write to.
type Log = Rc<RefCell<Vec<String>>>;

fn names(report: &[Handled]) -> Vec<&str> {
    report.iter().map(|h| h.name.as_str()).collect()
}

/// "0 ms / 40 ms / 340 ms": arrived, started, finished.
fn times(t: [Duration; 3]) -> String {
    t.map(human::duration).join(" / ")
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Draws `report` as the grader shows it under a failure of this check:
/// the handlers' runs on the loop's lane, each event's wait on its own lane
/// (`waited` as the report's own `waited()` says), times on the ManualClock.
fn trace_report(report: &[Handled]) {
    trace::clock_is("time on the loop's ManualClock, as run() reported it");
    let lane = trace::lane("your loop", LaneKind::Loop);
    for (i, h) in report.iter().enumerate().take(7) {
        let queue = trace::lane(&format!("{} {} waits", i + 1, h.name), LaneKind::Thread);
        let waited = h.started.checked_sub(h.arrived);
        let (tone, label) = match waited {
            Some(w) => (Tone::Plain, human::duration(w)),
            None => (Tone::Fault, "started before it arrived".to_string()),
        };
        trace::span_at(queue, label, us(h.arrived), us(h.started), tone);
        let tone = if h.finished < h.started {
            Tone::Fault
        } else {
            Tone::Plain
        };
        trace::span_at(lane, h.name.clone(), us(h.started), us(h.finished), tone);
    }
    trace::explains_failure(true);
}

fn fifo_order() -> CheckResult {
    let clock = ManualClock::new();
    let mut ev = EventLoop::new(clock.clone());
    let log: Log = Rc::default();
    for (name, work) in [("a", 10), ("b", 30), ("c", 20), ("d", 0)] {
        let (log, clock) = (log.clone(), clock.clone());
        ev.post(name, move |_| {
            log.borrow_mut().push(format!("start {name}"));
            clock.advance(ms(work));
            log.borrow_mut().push(format!("end {name}"));
        });
    }
    let report = ev.run();
    trace_report(&report);
    let expected: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .flat_map(|n| [format!("start {n}"), format!("end {n}")])
        .collect();
    let newest_first: Vec<String> = ["d", "c", "b", "a"]
        .iter()
        .flat_map(|n| [format!("start {n}"), format!("end {n}")])
        .collect();
    ensure!(
        *log.borrow() != newest_first,
        cause = NEWEST_FIRST,
        "posted a, b, c, d; the handlers ran d, c, b, a: the newest event first, each time. Expected posting order: {:?}",
        expected
    );
    ensure!(
        *log.borrow() == expected,
        "posted a, b, c, d; the handlers ran like this: {:?}\nexpected each to start after the previous one ended, in posting order: {:?}",
        log.borrow(),
        expected
    );
    ensure!(
        names(&report) == ["a", "b", "c", "d"],
        "the handlers ran in order, but run() reported {:?}; it should return one Handled per event, in the order they ran",
        names(&report)
    );
    for pair in report.windows(2) {
        ensure!(
            pair[1].started >= pair[0].finished,
            "{:?} started at {}, before {:?} finished at {}: one handler at a time",
            pair[1].name,
            human::duration(pair[1].started),
            pair[0].name,
            human::duration(pair[0].finished)
        );
    }
    Ok(())
}

fn posted_during_run() -> CheckResult {
    let clock = ManualClock::new();
    let mut ev = EventLoop::new(clock.clone());
    let c = clock.clone();
    ev.post("first", move |ctx| {
        c.advance(ms(5));
        let c2 = c.clone();
        ctx.post("follow-up", move |ctx| {
            c2.advance(ms(1));
            ctx.post("follow-up-2", |_| {});
        });
        c.advance(ms(5));
    });
    ev.post("second", |_| {});
    let report = ev.run();
    trace_report(&report);
    let got = names(&report);
    ensure!(
        !got.starts_with(&["second", "first"]),
        cause = NEWEST_FIRST,
        "`first` and `second` were both queued before run(); the loop handled `second` first, the newer of the two. Expected the order [\"first\", \"second\", \"follow-up\", \"follow-up-2\"], got {got:?}"
    );
    ensure!(
        got == ["first", "second", "follow-up", "follow-up-2"],
        "`first` posts `follow-up` while `second` is already queued; `follow-up` posts `follow-up-2`.\nexpected the order [\"first\", \"second\", \"follow-up\", \"follow-up-2\"], got {got:?}"
    );
    let follow = &report[2];
    ensure!(
        follow.arrived == ms(5),
        "`follow-up` was posted 5 ms into `first`, so it arrived at 5 ms; the report says it arrived at {}. Stamp an event with the clock when it is posted.",
        human::duration(follow.arrived)
    );
    Ok(())
}

fn queue_delay() -> CheckResult {
    let clock = ManualClock::new();
    let mut ev = EventLoop::new(clock.clone());
    // t = 0: a tick and a heavy job arrive.
    ev.post("tick", |_| {});
    let c = clock.clone();
    ev.post("resize-image", move |_| c.advance(ms(300)));
    // t = 40: a click arrives while the loop has not started yet.
    clock.advance(ms(40));
    let c = clock.clone();
    ev.post("click", move |_| c.advance(ms(2)));
    let report = ev.run();
    trace_report(&report);
    ensure!(
        names(&report) != ["click", "resize-image", "tick"],
        cause = NEWEST_FIRST,
        "tick, resize-image and click were posted in that order, and the loop handled them newest first: click, resize-image, tick"
    );
    ensure!(
        names(&report) == ["tick", "resize-image", "click"],
        "expected tick, resize-image, click to be handled in that order; got {:?}",
        names(&report)
    );
    let expected = [
        ("tick", ms(0), ms(40), ms(40), ms(40)),
        ("resize-image", ms(0), ms(40), ms(340), ms(40)),
        ("click", ms(40), ms(340), ms(342), ms(300)),
    ];
    for (h, (name, arrived, started, finished, waited)) in report.iter().zip(expected) {
        let got = (h.arrived, h.started, h.finished);
        ensure!(
            got == (arrived, started, finished),
            "`{name}`: expected arrived/started/finished = {}, got {}\n(the loop started at 40 ms; `resize-image` works for 300 ms)",
            times([arrived, started, finished]),
            times([got.0, got.1, got.2])
        );
        ensure!(
            h.waited() == waited,
            "`{name}` arrived at {} and started at {}, so it waited {}; waited() says {}",
            human::duration(arrived),
            human::duration(started),
            human::duration(waited),
            human::duration(h.waited())
        );
    }
    Ok(())
}

fn handled(name: &str, arrived: u64, started: u64, finished: u64) -> Handled {
    Handled {
        name: name.to_string(),
        arrived: ms(arrived),
        started: ms(started),
        finished: ms(finished),
    }
}

fn blame() -> CheckResult {
    // `parse` (100 ms) runs while three clicks wait; `export` (500 ms, the
    // slowest) runs last with nobody waiting.
    let report = vec![
        handled("parse", 0, 0, 100),
        handled("click", 10, 100, 101),
        handled("click", 20, 101, 102),
        handled("click", 30, 102, 103),
        handled("export", 103, 103, 603),
    ];
    let blame = find_blocker(&report);
    let expected_delay = ms(90 + 80 + 70);
    match &blame {
        Some(b) if b.index == 0 && b.name == "parse" => {
            ensure!(
                b.delayed_others_by == expected_delay,
                "`parse` is the blocker; the three clicks waited 90 + 80 + 70 ms during it, but you say it delayed them by {}.\n(Only count the part of each wait that overlaps parse's run: the second click also waited 1 ms for the first click, and that is the first click's doing.)",
                human::duration(b.delayed_others_by)
            )
        }
        Some(b) if b.name == "export" => fail!(
            "you blamed `export`, the slowest handler; but nothing was waiting while it ran. `parse` ran while three clicks waited."
        ),
        other => fail!("expected `parse` (index 0) to be blamed, got {other:?}"),
    }

    // The first of two equal blockers is named.
    let tie = vec![
        handled("a", 0, 0, 50),
        handled("b", 0, 50, 100),
        handled("c", 50, 100, 100),
    ];
    let got = find_blocker(&tie).map(|b| (b.index, b.delayed_others_by));
    ensure!(
        got != Some((1, ms(50))),
        cause = "tie-to-the-later",
        "a (runs 0..50 ms) delays b by 50 ms; b (runs 50..100 ms) delays c by 50 ms: a tie. Your find_blocker named b (index 1), the later of the two; the first of equal blockers is the one to name, a (index 0) with 50 ms."
    );
    ensure!(
        got == Some((0, ms(50))),
        "a (runs 0..50 ms) delays b by 50 ms; b (runs 50..100 ms) delays c by 50 ms. Expected the first of the two, a (index 0) with 50 ms; got {got:?}"
    );

    // Nobody waited: nobody is to blame.
    let calm = vec![handled("a", 0, 0, 10), handled("b", 20, 20, 30)];
    ensure!(
        find_blocker(&calm).is_none(),
        cause = "none-when-calm",
        "a runs 0..10 ms, b arrives at 20 ms and starts at once: no event waited at all, so find_blocker should return None; got {:?}",
        find_blocker(&calm)
    );
    ensure!(
        find_blocker(&[]).is_none(),
        cause = "none-when-calm",
        "an empty report has no blocker; expected None, got {:?}",
        find_blocker(&[])
    );
    Ok(())
}

fn empty_loop() -> CheckResult {
    let Some(report) = within(LIMIT, || EventLoop::new(ManualClock::new()).run()) else {
        fail!("run() on a loop with no events did not return within {limit}: is it waiting for events that will never come?", limit = human::duration(LIMIT));
    };
    ensure!(
        report.is_empty(),
        "run() on an empty loop reported {report:?}"
    );
    // After the queue drains, run() returns; a second run() is empty again.
    let Some(counts) = within(LIMIT, || {
        let mut ev = EventLoop::new(ManualClock::new());
        ev.post("only", |_| {});
        let first = ev.run().len();
        let second = ev.run().len();
        (first, second)
    }) else {
        fail!(
            "run() did not return after the only event was handled: stop when the queue is empty"
        );
    };
    ensure!(
        counts == (1, 0),
        "one event, run() twice: expected 1 then 0 events handled, got {counts:?}"
    );
    Ok(())
}
