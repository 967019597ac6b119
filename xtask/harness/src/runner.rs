//! Running one check in its own process, under a time limit, leaving nothing
//! behind. Used by the grader and by a checks binary run on its own.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::capture::Capture;
use crate::{cleanup, containment, Outcome};

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The check ran and found something wrong; `cause` is the mistake it
    /// recognised, when it could tell (see [`crate::Failure`]).
    Fail {
        message: String,
        cause: Option<String>,
    },
    /// The check did not finish within its time limit and was killed.
    Timeout,
    /// The check process ran out of the memory it may use (and was aborted).
    OutOfMemory {
        mib: u64,
    },
    /// The check process died without reporting (abort, stack overflow,
    /// `process::exit`, a signal).
    Crash(String),
    /// The check could not be started at all.
    Error(String),
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// The cause the check named for its failure, if it named one.
    pub fn cause(&self) -> Option<&str> {
        match self {
            Verdict::Fail { cause, .. } => cause.as_deref(),
            _ => None,
        }
    }

    /// The failure in one message (empty for a pass).
    pub fn describe(&self, limit: Duration) -> String {
        match self {
            Verdict::Pass => String::new(),
            Verdict::Fail { message, .. } => message.clone(),
            Verdict::Timeout => format!(
                "did not finish in {} s: a deadlock or an endless loop?",
                limit.as_secs_f64()
            ),
            Verdict::OutOfMemory { mib } => format!(
                "used more than {mib} MiB of memory, the limit for one check: look for a collection that grows without end, or a size computed from a wrong number"
            ),
            Verdict::Crash(how) => format!("the check process {how} before it could report"),
            Verdict::Error(e) => e.clone(),
        }
    }

    /// The short status word used in tables and JSON.
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Timeout => "timeout",
            Verdict::Crash(_) | Verdict::OutOfMemory { .. } => "crash",
            Verdict::Error(_) => "error",
        }
    }
}

/// Everything the grader shows about one check.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub verdict: Verdict,
    pub duration: Duration,
    /// What the code under test printed (stdout then stderr), trimmed.
    pub output: String,
    /// The timeline the check recorded, if it recorded one and reported.
    pub trace: Option<crate::trace::Trace>,
}

/// The limits one check runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Killed after this long (only to catch hangs: no verdict depends on it).
    pub time: Duration,
    /// The most memory (bytes) the check process may allocate, where the OS
    /// lets us bound it (see [`containment`]).
    pub memory: Option<u64>,
}

