//! The harness every step's checks binary is built on.
//!
//! A checks crate (`checks/<step-id>`) is a small binary whose `main` hands a
//! list of [`Check`]s to [`main`]. The binary is then driven in one of three
//! ways:
//!
//! * `<bin> --list` prints the check ids, one per line.
//! * `<bin> --run <id> --result <file>` runs one check in this process and
//!   writes its [`Outcome`] as JSON to `<file>`, sealed with the token it
//!   reads from stdin first ([`seal`]). The grader does this, one process per
//!   check, under a time and a memory limit ([`runner::run_check`]).
//! * `<bin>` with no arguments runs every check that way and prints a summary,
//!   so `cargo run -p step1-blocking-checks` works without the grader.
//!
//! A check is a plain function returning [`CheckResult`]. Use [`ensure!`] and
//! [`fail!`] to explain a failure in words a learner understands; a panic in
//! the learner's code (`todo!()` included) is caught and reported with its
//! location.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod affinity;
pub mod capture;
pub mod children;
pub mod cleanup;
pub mod containment;
pub mod cpu;
pub mod gate;
pub mod human;
pub mod parent_watch;
pub mod runner;
pub mod seal;
pub mod settle;
pub mod shell_probe;
pub mod sync;
pub mod threads;
pub mod time_limit;
pub mod timer_poll;
pub mod trace;
pub mod trace_wire;
pub mod tree_memory;

/// What a check returns: `Ok(())` when it passed.
pub type CheckResult = Result<(), Failure>;

/// Why a check failed, in words meant for the learner, and the mistake it
/// saw when it can tell which one: its cause.
///
/// A cause is an id the check chooses (`none-when-calm`,
/// `queue-not-closed`): the grader shows the hints `course.toml` gives that
/// cause (`[[step.cause]]`) instead of the check's own, and a mistake that
/// fails several checks for the same cause is explained once. Give one only
/// when the check observed that mistake and no other; without one, the
/// check's own hints are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub cause: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure whose cause the check recognised (see [`Failure`]).
    pub fn because(cause: &str, message: impl Into<String>) -> Failure {
        Failure::new(message).with_cause(cause)
    }

    /// The same failure, with `cause` as its cause.
    pub fn with_cause(mut self, cause: &str) -> Failure {
        self.cause = Some(cause.to_string());
        self
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::new(e.to_string())
    }
}

/// Returns a [`Failure`] from the enclosing check unless `cond` holds:
/// `ensure!(cond, "message {}", x)`, or with the mistake it recognised,
/// `ensure!(cond, cause = "queue-not-closed", "message {}", x)`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, cause = $cause:expr, $($arg:tt)+) => {
        if !$cond {
            return ::std::result::Result::Err($crate::Failure::because(
                $cause,
                ::std::format!($($arg)+),
            ));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return ::std::result::Result::Err($crate::Failure::new(::std::format!($($arg)+)));
        }
    };
}

/// Returns a [`Failure`] from the enclosing check: `fail!("message")`, or
/// `fail!(cause = "none-when-calm", "message")`.
#[macro_export]
macro_rules! fail {
    (cause = $cause:expr, $($arg:tt)+) => {
        return ::std::result::Result::Err($crate::Failure::because(
            $cause,
            ::std::format!($($arg)+),
        ))
    };
    ($($arg:tt)+) => {
        return ::std::result::Result::Err($crate::Failure::new(::std::format!($($arg)+)))
    };
}

/// One check: an id (the manifest's `[[step.check]] id`) and its function.
#[derive(Clone, Copy)]
pub struct Check {
    pub id: &'static str,
    pub run: fn() -> CheckResult,
}

impl Check {
    pub const fn new(id: &'static str, run: fn() -> CheckResult) -> Check {
        Check { id, run }
    }
}

/// The result of one check, as the checks binary reports it to the grader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail {
        message: String,
        /// The mistake the check recognised (see [`Failure`]); absent in
        /// the JSON when there is none, so an outcome without one is
        /// written and sealed as before causes existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
}

/// The checks binary's entry point: see the crate docs for the arguments.
pub fn main(checks: &[Check]) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--list"] => {
            for check in checks {
                println!("{}", check.id);
            }
            0
        }
        ["--run", id, "--result", file] => run_one(checks, id, PathBuf::from(file)),
        [] => run_all(checks),
        _ => {
            eprintln!(
                "usage: {} [--list | --run <check-id> --result <file>]\n\
                 (the grader runs this: `cargo xtask check <step>`)",
                std::env::args().next().unwrap_or_default()
            );
            2
        }
    };
    std::process::exit(code)
}

