//! Grading one step: build its checks, run each check in its own process
//! under its time limit, collect the verdicts.

use std::ffi::OsString;
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
        Built::Failed { diagnostics } => return Ok(StepResult::CompileError { diagnostics }),
    };
    progress.built(&warnings);
    ensure_same_checks(repo, &exe, step)?;
    // Clean panic messages: the grader shows where the panic happened itself.
    let env: Vec<(OsString, OsString)> = vec![("RUST_BACKTRACE".into(), "0".into())];
    let mut checks = Vec::new();
    for info in &step.checks {
        let limits = limits(repo, step, info);
        let limit = limits.time;
        if let Some(held) = held.as_ref().filter(|h| !h.unchanged()) {
            crate::stamp::forget(repo, &build::stamp_name(step, target));
            bail!(
                "grader error: the checks binary {} was changed while the checks of {} ran (by the code under test?). Nothing was recorded; the next check builds it again",
                held.exe.display(),
                step.id
            );
        }
        let report = runner::run_check(&exe, &info.id, &limits, &env);
        if let runner::Verdict::Error(why) = &report.verdict {
            // The grader's own machinery failed: no verdict on the learner.
            bail!(
                "grader error while running check {} of {}: {why}. Nothing was recorded; this is a problem of this machine or of the grader, not of your code",
                info.id,
                step.id
            );
        }
        let graded = Graded {
            info: info.clone(),
            limit,
            report,
        };
        progress.check_done(&graded);
        checks.push(graded);
    }
    Ok(StepResult::Ran { checks })
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