/// Runs `<exe> --run <id>` in a fresh process group under `limits`, kills
/// the whole group (and, on Linux, anything that escaped it) afterwards, and
/// reads back the outcome. The check proves its outcome with a token handed
/// to it on stdin (see [`crate::seal`]), so code under test cannot forge a
/// pass by writing the result file itself.
pub fn run_check(
    exe: &Path,
    id: &str,
    limits: &Limits,
    env: &[(OsString, OsString)],
) -> CheckReport {
    let started = Instant::now();
    let mut trace = None;
    let report = |verdict, output, trace| CheckReport {
        verdict,
        duration: started.elapsed(),
        output,
        trace,
    };
    containment::adopt_orphans();
    let files = match RunFiles::new() {
        Ok(f) => f,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot create temporary files: {e}")),
                String::new(),
                None,
            )
        }
    };
    let token = crate::seal::new_token();
    let stdin = match token_pipe(&token) {
        Ok(reader) => reader,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot make a pipe for the check: {e}")),
                String::new(),
                None,
            )
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--run")
        .arg(id)
        .arg("--result")
        .arg(&files.result)
        .stdin(stdin);
    // A file the code under test writes with a relative path lands in the
    // run's own folder (removed afterwards), never in the exercise, where
    // `watch` would see it.
    if let Some(dir) = files.result.parent() {
        cmd.current_dir(dir);
    }
    // What it prints goes through pipes, kept within bounds (see `capture`).
    let pipes = std::io::pipe().and_then(|out| Ok((out, std::io::pipe()?)));
    let ((out_reader, out_writer), (err_reader, err_writer)) = match pipes {
        Ok(pipes) => pipes,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot make a pipe for the check's output: {e}")),
                String::new(),
                None,
            )
        }
    };
    cmd.stdout(out_writer).stderr(err_writer);
    for (k, v) in env {
        cmd.env(k, v);
    }
    containment::new_group(&mut cmd);
    if let Some(bytes) = limits.memory {
        containment::limit_memory(&mut cmd, bytes);
    }
    // Held until the check has ended: if this process dies first, the
    // check ends itself and what it started (see `parent_watch`).
    let run = files
        .result
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lifeline = crate::parent_watch::lifeline(&mut cmd, &run);
    let (mut child, listed) = match cleanup::spawn_check(&run, || cmd.spawn()) {
        Ok(c) => c,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot start {}: {e}", exe.display())),
                String::new(),
                None,
            )
        }
    };
    // The pipes' other ends now belong to the child alone.
    drop(cmd);
    let captured = [Capture::start(out_reader), Capture::start(err_reader)];
    // The whole tree's memory, where RLIMIT_DATA cannot see it (Linux).
    let tree = limits
        .memory
        .map(|bytes| crate::tree_memory::Watch::start(child.id(), bytes));
    let waited = child.wait_timeout(limits.time);
    if matches!(waited, Ok(None)) {
        // Out of time: first the timeline it had recorded, if it can say.
        crate::time_limit::ask(&mut child);
    }
    // Whatever happened, nothing the check started may keep running.
    containment::kill_group(&mut child);
    let _ = child.wait();
    let tree_over = tree.is_some_and(crate::tree_memory::Watch::finish);
    lifeline.end();
    drop(listed);
    cleanup::end_orphans();
    let output = shown(captured.map(Capture::finish));
    if let (true, Some(bytes)) = (tree_over, limits.memory) {
        return report(
            Verdict::OutOfMemory {
                mib: bytes / (1024 * 1024),
            },
            output,
            None,
        );
    }
    let status = match waited {
        Ok(Some(status)) => status,
        Ok(None) => {
            // The verdict is the timeout; of what it wrote, only the trace.
            let recorded = read_outcome(&files.result, &token)
                .ok()
                .and_then(|(_, t)| t);
            return report(Verdict::Timeout, output, recorded);
        }
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot wait for the check: {e}")),
                output,
                None,
            )
        }
    };
    let verdict = match read_outcome(&files.result, &token) {
        Ok((outcome, recorded)) => {
            trace = recorded;
            match outcome {
                Outcome::Pass => Verdict::Pass,
                Outcome::Fail { message, cause } => Verdict::Fail { message, cause },
            }
        }
        Err(ResultFile::Forged) => Verdict::Fail {
            message: "the check's result file was not written by the check harness (it does not carry this run's token): the code under test must not write the grader's files"
                .to_string(),
            cause: None,
        },
        Err(ResultFile::Missing) => match limits.memory {
            Some(bytes) if ran_out_of_memory(&output) => Verdict::OutOfMemory {
                mib: bytes / (1024 * 1024),
            },
            _ => match could_not_write_result(status, &output, &files.result) {
                // The disk is full, or the temp folder went away: the
                // machine's problem, not the learner's.
                Some(line) => Verdict::Error(format!(
                    "the check could not write its result ({line}); is the disk full?"
                )),
                None => Verdict::Crash(describe_exit(status)),
            },
        },
    };
    report(verdict, output, trace)
}

