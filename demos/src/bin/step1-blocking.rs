//! Step 1 demo: one thread, one queue. A timer should tick every 50 ms; one
//! CPU-heavy handler makes the ticks due while it runs late. The conclusion
//! it prints is worked out from what it measured: a handler fast enough to
//! finish before the next tick (a release build may be) delays nothing, and
//! the demo says so.
//!
//! Run it with: cargo run -p demos --bin step1-blocking

use std::collections::VecDeque;
use std::time::{Duration, Instant};

// ANCHOR: event-loop
/// An event: its name, when it is due, and what to do.
struct Event {
    name: String,
    due: Duration,
    work: fn() -> u64,
}

/// What happened to one event.
struct Record {
    name: String,
    due: Duration,
    started: Duration,
    ran: Duration,
}

/// Runs events one at a time, in the order they are due, prints how late
/// each one started, and returns what happened to each.
fn run_loop(mut queue: VecDeque<Event>) -> Vec<Record> {
    let mut records = Vec::new();
    let start = Instant::now();
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>8}",
        "event", "due", "started", "late by", "ran"
    );
    while let Some(event) = queue.pop_front() {
        // Idle until the event is due (a real loop would wait in the OS).
        if let Some(idle) = event.due.checked_sub(start.elapsed()) {
            std::thread::sleep(idle);
        }
        let started = start.elapsed();
        let result = (event.work)();
        let ran = start.elapsed() - started;
        std::hint::black_box(result);
        println!(
            "{:<14} {:>5} ms {:>6} ms {:>6} ms {:>5} ms",
            event.name,
            event.due.as_millis(),
            started.as_millis(),
            started.saturating_sub(event.due).as_millis(),
            ran.as_millis()
        );
        records.push(Record {
            name: event.name,
            due: event.due,
            started,
            ran,
        });
    }
    records
}
// ANCHOR_END: event-loop

// ANCHOR: handlers
/// A tick of a 50 ms timer: almost no work.
fn tick() -> u64 {
    1
}

/// A CPU-heavy handler: counts the primes below 300 000 by trial division.
fn count_primes() -> u64 {
    (2..300_000u64)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}
// ANCHOR_END: handlers

fn main() {
    // Ticks every 50 ms, and the heavy handler due at 60 ms, in due order.
    let mut events: Vec<Event> = (0..8u64)
        .map(|i| Event {
            name: format!("tick #{i}"),
            due: Duration::from_millis(50 * i),
            work: tick,
        })
        .collect();
    events.push(Event {
        name: "count-primes".into(),
        due: Duration::from_millis(60),
        work: count_primes,
    });
    events.sort_by_key(|e| e.due);
    let records = run_loop(events.into());
    println!("\n{}", conclusion(&records));
}

/// Below this, an event counts as on time: sleeping until a due time is
/// itself a little late on any OS.
const ON_TIME: Duration = Duration::from_millis(2);

/// What the run showed, worked out from the records (nothing is assumed).
fn conclusion(records: &[Record]) -> String {
    let Some(heavy) = records.iter().max_by_key(|r| r.ran) else {
        return "No events ran.".into();
    };
    let heavy_end = heavy.started + heavy.ran;
    let late: Vec<&Record> = records
        .iter()
        .filter(|r| r.started.saturating_sub(r.due) > ON_TIME)
        .collect();
    demos::figure_ms("heavy.ran_ms", heavy.ran);
    demos::figure_ms("heavy.done_at_ms", heavy_end);
    demos::figure("late_events", late.len() as f64);
    let ms = |d: Duration| d.as_millis();
    let Some(worst) = late.iter().max_by_key(|r| r.started - r.due) else {
        let next = records.iter().map(|r| r.due).find(|&due| due > heavy.due);
        return match next {
            Some(next) => format!(
                "Nothing was late: {} ran for {} ms and was done at {} ms,\n\
                 before the next event was due ({} ms). With no one waiting, even\n\
                 the slowest handler delays nobody. Give it more work (or run a\n\
                 debug build) and look again.",
                heavy.name,
                ms(heavy.ran),
                ms(heavy_end),
                ms(next)
            ),
            None => format!("Nothing was late; {} was the last event.", heavy.name),
        };
    };
    // The blame rule: the part of each late event's wait that overlaps the
    // heavy handler's run is charged to that handler.
    let waited: Duration = late.iter().map(|r| r.started - r.due).sum();
    let overlap: Duration = late
        .iter()
        .map(|r| {
            let from = r.due.max(heavy.started);
            let to = r.started.min(heavy_end);
            to.saturating_sub(from)
        })
        .sum();
    format!(
        "{} of {} events started late; the worst, {}, by {} ms.\n\
         {} ran for {} ms. Of the {} ms the late events waited in all,\n\
         {} ms overlap its run, so the blame rule charges them to {}.\n\
         One thread handles one event at a time: nothing can cut in while a\n\
         handler runs.",
        late.len(),
        records.len(),
        worst.name,
        ms(worst.started - worst.due),
        heavy.name,
        ms(heavy.ran),
        ms(waited),
        ms(overlap),
        heavy.name,
    )
}
