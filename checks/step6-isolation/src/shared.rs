//! What a check shares with the workers its supervisor starts.
//!
//! The workers are this same binary, started by the learner's code, so the
//! check cannot pass them arguments; they inherit its environment, though.
//! A check names a fresh folder in [`ENV`], and in it:
//!
//! * `began`: each job appends its name as it begins ([`began`]): its
//!   request line reached the worker whole.
//! * `journal`: each job that answers appends its name when it has run, just
//!   before the worker writes the reply ([`finished`]). The check reads it to
//!   tell "the supervisor is stuck after the last reply" from "stuck before".
//!
//! And a socket the workers tell their events on, for the check's trace
//! ([`crate::timeline`]).
//!
//! Gates ([`check_harness::gate`]): [`START_GATE`], where the first
//! worker stops before its `ready` line while the check holds it,
//! [`REPLY_GATE`], where an `echo` job stops before its reply, and
//! [`EXIT_GATE`], where a job about to crash stays alive after closing its
//! pipes until the supervisor waits for it ([`linger_before_exit`]).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::timeline;

/// The environment variable that names the folder.
pub const ENV: &str = "COURSE_STEP6_SHARED";

/// The gate the first worker of a check passes before it writes `ready`.
pub const START_GATE: &str = "COURSE_STEP6_START_GATE";

/// The gate an `echo` job passes after it has begun, before it replies.
pub const REPLY_GATE: &str = "COURSE_STEP6_REPLY_GATE";

/// The gate a crashing job passes after closing its stdout.
pub const EXIT_GATE: &str = "COURSE_STEP6_EXIT_GATE";

/// The gate a worker that exits by itself passes on its way out, before it
/// notes in `exits` that it did ([`note_own_exit`]).
pub const CLEAN_EXIT_GATE: &str = "COURSE_STEP6_CLEAN_EXIT_GATE";

/// Set by a check for its workers: a file each worker holds a shared lock
/// on from its start until its process ends ([`hold_life_if_asked`]). The
/// operating system lets go of a dead process's locks, so a check that
/// fails to take the file exclusively (`try_lock`) knows a worker is alive.
pub const LIFE: &str = "COURSE_STEP6_LIFE";

/// Worker side, first thing in `main`: when the check asked ([`LIFE`]),
/// take the shared lock and keep it for as long as this process lives.
pub fn hold_life_if_asked() {
    let Some(path) = std::env::var_os(LIFE) else {
        return;
    };
    if let Ok(file) = std::fs::File::open(path) {
        if file.lock_shared().is_ok() {
            // Held until the process ends, however it ends.
            std::mem::forget(file);
        }
    }
}

/// Set by a check for its workers: say this instead of `ready` and then
/// never go on (`talk`), or exit before saying anything (`end`).
pub const BAD_START: &str = "COURSE_STEP6_BAD_START";

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

/// Worker side, first thing in `main`: when the check holds the start
/// gate, the first worker to get here (it creates `held`, which only one
/// can) waits until the check lets go, and then notes `let-go` in it.
/// Workers started after it go on at once: a supervisor that gave up on
/// the slow worker meets a worker that starts as fast as any, so what it
/// does with that one does not race the check's clock.
pub fn before_ready() {
    if std::env::var_os(START_GATE).is_none() {
        return;
    }
    let Some(dir) = folder() else { return };
    let claimed = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join("held"));
    if claimed.is_err() {
        return;
    }
    timeline::tell("held");
    check_harness::gate::pass(START_GATE);
    append("held", "let-go");
    timeline::tell("let-go");
}

/// Worker side, just before `ready`: if the check asked for a bad start
/// ([`BAD_START`]), say something else and then hang (stdin closing does
/// not end it: only a kill does), or exit at once with code 3.
pub fn bad_start_if_asked() {
    match std::env::var(BAD_START).as_deref() {
        Ok("talk") => {
            println!("warming up");
            let _ = std::io::stdout().flush();
            loop {
                std::thread::park();
            }
        }
        Ok("end") => std::process::exit(3),
        _ => {}
    }
}

/// Worker side, first thing in `main`: when the process exits through the
/// C runtime (unix: an `atexit` hook; the worker's loop ends with an exit
/// once its stdin closes), wait at [`CLEAN_EXIT_GATE`] until the
/// supervisor waits for it, then note this process's id in `exits`. A
/// worker that is killed never gets there, however soon after its stdin
/// closed the kill came.
pub fn note_own_exit() {
    #[cfg(unix)]
    {
        extern "C" fn on_exit() {
            if std::env::var_os(CLEAN_EXIT_GATE).is_none() {
                return;
            }
            check_harness::gate::linger_until_waited(CLEAN_EXIT_GATE);
            append("exits", &std::process::id().to_string());
        }
        if folder().is_some() {
            // SAFETY: registers a plain function, run at most once, when
            // the process exits.
            unsafe {
                libc::atexit(on_exit);
            }
        }
    }
}

/// Worker side, first thing in a job: note that a request reached the
/// worker whole, and tell the check's trace.
pub fn began(job: &str) {
    append("began", job);
    timeline::tell(&format!("begin {job}"));
}

/// Worker side, inside a job: note that it has run.
pub fn finished(job: &str) {
    append("journal", job);
    timeline::tell(&format!("end {job}"));
}

/// Worker side, in a job about to crash: if the check holds the exit gate,
/// close this process's pipes (the supervisor's reader sees end-of-file)
/// and stay alive until the supervisor waits for it (see
/// [`check_harness::gate::close_pipes_and_linger`]).
pub fn linger_before_exit() {
    if std::env::var_os(EXIT_GATE).is_some() {
        timeline::tell("pipes-closed");
    }
    check_harness::gate::close_pipes_and_linger(EXIT_GATE);
}

/// Check side: the folder, removed again when the check is done with it.
pub struct Shared {
    dir: PathBuf,
    /// Hears the workers, for the trace (none with tracing off).
    timeline: Option<timeline::Listener>,
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
        let timeline = timeline::Listener::start(crate::JOB_LIMIT);
        Shared { dir, timeline }
    }

    /// For the trace: how each worker stands once `run_all` has returned,
    /// or the check has given up on it.
    pub fn settle_trace(&self) {
        if let Some(timeline) = &self.timeline {
            timeline.settle();
        }
    }

    /// The workers that exited by themselves (see [`note_own_exit`]).
    pub fn own_exits(&self) -> Vec<String> {
        self.lines_of("exits")
    }

    /// Did the worker held at the start gate get past it, or was it
    /// killed while it waited there? `None` if no worker got to the gate.
    pub fn held_worker_let_go(&self) -> Option<bool> {
        if !self.dir.join("held").exists() {
            return None;
        }
        Some(self.lines_of("held").iter().any(|l| l == "let-go"))
    }

    /// The jobs that began in a worker, in order: their request line
    /// reached it whole.
    pub fn begun_jobs(&self) -> Vec<String> {
        self.lines_of("began")
    }

    /// The jobs that have run, in order.
    pub fn finished_jobs(&self) -> Vec<String> {
        self.lines_of("journal")
    }

    /// The lines the workers appended to `file` in the folder.
    fn lines_of(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(file))
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
