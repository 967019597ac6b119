//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step2-offloading/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use std::any::Any;

use crossbeam_channel::{Receiver, Sender};

use crate::subject::{self, Event, Finished, Job, Reply};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn(u64) -> u64 = subject::heavy_work; // given: pub fn heavy_work(n: u64) -> u64
    let _: fn(Receiver<Event>, Sender<Reply>) = subject::run; // given: pub fn run(events: Receiver<Event>, replies: Sender<Reply>)
    let _: fn(u64, Job, Sender<Finished>) = subject::offload_to_thread; // given: pub fn offload_to_thread(id: u64, job: Job, done: Sender<Finished>)
    let _: fn(u64, u64, Sender<Finished>) = subject::offload_to_child; // given: pub fn offload_to_child(id: u64, n: u64, done: Sender<Finished>)
    let _: fn(u64) -> Result<u64, String> = subject::run_in_child; // given: pub fn run_in_child(n: u64) -> Result<u64, String>
    let _: fn(&(dyn Any + Send)) -> String = subject::panic_message; // given: pub fn panic_message(payload: &(dyn Any + Send)) -> String
}
