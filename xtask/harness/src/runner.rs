//! Running one check in its own process, under a time limit, leaving nothing
//! behind. Used by the grader and by a checks binary run on its own.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::{containment, Outcome};

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The check ran and found something wrong.
    Fail(String),
    /// The check did not finish within its time limit and was killed.
    Timeout,
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

    /// The failure in one message (empty for a pass).
    pub fn describe(&self, limit: Duration) -> String {
        match self {
            Verdict::Pass => String::new(),
            Verdict::Fail(message) => message.clone(),
            Verdict::Timeout => format!(
                "did not finish in {} s: a deadlock or an endless loop?",
                limit.as_secs_f64()
            ),
            Verdict::Crash(how) => format!("the check process {how} before it could report"),
            Verdict::Error(e) => e.clone(),
        }
    }

    /// The short status word used in tables and JSON.
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::Timeout => "timeout",
            Verdict::Crash(_) => "crash",
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
}

/// Runs `<exe> --run <id>` in a fresh process group with `limit`, kills the
/// whole group afterwards, and reads back the outcome.
pub fn run_check(
    exe: &Path,
    id: &str,
    limit: Duration,
    env: &[(OsString, OsString)],
) -> CheckReport {
    let started = Instant::now();
    let report = |verdict, output| CheckReport {
        verdict,
        duration: started.elapsed(),
        output,
    };
    let files = match RunFiles::new() {
        Ok(f) => f,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot create temporary files: {e}")),
                String::new(),
            )
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--run")
        .arg(id)
        .arg("--result")
        .arg(files.result.path())
        .stdin(Stdio::null());
    match (files.stdout.reopen(), files.stderr.reopen()) {
        (Ok(out), Ok(err)) => {
            cmd.stdout(out).stderr(err);
        }
        _ => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    containment::new_group(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return report(
                Verdict::Error(format!("cannot start {}: {e}", exe.display())),
                String::new(),
            )
        }
    };
    let waited = child.wait_timeout(limit);
    // Whatever happened, nothing the check started may keep running.
    containment::kill_group(&mut child);
    let status = match waited {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.wait();
            return report(Verdict::Timeout, files.output());
        }
        Err(e) => {
            let _ = child.wait();
            return report(
                Verdict::Error(format!("cannot wait for the check: {e}")),
                files.output(),
            );
        }
    };
    let verdict = match read_outcome(files.result.path()) {
        Some(Outcome::Pass) => Verdict::Pass,
        Some(Outcome::Fail { message }) => Verdict::Fail(message),
        None => Verdict::Crash(describe_exit(status)),
    };
    report(verdict, files.output())
}

fn read_outcome(path: &Path) -> Option<Outcome> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
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

/// The temporary files one check run writes to.
struct RunFiles {
    result: tempfile::NamedTempFile,
    stdout: tempfile::NamedTempFile,
    stderr: tempfile::NamedTempFile,
}

impl RunFiles {
    fn new() -> std::io::Result<RunFiles> {
        Ok(RunFiles {
            result: tempfile::NamedTempFile::new()?,
            stdout: tempfile::NamedTempFile::new()?,
            stderr: tempfile::NamedTempFile::new()?,
        })
    }

    /// The captured output, at most a few KiB of it.
    fn output(&self) -> String {
        const MAX: usize = 8 * 1024;
        let mut text = String::new();
        for file in [&self.stdout, &self.stderr] {
            let mut bytes = Vec::new();
            if let Ok(mut f) = File::open(file.path()) {
                let _ = f.by_ref().take(MAX as u64 + 1).read_to_end(&mut bytes);
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
