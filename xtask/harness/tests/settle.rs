//! `settle::settled` tells a process whose threads all wait from one with a
//! thread that keeps running. Its own test binary, one test: other tests'
//! threads would be threads of this process too.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use check_harness::settle::{settled, Settled};

#[test]
fn a_blocked_thread_is_settled_and_a_spinning_one_is_not() {
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let blocked = std::thread::spawn(move || {
        g.wait();
    });
    assert_eq!(
        settled(&|| Some(Vec::new()), Duration::from_secs(20)),
        Settled::Yes
    );
    gate.wait();
    blocked.join().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let spinning = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            std::hint::spin_loop();
        }
    });
    assert_eq!(
        settled(&|| Some(Vec::new()), Duration::from_millis(300)),
        Settled::Busy
    );
    stop.store(true, Ordering::Relaxed);
    spinning.join().unwrap();

    // A child process that is asleep is settled too.
    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    assert_eq!(
        settled(&|| Some(vec![child.id()]), Duration::from_secs(20)),
        Settled::Yes
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