fn run_one(checks: &[Check], id: &str, result_file: PathBuf) -> i32 {
    let Some(check) = checks.iter().find(|c| c.id == id) else {
        eprintln!("no check named `{id}`");
        return 2;
    };
    // The proof that the result comes from here: read before any code under
    // test runs (see `seal`).
    let token = seal::read_token();
    let _ = REPORT_TO.set((result_file, token));
    // Every process the check starts dies with this one, even on Windows
    // where there are no process groups.
    containment::contain_descendants();
    // A grader that is killed cannot end this check: it ends itself then.
    parent_watch::watch(&REPORT_TO.get().expect("set above").0);
    trace::start_clock();
    // Out of time, the grader asks for the timeline so far (Unix).
    time_limit::arm(|| {
        report(Outcome::Fail {
            message: "out of time".to_string(),
            cause: None,
        });
    });
    let outcome = run_catching(check.run);
    // Exit at once: threads the learner's code left blocked must not keep
    // the process alive.
    report(outcome)
}

/// Where this process reports its one check's outcome, and the seal's token.
static REPORT_TO: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();

/// Writes `outcome` as this process's sealed result; the exit code to use.
fn report(outcome: Outcome) -> i32 {
    let Some((file, token)) = REPORT_TO.get() else {
        // Not run by the grader (a unit test, say): nothing to report to.
        return 0;
    };
    let sealed = seal::Sealed::with_trace(outcome, trace::take(), token);
    let json = serde_json::to_string(&sealed).expect("an outcome serializes");
    if let Err(e) = std::fs::write(file, json) {
        eprintln!("cannot write {}: {e}", file.display());
        return 3;
    }
    0
}

/// Ends the check now, as failed with `message`, and exits the process.
///
/// For failures that cannot travel back to [`run_catching`] as a value or an
/// unwinding panic: a panic that aborts the process (the loom model checker
/// reports a deadlock with one) would otherwise reach the learner only as
/// "killed by signal 6". Call it from the check's own code or from a
/// [`on_fatal_panic`] rewriter.
pub fn fail_now(message: impl Into<String>) -> ! {
    fail_now_with(Failure::new(message))
}

/// [`fail_now`] with a [`Failure`], which may name its cause.
pub fn fail_now_with(failure: Failure) -> ! {
    let code = report(Outcome::Fail {
        message: failure.message,
        cause: failure.cause,
    });
    std::process::exit(code)
}

/// A check's way to recognise a panic it can explain better than the panic
/// message does: it gets the message and returns the failure to report.
type Rewriter = fn(&str) -> Option<Failure>;

static REWRITER: std::sync::Mutex<Option<Rewriter>> = std::sync::Mutex::new(None);

/// While the current check runs, every panic's message (on any thread) is
/// first shown to `rewrite`; when it returns a failure, the check fails with
/// it at once ([`fail_now_with`]), whether or not the panic could have unwound.
/// Pass `None` to stop.
pub fn on_fatal_panic(rewrite: Option<Rewriter>) {
    *REWRITER.lock().unwrap_or_else(|e| e.into_inner()) = rewrite;
}

/// The most recent panic seen in any thread, with its location. A panic
/// passed on with `resume_unwind` (see [`sync::within`]) keeps its original
/// location this way.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn last_panic() -> std::sync::MutexGuard<'static, Option<String>> {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner())
}

/// The cause of a check that ended with a panic in the learner's code (not
/// a `todo!()`): `course.toml` gives it hints about reading a panic, shared
/// by every step.
pub const CODE_PANICKED: &str = "code-panicked";

/// [`CODE_PANICKED`] when the most recent panic was in the learner's code.
static LAST_PANIC_CAUSE: std::sync::Mutex<Option<&'static str>> = std::sync::Mutex::new(None);

