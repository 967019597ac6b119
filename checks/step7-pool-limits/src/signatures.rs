//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step7-pool-limits/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use std::io;
use std::process::Child;

use crate::subject::{self, ThreadPool};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn(usize, usize) -> ThreadPool = ThreadPool::new; // given: pub fn new(workers: usize, queue_capacity: usize) -> ThreadPool
    let _: fn(ThreadPool) -> usize = ThreadPool::shutdown; // given: pub fn shutdown(self) -> usize
    let _: fn(&str) -> io::Result<Child> = subject::spawn_worker; // given: pub fn spawn_worker(input: &str) -> io::Result<Child>
}

/// `ThreadPool::submit` as given.
#[allow(dead_code)]
fn submit(pool: &ThreadPool, job: impl FnOnce() + Send + 'static) {
    pool.submit(job) // given: job: impl FnOnce() + Send + 'static
}

/// `run_in_processes` with exactly the bounds the exercise gives.
#[allow(dead_code)]
fn run_in_processes<F>(inputs: &[String], max_alive: usize, spawn: F) -> Vec<io::Result<String>>
where
    F: Fn(&str) -> io::Result<Child> + Sync,
{
    subject::run_in_processes(inputs, max_alive, spawn) // given: F: Fn(&str) -> io::Result<Child> + Sync
}
