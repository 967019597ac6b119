//! `cargo xtask book-traces`: records the timelines the chapters show.
//!
//! For each step with a `[step.trace]` in the manifest, the named check is
//! run twice, as the grader runs it: once against the reference solution,
//! which must pass it, and once against the named wrong mutant (graded in
//! the mutant suite's scratch workspace, see `mutants.rs`), which must fail
//! it. Each run's trace becomes a picture in `book/src/traces/<step>/`
//! (`right.svg`, `wrong.svg`), which `{{#course-trace <step>}}` shows.
//! Nothing is written for a step whose pair does not come out that way, so
//! a picture in the book is always of a pass and of a failure.
//!
//! With `--out DIR` the pictures go to `DIR/traces/<step>/` instead, and
//! the book is left alone: CI runs it that way, so a change that stops a
//! traced check from passing, failing or recording is found there.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use check_harness::runner::{self, CheckReport};
use check_harness::trace::Trace;
use course::{BookTrace, Step};

use crate::build::{self, Built, Target};
use crate::commands::mutants::{self, Expect, Mutant, Scratch};
use crate::grade;
use crate::repo::Repo;
use crate::trace_files;
use crate::ui::{paint, BAD, NOTE, OK};

pub fn run(only_step: Option<&str>, out: Option<PathBuf>) -> Result<ExitCode> {
    let repo = Repo::open()?;
    // Where `traces/<step>/...` goes: the book's sources, or `--out`.
    let root = match out {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => repo.path("book/src"),
    };
    let only = only_step
        .map(|s| repo.step(s))
        .transpose()?
        .map(|s| s.id.clone());
    let steps: Vec<&Step> = repo
        .course
        .steps
        .iter()
        .filter(|s| s.trace.is_some() && only.as_ref().is_none_or(|id| *id == s.id))
        .collect();
    if steps.is_empty() {
        bail!("no step to record: give a step with a [step.trace] in course.toml, or none for all of them");
    }
    let scratch = Scratch::open(&repo)?;
    let mut failed = 0;
    for step in steps {
        let trace = step.trace.as_ref().expect("filtered above");
        anstream::println!(
            "{} {} {} (solution, then mutant {})",
            paint(NOTE, "Recording"),
            step.short_id(),
            trace.check,
            trace.wrong
        );
        match record(&repo, &scratch, step, trace, &root) {
            Ok(written) => {
                for path in written {
                    anstream::println!("  {} {}", paint(OK, "wrote"), path.display());
                }
            }
            Err(e) => {
                failed += 1;
                anstream::println!("  {} {e:#}", paint(BAD, "not recorded:"));
            }
        }
        scratch.restore(&repo, step)?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Records one step's pair under `root`; the files written.
fn record(
    repo: &Repo,
    scratch: &Scratch,
    step: &Step,
    trace: &BookTrace,
    root: &Path,
) -> Result<Vec<PathBuf>> {
    let mutant = mutants::load(&repo.root, step)?
        .into_iter()
        .find(|m| m.name == trace.wrong)
        .with_context(|| {
            format!(
                "[step.trace] names mutant `{}`, but {}/mutants has no `{}.patch`",
                trace.wrong,
                step.checks_crate(),
                trace.wrong
            )
        })?;
    shows_the_mistake(&mutant, trace)?;

    let right = match build::build_checks(repo, step, Target::Solution, false, &mut |_| {})? {
        Built::Ok { exe, .. } => run_traced(repo, step, &trace.check, &exe)?,
        Built::Failed { .. } => bail!("the reference solution does not compile"),
    };
    if !right.verdict.passed() {
        bail!(
            "the reference solution does not pass `{}`: {}",
            trace.check,
            right.verdict.status()
        );
    }
    let ws_step = scratch.step(&step.id)?;
    let wrong = match scratch.build(ws_step, &mutant)? {
        (Built::Ok { exe, .. }, true, _) => run_traced(&scratch.ws, ws_step, &trace.check, &exe)?,
        (Built::Ok { .. }, false, _) => bail!("the build did not recompile the mutant"),
        (Built::Failed { .. }, ..) => bail!("mutant `{}` does not compile", mutant.name),
    };
    if wrong.verdict.passed() {
        bail!("mutant `{}` passes `{}`", mutant.name, trace.check);
    }

    let right_trace = traced(right, "the reference solution")?;
    let wrong_trace = traced(wrong, &format!("mutant {}", mutant.name))?;
    // The learner with this mistake sees the chart under the ✗ only when the
    // check says its timeline explains the failure.
    if !wrong_trace.explains_failure {
        bail!(
            "`{}` records a timeline for mutant `{}` but does not say that it explains the failure, so the terminal would not draw it",
            trace.check,
            mutant.name
        );
    }
    let short = step.short_id();
    let mut written = Vec::new();
    for (file, trace_of, who) in [
        (
            BookTrace::right_svg(&step.id),
            &right_trace,
            "the reference solution: passed".to_string(),
        ),
        (
            BookTrace::wrong_svg(&step.id),
            &wrong_trace,
            format!("wrong answer {}: failed", mutant.name),
        ),
    ] {
        let path = root.join(&file);
        write(
            &path,
            &trace_files::svg(trace_of, &format!("{short} · {} · {who}", trace.check)),
        )?;
        written.push(path);
    }
    Ok(written)
}

/// The mutant must be a wrong answer whose header says the traced check
/// rejects it: the picture is of that check failing.
fn shows_the_mistake(mutant: &Mutant, trace: &BookTrace) -> Result<()> {
    if mutant.expect != Expect::Wrong || !mutant.rejected_by.contains(&trace.check) {
        bail!(
            "mutant `{}` is not a wrong answer that `{}` rejects (its header says: {:?}, rejected by {:?})",
            mutant.name,
            trace.check,
            mutant.expect,
            mutant.rejected_by
        );
    }
    Ok(())
}

/// Runs one check as the grader does (its limits, the grader's environment).
fn run_traced(repo: &Repo, step: &Step, check: &str, exe: &Path) -> Result<CheckReport> {
    let info = step
        .checks
        .iter()
        .find(|c| c.id == check)
        .context("[step.trace] names an unknown check")?;
    let env: Vec<(OsString, OsString)> = vec![("RUST_BACKTRACE".into(), "0".into())];
    Ok(runner::run_check(
        exe,
        check,
        &grade::limits(repo, step, info),
        &env,
    ))
}

fn traced(report: CheckReport, who: &str) -> Result<Trace> {
    report
        .trace
        .with_context(|| format!("the check recorded no trace for {who} (is COURSE_NO_TRACE set?)"))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(expect: Expect, rejected_by: &[&str]) -> Mutant {
        Mutant {
            step: "step2-offloading".into(),
            name: "job-on-the-loop".into(),
            path: PathBuf::from("checks/step2-offloading/mutants/job-on-the-loop.patch"),
            expect,
            rejected_by: rejected_by.iter().map(|s| s.to_string()).collect(),
            causes: Default::default(),
            mistake: String::new(),
            source: String::new(),
        }
    }

    #[test]
    fn the_wrong_picture_is_of_the_traced_check_failing() {
        let trace = BookTrace {
            check: "stays-responsive".into(),
            wrong: "job-on-the-loop".into(),
            look: "Look.".into(),
        };
        let named = mutant(Expect::Wrong, &["stays-responsive", "result-once"]);
        assert!(shows_the_mistake(&named, &trace).is_ok());
        // Rejected, but by other checks: the traced one would pass.
        let elsewhere = mutant(Expect::Wrong, &["result-once"]);
        let err = shows_the_mistake(&elsewhere, &trace)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a wrong answer that `stays-responsive` rejects"),
            "{err}"
        );
        // A right answer passes every check.
        assert!(shows_the_mistake(&mutant(Expect::Right, &[]), &trace).is_err());
    }
}