fn last_panic_cause() -> std::sync::MutexGuard<'static, Option<&'static str>> {
    LAST_PANIC_CAUSE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a panic's file is the learner's crate (or the reference
/// solution, graded the same way): the path cargo gave rustc, relative to
/// the workspace.
fn in_learner_code(file: &str) -> bool {
    let file = file.replace('\\', "/");
    file.starts_with("exercises/") || file.starts_with("solutions/")
}

/// The innermost frame of the current backtrace that is in the learner's
/// code ("exercises/step1-blocking/src/lib.rs:113"), if any.
fn learner_frame() -> Option<String> {
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    trace.lines().find_map(|line| {
        let place = line.trim().strip_prefix("at ")?.replace('\\', "/");
        let start = ["exercises/", "solutions/"]
            .iter()
            .filter_map(|dir| place.find(dir))
            .min()?;
        let place = &place[start..];
        // "file:line:column": the column is noise for a learner.
        Some(match place.rsplit_once(':') {
            Some((file_line, column)) if column.chars().all(|c| c.is_ascii_digit()) => {
                file_line.to_string()
            }
            _ => place.to_string(),
        })
    })
}

/// Runs a check, turning a panic into a failure that says where it happened.
pub fn run_catching(check: fn() -> CheckResult) -> Outcome {
    panic::set_hook(Box::new(|info| {
        // Where: the learner's line, or "in the check (not your code)"
        // when the panic is in the checks' own code.
        // A panic inside Rust's library (an overflowing `Duration`
        // subtraction, say) is placed at the learner's line that called it.
        let called_from = info
            .location()
            .filter(|l| !human::in_checks(l.file()) && !in_learner_code(l.file()))
            .and_then(|_| learner_frame());
        let location = info
            .location()
            .map(
                |l| match human::panic_place(l.file(), l.line(), "the check") {
                    place if human::in_checks(l.file()) => format!(", {place}"),
                    _ if called_from.is_some() => format!(
                        " (at {}, in a call into Rust's library)",
                        called_from.as_deref().unwrap_or_default()
                    ),
                    place => format!(" ({place})"),
                },
            )
            .unwrap_or_default();
        let text = payload_text(info.payload());
        let rewrite = *REWRITER.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(explained) = rewrite.and_then(|rewrite| rewrite(&text)) {
            fail_now_with(explained);
        }
        let message = format!("{}{location}", explain_panic(&text));
        *last_panic_cause() = info
            .location()
            .filter(|l| in_learner_code(l.file()) || called_from.is_some())
            .filter(|_| !text.starts_with("not yet implemented"))
            .map(|_| CODE_PANICKED);
        if is_abort_after_double_panic(&text) {
            // Both panics would be lost in "killed by signal 6".
            let (first, then) = THIS_THREADS_PANICS.with(|p| {
                let p = p.borrow();
                let n = p.len();
                match n {
                    0 => (None, None),
                    1 => (p.first().cloned(), None),
                    _ => (p.get(n - 2).cloned(), p.get(n - 1).cloned()),
                }
            });
            fail_now(double_panic_message(first, then));
        }
        THIS_THREADS_PANICS.with(|p| {
            let mut p = p.borrow_mut();
            p.push(message.clone());
            let n = p.len();
            if n > 2 {
                p.drain(..n - 2);
            }
        });
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        // The check's own thread reports its panic as the failure; a panic
        // in another thread is context worth showing if the check fails.
        if name != "main" && name != sync::WITHIN_THREAD {
            eprintln!("a panic in thread `{name}`: {message}");
        }
        *last_panic() = Some(message);
    }));
    let outcome = match panic::catch_unwind(AssertUnwindSafe(check)) {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(Failure { message, cause })) => Outcome::Fail {
            message: human::debug_values(&message),
            cause,
        },
        Err(payload) => {
            let message = last_panic()
                .take()
                .unwrap_or_else(|| explain_panic(&payload_text(payload.as_ref())));
            Outcome::Fail {
                message: human::debug_values(&format!("the code panicked: {message}")),
                cause: last_panic_cause().take().map(String::from),
            }
        }
    };
    let _ = panic::take_hook();
    outcome
}

thread_local! {
    /// This thread's last two panics, for a panic in a destructor that runs
    /// while an earlier panic unwinds (std then aborts the process).
    static THIS_THREADS_PANICS: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The message of the panic std raises (and cannot unwind) when a panic
/// leaves a destructor that runs during unwinding, just before it aborts.
fn is_abort_after_double_panic(text: &str) -> bool {
    text == "panic in a destructor during cleanup"
}

fn double_panic_message(first: Option<String>, then: Option<String>) -> String {
    match (first, then) {
        (Some(first), Some(then)) => format!(
            "the code panicked: {first}; while that panic unwound, a destructor (a `Drop` impl) panicked too: {then}. A panic during unwinding aborts the whole process: make `drop` never panic"
        ),
        (Some(only), None) => format!(
            "a destructor (a `Drop` impl) panicked while an earlier panic unwound: {only}. A panic during unwinding aborts the whole process: make `drop` never panic"
        ),
        _ => "a destructor (a `Drop` impl) panicked while an earlier panic unwound, and that aborts the whole process: make `drop` never panic".to_string(),
    }
}

/// Turns `todo!()`'s message into words for a learner.
fn explain_panic(message: &str) -> String {
    match message.strip_prefix("not yet implemented") {
        Some(rest) => {
            let what = rest.trim_start_matches(':').trim();
            if what.is_empty() {
                "it reached a `todo!()`: that part is not written yet".to_string()
            } else {
                format!("it reached `todo!(\"{what}\")`: that part is not written yet")
            }
        }
        None => message.to_string(),
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

fn run_all(checks: &[Check]) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this program's path: {e}");
            return 2;
        }
    };
    let limit = Duration::from_secs(20);
    let limits = runner::Limits {
        time: limit,
        memory: Some(2048 * 1024 * 1024),
    };
    cleanup::install_interrupt_handler();
    let mut failed = 0;
    for check in checks {
        let report = runner::run_check(&exe, check.id, &limits, &[]);
        match &report.verdict {
            runner::Verdict::Pass => println!("pass  {}", check.id),
            other => {
                failed += 1;
                let cause = other.cause().map(|c| format!(" [{c}]")).unwrap_or_default();
                println!("FAIL  {}{cause}: {}", check.id, other.describe(limit));
            }
        }
    }
    println!("{} passed, {} failed", checks.len() - failed, failed);
    i32::from(failed > 0)
}
