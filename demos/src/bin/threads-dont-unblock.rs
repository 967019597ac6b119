//! Myth: "put the work on a thread and the event loop is free."
//!
//! Run: `cargo run -p demos --bin threads-dont-unblock`
//!
//! A small event loop receives a tick every 20 ms and one heavy job. We print
//! how late the worst tick was handled, for three ways of running the job:
//! inline, on a thread that the loop joins at once, and on a thread whose
//! result comes back as an event.

use std::sync::mpsc;

use demos::ms;

const TICKS: u32 = 25;

// ANCHOR: handler
use std::sync::mpsc::Sender;
use std::thread;
use std::time::{Duration, Instant};

const WORK: Duration = Duration::from_millis(300);

/// Keeps a core busy for about `how_long`, like a heavy handler would.
/// (It spins on purpose: a sleeping thread would give its core away.)
fn burn_cpu(how_long: Duration) -> u64 {
    let start = Instant::now();
    let mut x: u64 = 1;
    while start.elapsed() < how_long {
        for _ in 0..1_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
    }
    std::hint::black_box(x)
}

enum Event {
    Tick(Instant),
    Heavy,
    HeavyDone(u64),
}

#[derive(Clone, Copy, Debug)]
enum Way {
    Inline,
    SpawnThenJoin,
    SpawnAndReport,
}

fn handle_heavy(way: Way, events: &Sender<Event>) {
    match way {
        Way::Inline => {
            let result = burn_cpu(WORK);
            events.send(Event::HeavyDone(result)).unwrap();
        }
        Way::SpawnThenJoin => {
            // A thread... and then we wait for it right here. The loop is
            // stuck in `join` exactly as long as it was stuck computing.
            let worker = thread::spawn(|| burn_cpu(WORK));
            let result = worker.join().unwrap();
            events.send(Event::HeavyDone(result)).unwrap();
        }
        Way::SpawnAndReport => {
            // The thread owns a sender and posts the result as a new event.
            // The handler returns at once; the loop goes back to its queue.
            let events = events.clone();
            thread::spawn(move || {
                let result = burn_cpu(WORK);
                events.send(Event::HeavyDone(result)).unwrap();
            });
        }
    }
}
// ANCHOR_END: handler

/// Runs the loop once and returns how late the worst tick was handled.
fn run_loop(way: Way) -> Duration {
    let (tx, rx) = mpsc::channel();
    let ticker = {
        let tx = tx.clone();
        thread::spawn(move || {
            for _ in 0..TICKS {
                thread::sleep(Duration::from_millis(20));
                tx.send(Event::Tick(Instant::now())).unwrap();
            }
        })
    };
    tx.send(Event::Heavy).unwrap();

    let (mut worst, mut ticks, mut done) = (Duration::ZERO, 0, false);
    while ticks < TICKS || !done {
        match rx.recv().unwrap() {
            Event::Tick(sent) => {
                worst = worst.max(sent.elapsed());
                ticks += 1;
            }
            Event::Heavy => handle_heavy(way, &tx),
            Event::HeavyDone(result) => {
                std::hint::black_box(result); // a real loop would use it
                done = true;
            }
        }
    }
    ticker.join().unwrap();
    worst
}

fn main() {
    println!(
        "a {} job on an event loop that ticks every 20 ms\n",
        ms(WORK)
    );
    for way in [Way::Inline, Way::SpawnThenJoin, Way::SpawnAndReport] {
        let worst = run_loop(way);
        let name = match way {
            Way::Inline => "inline",
            Way::SpawnThenJoin => "spawn_then_join",
            Way::SpawnAndReport => "spawn_and_report",
        };
        demos::figure_ms(&format!("{name}.worst_late_ms"), worst);
        println!(
            "{:<16} worst tick was handled {:>9} late",
            format!("{way:?}"),
            ms(worst)
        );
    }
}
