//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step6-isolation/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use std::io;
use std::process::{ChildStdout, ExitStatus};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use crate::subject::{self, Job, Outcome, Report, Supervisor, Worker};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn(ChildStdout) -> Receiver<String> = subject::read_lines; // given: pub fn read_lines(stdout: ChildStdout) -> Receiver<String>
    let _: fn() -> io::Result<Worker> = Worker::start; // given: pub fn start() -> io::Result<Worker>
    let _: fn(&Worker) -> u32 = Worker::pid; // given: pub fn pid(&self) -> u32
    let _: fn(&mut Worker, &Job, Duration) -> Outcome = Worker::run; // given: pub fn run(&mut self, job: &Job, limit: Duration) -> Outcome
    let _: fn(Worker) -> io::Result<ExitStatus> = Worker::shut_down; // given: pub fn shut_down(self) -> io::Result<ExitStatus>
    let _: fn(Worker) = Worker::kill; // given: pub fn kill(self)
    let _: fn(&Supervisor, &[Job]) -> Report = Supervisor::run_all; // given: pub fn run_all(&self, jobs: &[Job]) -> Report
}
