//! Grading one step: build its checks, run each check in its own process
//! under its time limit (several at once where the step says so), collect
//! the verdicts.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Result};
use check_harness::runner::{self, CheckReport};
use course::{CheckInfo, Step};

use crate::build::{self, Built, Diagnostic, Target};
use crate::repo::Repo;

/// One check's verdict with its manifest entry.
#[derive(Debug, Clone)]
pub struct Graded {
    pub info: CheckInfo,
    pub limit: Duration,
    pub report: CheckReport,
}

impl Graded {
    pub fn passed(&self) -> bool {
        self.report.verdict.passed()
    }

    /// The cause the check named for its failure, if it named one.
    pub fn cause(&self) -> Option<&str> {
        self.report.verdict.cause()
    }

    /// The hints this failure shows: its cause's, when `step` gives that
    /// cause hints, else the check's own.
    pub fn ladder<'a>(&'a self, step: &'a Step) -> course::Ladder<'a> {
        step.ladder(&self.info, self.cause())
    }

    /// The failure message, with the check's own words for a time-out.
    pub fn message(&self) -> String {
        match (&self.report.verdict, &self.info.on_timeout) {
            (runner::Verdict::Timeout, Some(said)) => {
                format!("did not finish in {} s: {said}", self.limit.as_secs_f64())
            }
            (verdict, _) => verdict.describe(self.limit),
        }
    }
}

/// How a step's grading went.
pub enum StepResult {
    /// The checks ran.
    Ran { checks: Vec<Graded> },
    /// The graded crate (or the checks, against it) did not compile.
    CompileError { diagnostics: Vec<Diagnostic> },
}

impl StepResult {
    pub fn passed(&self) -> bool {
        match self {
            StepResult::Ran { checks } => checks.iter().all(Graded::passed),
            StepResult::CompileError { .. } => false,
        }
    }

    pub fn counts(&self, step: &Step) -> (usize, usize) {
        match self {
            StepResult::Ran { checks } => {
                (checks.iter().filter(|c| c.passed()).count(), checks.len())
            }
            StepResult::CompileError { .. } => (0, step.checks.len()),
        }
    }
}

/// Callbacks for live output while a step is graded.
pub trait Progress {
    /// A crate had to be compiled.
    fn compiled(&mut self, _crate_name: &str) {}
    /// The build is done; the checks start.
    fn built(&mut self, _warnings: &[Diagnostic]) {}
    /// One check finished.
    fn check_done(&mut self, _graded: &Graded) {}
}

/// Progress that prints nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Builds and runs every check of `step` against `target`.
pub fn grade(
    repo: &Repo,
    step: &Step,
    target: Target,
    colour: bool,
    progress: &mut dyn Progress,
) -> Result<StepResult> {
    match prepare(repo, step, target, colour, progress)? {
        Prepared::Ready(ready) => run(repo, step, target, ready, progress),
        Prepared::CompileError { diagnostics } => Ok(StepResult::CompileError { diagnostics }),
    }
}

/// A step's checks binary, built and found to list the step's checks:
/// [`run`] runs them.
pub struct Ready {
    exe: PathBuf,
    held: Option<crate::kept::Held>,
}

/// What [`prepare`] made of a step.
pub enum Prepared {
    Ready(Ready),
    /// The graded crate (or the checks, against it) did not compile.
    CompileError {
        diagnostics: Vec<Diagnostic>,
    },
}

/// The first half of [`grade`]: builds the checks of `step` against
/// `target` and makes sure they are the ones the manifest lists. `cargo
/// xtask verify` builds the next step this way while the checks of the one
/// before run.
pub fn prepare(
    repo: &Repo,
    step: &Step,
    target: Target,
    colour: bool,
    progress: &mut dyn Progress,
) -> Result<Prepared> {
    let built = build::build_checks(repo, step, target, colour, &mut |name| {
        progress.compiled(name)
    })?;
    // After the build: a build script could have changed them meanwhile.
    crate::shipped::ensure_as_shipped(repo, step)?;
    let (exe, held, warnings) = match built {
        Built::Ok {
            exe,
            held,
            warnings,
        } => (exe, held, warnings),
        Built::Failed { diagnostics } => return Ok(Prepared::CompileError { diagnostics }),
    };
    progress.built(&warnings);
    ensure_same_checks(repo, &exe, step)?;
    Ok(Prepared::Ready(Ready { exe, held }))
}

