//! Myth: "a panic in any thread takes the whole program down."
//!
//! Run: `cargo run -p demos --bin panicking-thread`
//!
//! A panic unwinds only the thread it happens on; the owner finds out through
//! `join`. What does take the whole process down is shown at the end, in child
//! processes so this demo survives to report it: `std::process::abort` on any
//! thread, and a panic on the main thread while a worker still runs.

use std::process::Command;
use std::sync::mpsc;
use std::thread;

use demos::{role, ROLE_FLAG};

// ANCHOR: join
fn panic_comes_back_through_join() {
    let worker = std::thread::spawn(|| -> u32 { panic!("bad input in the worker") });
    match worker.join() {
        Ok(value) => println!("worker returned {value}"),
        Err(payload) => {
            // The payload is what was passed to panic!: a &str or a String.
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(not a string)");
            println!("join() gave Err: the worker panicked with {message:?}");
        }
    }
    println!("the main thread is still running");
}
// ANCHOR_END: join

// ANCHOR: poison
fn a_panic_poisons_the_mutex() {
    use std::sync::{Arc, Mutex};

    let shared = Arc::new(Mutex::new(vec![1, 2, 3]));
    let for_worker = Arc::clone(&shared);
    let _ = std::thread::spawn(move || {
        let mut list = for_worker.lock().unwrap();
        list.push(4);
        panic!("halfway through an update"); // guard dropped while unwinding
    })
    .join();

    match shared.lock() {
        Ok(list) => println!("lock() is fine: {list:?}"),
        Err(poisoned) => {
            // Poisoning is a warning, not a wall: the data is still reachable.
            let list = poisoned.into_inner();
            println!("lock() says poisoned; the data inside is {list:?}");
        }
    };
}
// ANCHOR_END: poison

/// Runs this program again in `role` and reports how the child ended.
fn run_child(role: &str) {
    let me = std::env::current_exe().expect("where is my own executable?");
    let out = Command::new(me)
        .args([ROLE_FLAG, role])
        .output()
        .expect("could not start");
    let said = String::from_utf8_lossy(&out.stdout);
    println!(
        "  {role:<14} child printed {:?}, ended with {}",
        said.trim(),
        out.status
    );
}

fn main() {
    match role().as_deref() {
        Some("abort") => {
            let worker = thread::spawn(|| std::process::abort());
            let _ = worker.join(); // never returns: the process is gone
            println!("main survived the abort"); // never printed
        }
        Some("main-panics") => {
            // A worker that runs forever, unless its process ends.
            let (started, worker_started) = mpsc::channel();
            thread::spawn(move || {
                started.send(()).unwrap();
                loop {
                    thread::park();
                }
            });
            worker_started.recv().unwrap();
            println!("worker is running");
            panic!("the main thread panics");
        }
        _ => {
            panic_comes_back_through_join();
            println!();
            a_panic_poisons_the_mutex();
            println!("\nWhat does end the whole process (run as child processes):");
            run_child("abort");
            run_child("main-panics");
        }
    }
}
