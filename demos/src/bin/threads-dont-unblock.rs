//! Myth: "put the work on a thread and the event loop is free."
//!
//! Run: `cargo run -p demos --bin threads-dont-unblock`
//!
//! A small event loop receives a tick every 20 ms and one heavy job. We print
//! how late the worst tick was handled, for three ways of running the job:
//! inline, on a thread that the loop joins at once, and on a thread whose
//! result comes back as an event.

use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant};

use demos::{burn_cpu, ms};

const WORK: Duration = Duration::from_millis(300);
const TICKS: u32 = 25;

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

// ANCHOR: handler
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
        println!(
            "{:<16} worst tick was handled {:>9} late",
            format!("{way:?}"),
            ms(worst)
        );
    }
}
