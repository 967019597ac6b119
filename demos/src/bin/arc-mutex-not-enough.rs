//! Myth: "wrap it in `Arc<Mutex<T>>` and it is thread-safe."
//!
//! Run: `cargo run -p demos --bin arc-mutex-not-enough`
//!
//! A mutex protects each access. It does not protect a *decision* made in one
//! locked section and acted on in another. Two threads each withdraw 80 from a
//! balance of 100; a barrier makes both check before either withdraws.

use std::sync::Arc;
use std::thread;

const START: i64 = 100;

// ANCHOR: check_then_act
use std::sync::{Barrier, Mutex};

const AMOUNT: i64 = 80;

/// Check in one critical section, act in another: the check can go stale.
fn withdraw_in_two_steps(balance: &Mutex<i64>, both_checked: &Barrier) -> bool {
    let enough = *balance.lock().unwrap() >= AMOUNT; // lock taken and released
    both_checked.wait(); // the other thread checks in between
    if enough {
        *balance.lock().unwrap() -= AMOUNT; // acts on an old answer
    }
    enough
}

/// Check and act under ONE guard: nobody can change the balance in between.
fn withdraw_in_one_step(balance: &Mutex<i64>) -> bool {
    let mut guard = balance.lock().unwrap();
    if *guard >= AMOUNT {
        *guard -= AMOUNT;
        true
    } else {
        false
    }
}
// ANCHOR_END: check_then_act

/// Runs `withdraw` on two threads against one shared balance of START.
/// Returns how many withdrawals were granted and the final balance.
fn two_threads(withdraw: fn(&Mutex<i64>, &Barrier) -> bool) -> (usize, i64) {
    let balance = Arc::new(Mutex::new(START));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (balance, barrier) = (Arc::clone(&balance), Arc::clone(&barrier));
            thread::spawn(move || withdraw(&balance, &barrier))
        })
        .collect();
    let granted = handles.into_iter().map(|h| h.join().unwrap());
    let granted = granted.filter(|&ok| ok).count();
    let end = *balance.lock().unwrap();
    (granted, end)
}

fn main() {
    println!("balance {START}; two threads each try to withdraw {AMOUNT}\n");
    let (granted, end) = two_threads(withdraw_in_two_steps);
    println!("check, unlock, then act: {granted} granted, balance = {end}");
    let (granted, end) = two_threads(|balance, _| withdraw_in_one_step(balance));
    println!("check and act under one lock: {granted} granted, balance = {end}");
}
