//! Step 1 demo: one thread, one queue. A timer should tick every 50 ms; one
//! CPU-heavy handler makes every tick behind it late.
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

/// Runs events one at a time, in the order they are due, and prints how late
/// each one started.
fn run_loop(mut queue: VecDeque<Event>) {
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
    }
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
    run_loop(events.into());
    println!(
        "\nEvery tick after count-primes started late, by about as long as\n\
         count-primes ran: one thread handles one event at a time, and\n\
         nothing can cut in while a handler runs."
    );
}
