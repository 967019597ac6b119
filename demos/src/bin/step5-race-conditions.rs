//! Step 5 demo: three ways to get data to another worker (move it, share it,
//! serialize it), and two race conditions that safe Rust compiles happily.
//!
//! Run it with: cargo run --release -p demos --bin step5-race-conditions

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

// ANCHOR: three-ways
fn three_ways() {
    let data: Vec<u64> = (0..1_000_000).collect();
    println!("the data: {} numbers at {:p}", data.len(), data.as_ptr());

    // 1. Move it through a channel: only the Vec's (pointer, length,
    //    capacity) travel; the million numbers stay where they are.
    let (tx, rx) = crossbeam_channel::bounded(1);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| tx.send(data).expect("the receiver is alive"));
    });
    let moved: Vec<u64> = rx.recv().expect("the sender sent");
    println!(
        "moved:      at {:p}, same buffer, {:?}",
        moved.as_ptr(),
        start.elapsed()
    );

    // 2. Share it: both threads read the one buffer through an Arc.
    let shared = Arc::new(moved);
    let other = Arc::clone(&shared);
    let seen_at = std::thread::spawn(move || other.as_ptr() as usize)
        .join()
        .expect("the reader");
    println!("shared:     at {seen_at:#x}, same buffer, read by two threads");

    // 3. Serialize it, as you must to cross a process boundary: encode to
    //    bytes, (send them down a pipe,) decode into a brand-new Vec.
    let start = Instant::now();
    let bytes = serde_json::to_vec(&*shared).expect("numbers serialize");
    let decoded: Vec<u64> = serde_json::from_slice(&bytes).expect("and parse back");
    println!(
        "serialized: at {:p}, a new copy, {} bytes of JSON, {:?}",
        decoded.as_ptr(),
        bytes.len(),
        start.elapsed()
    );
}
// ANCHOR_END: three-ways

// ANCHOR: lost-update
/// Four threads each add 1 to a shared atomic counter `per_thread` times,
/// with a separate load and store. Returns how many additions were lost.
fn racy_count(per_thread: u64) -> u64 {
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..per_thread {
                    let now = counter.load(Ordering::SeqCst);
                    // Another thread can store here; our store overwrites it.
                    counter.store(now + 1, Ordering::SeqCst);
                }
            });
        }
    });
    4 * per_thread - counter.into_inner()
}

/// The same with `fetch_add`: read, add and write in one indivisible step.
fn atomic_count(per_thread: u64) -> u64 {
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..per_thread {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    4 * per_thread - counter.into_inner()
}
// ANCHOR_END: lost-update

// ANCHOR: torn-total
/// Moves money back and forth between two balances while another thread
/// keeps adding them up. Returns how many of its looks saw a wrong total.
fn wrong_totals_with_two_atomics(moves: u32) -> u32 {
    let balances = [AtomicU64::new(100), AtomicU64::new(100)];
    let wrong = std::sync::atomic::AtomicU32::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    // Both threads start together, so they really overlap.
    let start = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for i in 0..moves {
                let (from, to) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
                balances[from].fetch_sub(10, Ordering::SeqCst);
                balances[to].fetch_add(10, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
        });
        s.spawn(|| {
            start.wait();
            while !done.load(Ordering::SeqCst) {
                let total = balances[0].load(Ordering::SeqCst) + balances[1].load(Ordering::SeqCst);
                if total != 200 {
                    wrong.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    });
    wrong.into_inner()
}

/// The same with one Mutex around both balances.
fn wrong_totals_with_one_mutex(moves: u32) -> u32 {
    let balances = Mutex::new([100u64, 100]);
    let mut wrong = 0;
    let done = std::sync::atomic::AtomicBool::new(false);
    let start = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for i in 0..moves {
                let (from, to) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
                let mut b = balances.lock().expect("not poisoned");
                b[from] -= 10;
                b[to] += 10;
            }
            done.store(true, Ordering::SeqCst);
        });
        start.wait();
        while !done.load(Ordering::SeqCst) {
            let b = *balances.lock().expect("not poisoned");
            if b[0] + b[1] != 200 {
                wrong += 1;
            }
        }
    });
    wrong
}
// ANCHOR_END: torn-total

fn main() {
    three_ways();

    println!();
    let per_thread = 1_000_000;
    let (mut racy, mut atomic) = (Vec::new(), Vec::new());
    for round in 1..=3 {
        racy.push(racy_count(per_thread));
        atomic.push(atomic_count(per_thread));
        println!(
            "round {round}: 4 threads x {per_thread} increments: load+store lost {:>7}, fetch_add lost {}",
            racy[round - 1],
            atomic[round - 1]
        );
    }
    for (name, lost) in [("load_store_lost", &racy), ("fetch_add_lost", &atomic)] {
        let lost: Vec<f64> = lost.iter().map(|&n| n as f64).collect();
        demos::figure_spread(name, &lost);
    }

    println!();
    let moves = 1_000_000;
    let two_atomics = wrong_totals_with_two_atomics(moves);
    demos::figure("wrong_totals.two_atomics", two_atomics as f64);
    println!(
        "{moves} transfers, two atomics: the other thread saw a wrong total {two_atomics} times"
    );
    let one_mutex = wrong_totals_with_one_mutex(moves);
    demos::figure("wrong_totals.one_mutex", one_mutex as f64);
    println!(
        "{moves} transfers, one Mutex:   the other thread saw a wrong total {one_mutex} times"
    );
}