/// Runs `<exe> --list` the way a check runs (its own process group, the
/// memory limit, the time limit, everything it started killed afterwards,
/// an interrupt ending it): the checks binary's code, and so the learner's
/// (statics, anything run at start), runs already when it lists its checks.
/// The ids it printed, or why there are none.
pub fn list_checks(exe: &Path, limits: &Limits) -> Result<Vec<String>, String> {
    containment::adopt_orphans();
    let files = RunFiles::new().map_err(|e| format!("cannot create temporary files: {e}"))?;
    let out = File::create(&files.stdout)
        .map_err(|e| format!("cannot create {}: {e}", files.stdout.display()))?;
    let err = File::create(&files.stderr)
        .map_err(|e| format!("cannot create {}: {e}", files.stderr.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--list")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    containment::new_group(&mut cmd);
    if let Some(bytes) = limits.memory {
        containment::limit_memory(&mut cmd, bytes);
    }
    let (mut child, listed) = cleanup::spawn_listed(true, || cmd.spawn())
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    drop(cmd);
    let waited = child.wait_timeout(limits.time);
    containment::kill_group(&mut child);
    let _ = child.wait();
    drop(listed);
    cleanup::end_orphans();
    match waited {
        Ok(Some(status)) if status.success() => {
            let text = std::fs::read_to_string(&files.stdout).unwrap_or_default();
            Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
        }
        Ok(Some(status)) => Err(format!(
            "the checks binary {} could not list its checks: it {}{}",
            exe.display(),
            describe_exit(status),
            match files.output() {
                o if o.is_empty() => String::new(),
                o => format!(":\n{o}"),
            }
        )),
        Ok(None) => Err(format!(
            "the checks binary {} did not list its checks within {} s: code that runs when it starts (a static, a `LazyLock`, a constructor in the exercise) never finishes",
            exe.display(),
            limits.time.as_secs_f64()
        )),
        Err(e) => Err(format!("cannot wait for {}: {e}", exe.display())),
    }
}

/// A pipe that holds `token` and a newline and is then closed for writing:
/// the child reads the token, then end-of-file. Written before the child
/// exists, so writing can never block or fail on a child that is gone.
fn token_pipe(token: &str) -> std::io::Result<std::io::PipeReader> {
    let (reader, mut writer) = std::io::pipe()?;
    writer.write_all(format!("{token}\n").as_bytes())?;
    Ok(reader)
}

/// The harness's line when it cannot write the result file (it exits with
/// code 3 then: see `report` in lib.rs).
fn could_not_write_result(status: ExitStatus, output: &str, result: &Path) -> Option<String> {
    let said = format!("cannot write {}: ", result.display());
    (status.code() == Some(3))
        .then(|| output.lines().find(|l| l.starts_with(&said)))
        .flatten()
        .map(str::to_string)
}

/// What the check printed, as the grader shows it: stdout then stderr,
/// each trimmed.
fn shown(streams: [crate::capture::Kept; 2]) -> String {
    let mut text = String::new();
    for kept in streams {
        let part = kept.text();
        text.push_str(part.trim_end());
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text.trim_end().to_string()
}

/// Rust's words when an allocation fails (std's default handler prints them
/// before it aborts the process).
fn ran_out_of_memory(output: &str) -> bool {
    output.contains("memory allocation of") && output.contains("failed")
}

enum ResultFile {
    /// No result, or not one the harness wrote.
    Missing,
    /// A result whose seal does not match this run's token.
    Forged,
}

fn read_outcome(
    path: &Path,
    token: &str,
) -> Result<(Outcome, Option<crate::trace::Trace>), ResultFile> {
    let text = std::fs::read_to_string(path).map_err(|_| ResultFile::Missing)?;
    if text.is_empty() {
        return Err(ResultFile::Missing);
    }
    let sealed: crate::seal::Sealed =
        serde_json::from_str(&text).map_err(|_| ResultFile::Forged)?;
    sealed.open_with_trace(token).ok_or(ResultFile::Forged)
}

/// "exited with code 101", "was killed by signal 6 (SIGABRT)", ...
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGABRT => " (SIGABRT: an abort)",
                libc::SIGSEGV => " (SIGSEGV: a stack overflow or a bad memory access)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGBUS => " (SIGBUS)",
                libc::SIGTERM => " (SIGTERM)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended without an exit code".to_string(),
    }
}

/// The temporary files one check run writes to, in a directory of their
/// own that is removed when the run ends, or when the grader is interrupted.
struct RunFiles {
    /// The folder's lock file, locked for as long as the folder is in use
    /// (see [`sweep_abandoned`]). The list of temporary files holds it, so
    /// that it is closed before the folder is removed, on Windows too, both
    /// here (dropped first) and when the grader is stopped.
    _owner: cleanup::Registered,
    _dir: tempfile::TempDir,
    _listed: cleanup::Registered,
    result: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// What a run folder's name starts with.
const RUN_PREFIX: &str = "course-check-";
/// The file in a run folder that its grader holds locked.
const OWNER_LOCK: &str = "owner.lock";

impl RunFiles {
    fn new() -> std::io::Result<RunFiles> {
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(|| sweep_abandoned(&std::env::temp_dir()));
        let (dir, listed, owner) = cleanup::create_listed(|| {
            let dir = tempfile::Builder::new().prefix(RUN_PREFIX).tempdir()?;
            let path = dir.path().to_path_buf();
            // Locked under another name first: a sweep never sees the lock
            // file of a folder before it is held.
            let held = path.join("owner.lock.new");
            let owner = File::create(&held)?;
            owner.lock()?;
            std::fs::rename(&held, path.join(OWNER_LOCK))?;
            Ok((dir, path, owner))
        })?;
        let path = dir.path().to_path_buf();
        Ok(RunFiles {
            _owner: owner,
            _listed: listed,
            result: path.join("result.json"),
            stdout: path.join("stdout"),
            stderr: path.join("stderr"),
            _dir: dir,
        })
    }

    /// The captured output, at most a few KiB of it.
    fn output(&self) -> String {
        const MAX: usize = 8 * 1024;
        let mut text = String::new();
        for file in [&self.stdout, &self.stderr] {
            let mut bytes = Vec::new();
            if let Ok(mut f) = File::open(file) {
                let _ = Read::by_ref(&mut f)
                    .take(MAX as u64 + 1)
                    .read_to_end(&mut bytes);
            }
            let mut part = String::from_utf8_lossy(&bytes).into_owned();
            if part.len() > MAX {
                let mut cut = MAX;
                while !part.is_char_boundary(cut) {
                    cut -= 1;
                }
                part.truncate(cut);
                part.push_str("\n[... output cut ...]");
            }
            text.push_str(part.trim_end());
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
        }
        text.trim_end().to_string()
    }
}

/// Removes the run folders that no grader holds any more. A grader removes
/// its own when each check ends, and a check removes its grader's when the
/// grader is killed while the check runs; a folder whose check had already
/// ended (it aborted, or it was between ending and being cleaned up) when
/// its grader was killed is left. The next grader finds it here: no one
/// holds its lock file.
fn sweep_abandoned(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(RUN_PREFIX) {
            continue;
        }
        let dir = entry.path();
        // A folder without the file (being made, or of an older grader) is
        // not this sweep's to judge.
        let Ok(lock) = File::open(dir.join(OWNER_LOCK)) else {
            continue;
        };
        if lock.try_lock().is_ok() {
            drop(lock);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_removes_only_run_folders_no_grader_holds() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, with_lock: bool| {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("result.json"), "{}").unwrap();
            with_lock.then(|| File::create(dir.join(OWNER_LOCK)).unwrap())
        };
        let held = make("course-check-held", true).unwrap();
        held.lock().unwrap();
        drop(make("course-check-abandoned", true));
        make("course-check-being-made", false);
        drop(make("someone-else", true));
        sweep_abandoned(temp.path());
        let mut left: Vec<String> = std::fs::read_dir(temp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "course-check-being-made",
                "course-check-held",
                "someone-else"
            ]
        );
        // A run folder made by the runner is held until it is dropped.
        let files = RunFiles::new().unwrap();
        let dir = files.result.parent().unwrap().to_path_buf();
        sweep_abandoned(dir.parent().unwrap());
        assert!(dir.join(OWNER_LOCK).exists(), "a folder in use was swept");
        drop(files);
        assert!(!dir.exists());
    }
}
