//! Chapter "Parallelism basics": the same heavy job three ways.
//!
//! An event loop handles a tick every 100 ms. Then a heavy job arrives:
//! 1. run inline, on the loop's own thread: no tick is handled until it ends;
//! 2. run on a worker thread: the ticks go on, the result arrives as an event;
//! 3. run in a child process (this program again, in a worker role): the same.
//!
//! Run it: `cargo run -p demos --bin step2-offloading`

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, tick, unbounded, Sender};

/// The heavy handler: counts primes up to `n` by trial division.
fn count_primes(n: u64) -> u64 {
    (2..=n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

const N: u64 = 400_000;

#[derive(Clone, Copy, Debug)]
enum Where {
    Inline,
    Thread,
    ChildProcess,
}

// ANCHOR: offload
/// Starts the heavy job. Its result comes back on `done` as an event.
fn start_job(place: Where, done: Sender<u64>) {
    match place {
        // The loop's own thread does the work: nothing else runs meanwhile.
        Where::Inline => done.send(count_primes(N)).unwrap(),
        // A worker thread does it; the loop goes straight back to its events.
        Where::Thread => {
            thread::spawn(move || done.send(count_primes(N)).unwrap());
        }
        // A child process does it; a helper thread waits for the child.
        Where::ChildProcess => {
            thread::spawn(move || {
                let exe = std::env::current_exe().unwrap();
                let output = Command::new(exe)
                    .args(["--role", "worker"])
                    .arg(N.to_string())
                    .output()
                    .unwrap();
                // A crashed child printed nothing worth parsing: say so.
                if !output.status.success() {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    panic!("the worker failed ({}): {stderr}", output.status);
                }
                let text = String::from_utf8(output.stdout).unwrap();
                done.send(text.trim().parse().unwrap()).unwrap();
            });
        }
    }
}
// ANCHOR_END: offload

// ANCHOR: event_loop
fn event_loop(place: Where) {
    let start = Instant::now();
    let ms = || start.elapsed().as_millis();
    let ticks = tick(Duration::from_millis(100));
    let (done_tx, done_rx) = unbounded();
    println!("{place:?}: job started at {:>4} ms", ms());
    start_job(place, done_tx);
    let mut handled = 0;
    loop {
        select! {
            recv(ticks) -> _ => {
                handled += 1;
                println!("{place:?}:   tick handled at {:>4} ms", ms());
            }
            recv(done_rx) -> primes => {
                println!(
                    "{place:?}: result event at {:>4} ms: {} primes; {handled} tick(s) handled meanwhile",
                    ms(),
                    primes.unwrap()
                );
                break;
            }
        }
    }
}
// ANCHOR_END: event_loop

fn main() {
    // ANCHOR: worker_role
    // Started as `<this program> --role worker <n>`: be the worker, not the
    // demo.
    let role = std::env::args().skip_while(|a| a != "--role").nth(1);
    if role.as_deref() == Some("worker") {
        let n: u64 = std::env::args().next_back().unwrap().parse().unwrap();
        println!("{}", count_primes(n));
        return;
    }
    // ANCHOR_END: worker_role
    for place in [Where::Inline, Where::Thread, Where::ChildProcess] {
        event_loop(place);
        println!();
    }
}