/// The second half of [`grade`]: runs every check of a prepared step.
pub fn run(
    repo: &Repo,
    step: &Step,
    target: Target,
    ready: Ready,
    progress: &mut dyn Progress,
) -> Result<StepResult> {
    let Ready { exe, held } = ready;
    // Clean panic messages: the grader shows where the panic happened itself.
    let env: Vec<(OsString, OsString)> = vec![("RUST_BACKTRACE".into(), "0".into())];
    // Compared again before each check and once after the last: a binary
    // replaced by code under test is never used for the next check, and no
    // verdict of a run during which it was replaced is kept (a replaced
    // file cannot get its identity back).
    let binary_changed = || {
        held.as_ref().is_some_and(|h| !h.unchanged()).then(|| {
            crate::stamp::forget(repo, &build::stamp_name(step, target));
            anyhow::anyhow!(
                "grader error: the checks binary {} was changed while the checks of {} ran (by the code under test?). Nothing was recorded; the next check builds it again",
                exe.display(),
                step.id
            )
        })
    };
    let checks = run_checks(
        repo,
        step,
        &exe,
        &env,
        &|| binary_changed().map_or(Ok(()), Err),
        &mut |graded| {
            if let runner::Verdict::Error(why) = &graded.report.verdict {
                // The grader's own machinery failed: no verdict on the learner.
                bail!(
                    "grader error while running check {} of {}: {why}. Nothing was recorded; this is a problem of this machine or of the grader, not of your code",
                    graded.info.id,
                    step.id
                );
            }
            progress.check_done(graded);
            Ok(())
        },
    )?;
    if let Some(e) = binary_changed() {
        return Err(e);
    }
    Ok(StepResult::Ran { checks })
}

/// Runs every check of `step` on `exe` as the grader does: each in its own
/// process under the manifest's limits, [`Step::checks_at_once`] of them at
/// a time. `before_each` runs before each check starts; `done` sees each
/// check in the manifest's order, as soon as it and every check before it
/// have ended. An error from either stops new checks from starting and is
/// returned once the running ones have ended.
pub fn run_checks(
    repo: &Repo,
    step: &Step,
    exe: &Path,
    env: &[(OsString, OsString)],
    before_each: &(dyn Fn() -> Result<()> + Sync),
    done: &mut dyn FnMut(&Graded) -> Result<()>,
) -> Result<Vec<Graded>> {
    let at_once = step.checks_at_once.clamp(1, step.checks.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, ended) = mpsc::channel::<(usize, Result<Graded>)>();
    std::thread::scope(|s| {
        for _ in 0..at_once {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(info) = step.checks.get(index) else {
                        break;
                    };
                    let graded = before_each().map(|()| {
                        let limits = limits(repo, step, info);
                        Graded {
                            info: info.clone(),
                            limit: limits.time,
                            report: runner::run_check(exe, &info.id, &limits, env),
                        }
                    });
                    let failed = graded.is_err();
                    if sender.send((index, graded)).is_err() || failed {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut checks = Vec::new();
        let mut error = None;
        for (index, graded) in ended {
            match graded {
                Ok(graded) => {
                    waiting.insert(index, graded);
                }
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    error.get_or_insert(e);
                }
            }
            while error.is_none() {
                let Some(graded) = waiting.remove(&checks.len()) else {
                    break;
                };
                if let Err(e) = done(&graded) {
                    stop.store(true, Ordering::SeqCst);
                    error = Some(e);
                }
                checks.push(graded);
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(checks),
        }
    })
}

/// The time and memory limits the manifest gives one check.
pub fn limits(repo: &Repo, step: &Step, info: &CheckInfo) -> runner::Limits {
    runner::Limits {
        time: step.timeout(&repo.course, info),
        memory: Some(step.memory_limit(&repo.course, info)),
    }
}

/// The checks binary and the manifest must list the same checks: a check
/// without a title and hint, or a title without a check, is a course bug.
fn ensure_same_checks(repo: &Repo, exe: &std::path::Path, step: &Step) -> Result<()> {
    // Listing takes milliseconds; the step's shortest check limit only
    // catches a hang.
    let limits = runner::Limits {
        time: step
            .checks
            .iter()
            .map(|c| step.timeout(&repo.course, c))
            .min()
            .unwrap_or(Duration::from_secs(repo.course.course.timeout_secs)),
        memory: step
            .checks
            .first()
            .map(|c| step.memory_limit(&repo.course, c)),
    };
    let listed =
        runner::list_checks(exe, &limits).map_err(|e| anyhow::anyhow!("grader error: {e}"))?;
    let in_binary: Vec<&str> = listed.iter().map(String::as_str).collect();
    let in_manifest: Vec<&str> = step.checks.iter().map(|c| c.id.as_str()).collect();
    if in_binary != in_manifest {
        bail!(
            "course bug: the checks of {} are {:?} in {}, but course.toml lists {:?}",
            step.id,
            in_binary,
            step.checks_crate(),
            in_manifest
        );
    }
    Ok(())
}
