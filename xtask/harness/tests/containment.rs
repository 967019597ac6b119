//! The harness's promises about the processes a check starts, tested without
//! cargo, so that the same binary also runs where cargo does not (built for
//! Windows and run under Wine by `.ci/wine`):
//!
//! * a check that hangs is killed at its time limit, and the grandchild it
//!   started is gone afterwards;
//! * a check that passes leaves no grandchild running either;
//! * a check that allocates without end is stopped at its memory limit;
//! * stopping everything (what an interrupt does) ends a running check and
//!   its grandchild, and removes the check's temporary files.
//!
//! This file is its own `main` (`harness = false`): run by the test, it is
//! the checks binary too (`--run <id> --result <file>`), and the grandchild
//! (`grandchild <note>`). A grandchild connects to the test over TCP and
//! keeps the connection open while it lives: the test learns that it runs
//! when it connects, and that it is gone when the connection closes, which
//! the OS does when the process ends however it ends.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use check_harness::runner::{self, Limits, Verdict};
use check_harness::{cleanup, ensure, fail, Check, CheckResult, Failure};

/// The address of the test's listener, passed on to the grandchild.
const ADDR_ENV: &str = "CONTAINMENT_TEST_ADDR";

/// Set (to the reason) where the OS does not enforce the memory limit, so
/// that test is reported as skipped: `.ci/wine` sets it, as Wine 8 accepts
/// a job's memory limit but does not enforce it.
const NO_MEMORY_LIMIT_ENV: &str = "CONTAINMENT_TEST_NO_MEMORY_LIMIT";

/// How long the test waits for something that should happen at once; only
/// there to end a hang (Wine starts processes slowly on a loaded machine).
const BOUND: Duration = Duration::from_secs(60);

const CHECKS: &[Check] = &[
    Check::new("hangs", hangs),
    Check::new("passes-leaving-a-grandchild", passes_leaving_a_grandchild),
    Check::new("allocates", allocates),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--run") => check_harness::main(CHECKS),
        Some("grandchild") => grandchild(args.get(2).map(String::as_str).unwrap_or("-")),
        // Run as a test (cargo test may pass its own arguments).
        _ => std::process::exit(run_tests()),
    }
}

const MEMORY_LIMIT_TEST: &str = "a check that allocates without end is stopped at its memory limit";

type Test = (&'static str, fn() -> CheckResult);

fn run_tests() -> i32 {
    // The last one stops everything for good: nothing can run after it.
    let tests: &[Test] = &[
        (
            "a hanging check is killed at its limit and its grandchild is gone",
            hanging_check_is_killed_at_its_limit,
        ),
        (
            "a check that passes leaves no grandchild running",
            passing_check_leaves_no_grandchild,
        ),
        (MEMORY_LIMIT_TEST, allocation_is_stopped_at_the_limit),
        (
            "stopping everything ends a running check and its grandchild, and removes its files",
            stopping_everything_ends_the_check_and_its_files,
        ),
    ];
    let mut failed = 0;
    let mut skipped = 0;
    for (name, test) in tests {
        let started = Instant::now();
        if *name == MEMORY_LIMIT_TEST {
            if let Ok(why) = std::env::var(NO_MEMORY_LIMIT_ENV) {
                skipped += 1;
                println!("skip  {name}: {why}");
                continue;
            }
        }
        match test() {
            Ok(()) => println!("pass  {name} ({:.1} s)", started.elapsed().as_secs_f64()),
            Err(Failure { message: why, .. }) => {
                failed += 1;
                println!("FAIL  {name}: {why}");
            }
        }
    }
    println!(
        "containment: {} passed, {failed} failed, {skipped} skipped",
        tests.len() - failed - skipped
    );
    i32::from(failed > 0)
}

// ---- the tests -------------------------------------------------------------

fn hanging_check_is_killed_at_its_limit() -> CheckResult {
    let limit = Duration::from_secs(5);
    let run = start_check("hangs", limit, None)?;
    let (grandchild, pid) = run.accept_grandchild()?;
    let report = run.finish()?;
    ensure!(
        report.verdict == Verdict::Timeout,
        "expected a timeout, got {:?} ({})",
        report.verdict,
        report.output
    );
    ensure!(
        report.duration >= limit,
        "reported a timeout after {:?}, before the limit of {limit:?}",
        report.duration
    );
    ensure!(
        report.duration < limit + Duration::from_secs(30),
        "the check was killed only after {:?}, its limit is {limit:?}",
        report.duration
    );
    ensure_gone(grandchild, &pid)
}

fn passing_check_leaves_no_grandchild() -> CheckResult {
    let run = start_check("passes-leaving-a-grandchild", BOUND, None)?;
    let (grandchild, pid) = run.accept_grandchild()?;
    let report = run.finish()?;
    ensure!(
        report.verdict == Verdict::Pass,
        "expected a pass, got {:?} ({})",
        report.verdict,
        report.output
    );
    ensure_gone(grandchild, &pid)
}

fn allocation_is_stopped_at_the_limit() -> CheckResult {
    let limit = 256 << 20;
    let run = start_check("allocates", BOUND, Some(limit))?;
    let report = run.finish()?;
    ensure!(
        report.verdict == Verdict::OutOfMemory { mib: 256 },
        "expected the memory limit of 256 MiB to stop the check, got {:?} ({})",
        report.verdict,
        report.output
    );
    Ok(())
}

fn stopping_everything_ends_the_check_and_its_files() -> CheckResult {
    let run = start_check("hangs", Duration::from_secs(600), None)?;
    let (grandchild, note) = run.accept_grandchild()?;
    let files = PathBuf::from(note.split_once(' ').map_or("", |(_, dir)| dir));
    ensure!(
        files.is_dir(),
        "the check's temporary directory {} does not exist while it runs",
        files.display()
    );
    let ended = cleanup::stop_everything();
    ensure!(ended == 1, "stop_everything ended {ended} processes, not 1");
    // stop_everything returns once the check process is dead, having removed
    // its files: on Windows only possible after the process is really over.
    ensure!(
        !files.exists(),
        "the check's temporary directory {} is still there after stop_everything",
        files.display()
    );
    // The runner's thread now waits forever to take the stopped list, as the
    // grader's would: it exits right after stop_everything.
    drop(run);
    ensure_gone(grandchild, &note)
}

// ---- the checks (run in the check process) ---------------------------------

/// Starts a grandchild and returns once it has connected to the test.
fn start_grandchild(note: &str) -> Result<std::process::Child, Failure> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["grandchild", note])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    ensure!(
        line.trim() == "connected",
        "the grandchild said {line:?}, not `connected`"
    );
    Ok(child)
}

