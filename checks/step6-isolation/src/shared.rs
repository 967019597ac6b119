//! What a check shares with the workers its supervisor starts.
//!
//! The workers are this same binary, started by the learner's code, so the
//! check cannot pass them arguments; they inherit its environment, though.
//! A check names a fresh folder in [`ENV`], and in it:
//!
//! * `gate`: before it writes `ready`, a worker takes a shared lock on this
//!   file. While the check holds the exclusive lock ([`Shared::hold_starts`]),
//!   every worker is held back before `ready`, for as long as the check
//!   decides, however fast the machine is.
//! * `journal`: each job that answers appends its name when it has run, just
//!   before the worker writes the reply ([`finished`]). The check reads it to
//!   tell "the supervisor is stuck after the last reply" from "stuck before".
//! * `starts`: each worker appends a line when it starts ([`before_ready`]),
//!   so the check can count the workers the supervisor has started.
//! * `exit-gate`: a job that crashes can first close its stdout and then
//!   take a shared lock on this file before it dies ([`linger_before_exit`]).
//!   While the check holds the exclusive lock, the supervisor sees the
//!   worker's stdout close while the process is still alive: only a
//!   supervisor that waits for the process (rather than asking once whether
//!   it has exited) gets its exit status.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// The environment variable that names the folder.
pub const ENV: &str = "COURSE_STEP6_SHARED";

fn folder() -> Option<PathBuf> {
    std::env::var_os(ENV).map(PathBuf::from)
}

fn append(file: &str, line: &str) {
    let Some(dir) = folder() else { return };
    if let Ok(mut f) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file))
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Worker side, first thing in `main`: note the start, then wait while the
/// check holds the gate.
pub fn before_ready() {
    let Some(dir) = folder() else { return };
    append("starts", &std::process::id().to_string());
    if let Ok(gate) = File::open(dir.join("gate")) {
        // Blocks while the check holds the exclusive lock. An error (no
        // locking on this file system) means no hold.
        let _ = gate.lock_shared();
    }
}

/// Worker side, inside a job: note that it has run.
pub fn finished(job: &str) {
    append("journal", job);
}

/// Worker side, in a job about to crash: if the check holds the exit gate,
/// close this process's stdout (the supervisor's reader sees end-of-file)
/// and stay alive until the check lets go.
pub fn linger_before_exit() {
    let Some(dir) = folder() else { return };
    // Opened before stdout is closed, so it cannot take stdout's place.
    let Ok(gate) = File::open(dir.join("exit-gate")) else {
        return;
    };
    close_stdout();
    let _ = gate.lock_shared();
}

/// Closes this process's standard output handle. Nothing is buffered in
/// `io::stdout()` here: the worker flushes after every reply.
fn close_stdout() {
    #[cfg(unix)]
    {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: fd 1 is open and owned by nobody else in this process;
        // the File takes it over and closes it when dropped. Nothing writes
        // to stdout afterwards (the job panics next).
        drop(unsafe { File::from_raw_fd(std::io::stdout().as_raw_fd()) });
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::{AsRawHandle, FromRawHandle};
        // SAFETY: as above, for the process's standard output handle.
        drop(unsafe { File::from_raw_handle(std::io::stdout().as_raw_handle()) });
    }
}

/// Check side: the folder, removed again when the check is done with it.
pub struct Shared {
    dir: PathBuf,
}

impl Shared {
    /// Makes the folder and names it in the environment, for the workers the
    /// supervisor is about to start.
    pub fn new() -> Shared {
        let dir = std::env::temp_dir().join(format!("course-step6-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the check's shared folder");
        // One check per process, and no other thread of this process reads
        // the environment while it is set: the supervisor starts later.
        std::env::set_var(ENV, &dir);
        Shared { dir }
    }

    /// Holds every worker back before its `ready` line until the returned
    /// file is dropped (closing it releases the lock).
    pub fn hold_starts(&self) -> File {
        let gate = File::create(self.dir.join("gate")).expect("create the gate file");
        gate.lock().expect("lock the gate file");
        gate
    }

    /// Holds a crashing job's worker alive after it closed its stdout, until
    /// the returned file is dropped. See [`linger_before_exit`].
    pub fn hold_exits(&self) -> File {
        let gate = File::create(self.dir.join("exit-gate")).expect("create the exit gate file");
        gate.lock().expect("lock the exit gate file");
        gate
    }

    /// How many workers have started so far.
    pub fn starts(&self) -> usize {
        std::fs::read_to_string(self.dir.join("starts"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// The jobs that have run, in order.
    pub fn finished_jobs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("journal"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
