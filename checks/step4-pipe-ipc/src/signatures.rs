//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step4-pipe-ipc/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use std::io;
use std::process::{ChildStdin, Command};

use crate::subject::{self, Answer, Finished, IpcError, Job};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn(&Job) -> Answer = subject::process; // given: pub fn process(job: &Job) -> Answer
    let _: fn() -> io::Result<Command> = subject::worker_command; // given: pub fn worker_command() -> io::Result<Command>
    let _: fn(Vec<Job>) -> Result<Finished, IpcError> = subject::run_jobs; // given: pub fn run_jobs(jobs: Vec<Job>) -> Result<Finished, IpcError>
    let _: fn(ChildStdin, &[Job]) -> io::Result<()> = subject::write_jobs; // given: pub fn write_jobs(stdin: ChildStdin, jobs: &[Job]) -> io::Result<()>
    let _: fn(Command, Vec<Job>) -> Result<Finished, IpcError> = subject::run_jobs_with;
    // given: pub fn run_jobs_with(cmd: Command, jobs: Vec<Job>) -> Result<Finished, IpcError>
}