/// The directory of this check's result file, from its command line.
fn result_dir() -> String {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--result").expect("--result");
    Path::new(&args[at + 1])
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn hangs() -> CheckResult {
    let _grandchild = start_grandchild(&result_dir())?;
    loop {
        std::thread::park();
    }
}

fn passes_leaving_a_grandchild() -> CheckResult {
    // Not waited for, not killed: left running on purpose.
    let _grandchild = start_grandchild("-")?;
    Ok(())
}

fn allocates() -> CheckResult {
    // Far more than the test's limit, but bounded, so that a system that does
    // not enforce the limit fails the test instead of running out of memory.
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    for _ in 0..64 {
        hoard.push(vec![1u8; 16 << 20]);
    }
    fail!(
        "allocated {} MiB, past the limit, and nothing stopped it",
        hoard.len() * 16
    )
}

/// The grandchild: connect to the test, say who we are, tell the check we
/// are there, and keep the connection open for as long as we live.
fn grandchild(note: &str) -> ! {
    let addr = std::env::var(ADDR_ENV).expect("the test's address");
    let mut stream = TcpStream::connect(addr).expect("connect to the test");
    writeln!(stream, "{} {note}", std::process::id()).expect("write to the test");
    println!("connected");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

// ---- helpers (in the test) -------------------------------------------------

struct Run {
    listener: TcpListener,
    report: mpsc::Receiver<runner::CheckReport>,
}

fn start_check(id: &'static str, time: Duration, memory: Option<u64>) -> Result<Run, Failure> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let env: Vec<(OsString, OsString)> =
        vec![(ADDR_ENV.into(), listener.local_addr()?.to_string().into())];
    let exe = std::env::current_exe()?;
    let (tx, report) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(runner::run_check(&exe, id, &Limits { time, memory }, &env));
    });
    Ok(Run { listener, report })
}

impl Run {
    /// The grandchild's connection and its first line (`<pid> <note>`).
    fn accept_grandchild(&self) -> Result<(TcpStream, String), Failure> {
        let listener = self.listener.try_clone()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(listener.accept().map(|(stream, _)| stream));
        });
        let stream = match rx.recv_timeout(BOUND) {
            Ok(accepted) => accepted?,
            Err(_) => fail!("the check's grandchild did not connect within {BOUND:?}"),
        };
        stream.set_read_timeout(Some(BOUND))?;
        let mut line = String::new();
        BufReader::new(stream.try_clone()?).read_line(&mut line)?;
        Ok((stream, line.trim().to_string()))
    }

    fn finish(self) -> Result<runner::CheckReport, Failure> {
        match self.report.recv_timeout(BOUND * 10) {
            Ok(report) => Ok(report),
            Err(_) => fail!("run_check did not return"),
        }
    }
}

/// Waits (bounded) for the grandchild's connection to close: it closes when
/// the grandchild's process ends.
fn ensure_gone(mut grandchild: TcpStream, who: &str) -> CheckResult {
    let pid = who.split(' ').next().unwrap_or(who);
    let mut buf = [0u8; 64];
    loop {
        match grandchild.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                fail!("the check's grandchild (pid {pid}) is still running {BOUND:?} after the check ended")
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Reset or aborted: the other end is gone.
            Err(_) => return Ok(()),
        }
    }
}
