//! Myth: "safe Rust means no race conditions."
//!
//! Run: `cargo run -p demos --bin safe-rust-races`
//!
//! Safe Rust rules out *data races* (two threads touching the same memory
//! without synchronisation, one of them writing). It does not rule out *race
//! conditions*: logic whose result depends on how threads interleave. This
//! program has no `unsafe`, only atomics, and still loses an update, every
//! time: a barrier forces the bad interleaving instead of waiting for luck.

// ANCHOR: lost_update
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::thread;

/// Two threads each add 1 with a separate load and store.
fn load_then_store() -> u64 {
    let counter = AtomicU64::new(0);
    let both_have_read = Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let seen = counter.load(Ordering::SeqCst); // read...
                both_have_read.wait(); // (the other thread reads now too)
                counter.store(seen + 1, Ordering::SeqCst); // ...write back
            });
        }
    });
    counter.into_inner()
}

/// The same, but the read-modify-write is one indivisible operation.
fn fetch_add() -> u64 {
    let counter = AtomicU64::new(0);
    let both_ready = Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                both_ready.wait(); // same pressure: both go at once
                counter.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    counter.into_inner()
}
// ANCHOR_END: lost_update

fn main() {
    let lost = load_then_store();
    println!("two threads, each adds 1 with load + store: counter = {lost} (expected 2)");
    let kept = fetch_add();
    println!("two threads, each adds 1 with fetch_add:    counter = {kept}");
    // The conclusion follows what happened, not what was expected to happen.
    if lost < 2 {
        println!(
            "\nNo unsafe, no data race, and still a wrong answer ({lost} instead of 2): the bug is\n\
             in the logic. fetch_add gave {kept}."
        );
    } else {
        println!(
            "\nNo update was lost this time; the load + store version is still wrong by design."
        );
    }
}
