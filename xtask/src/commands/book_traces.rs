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

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use check_harness::runner::{self, CheckReport};
use check_harness::trace::Trace;
use course::{BookTrace, Step};

use crate::build::{self, Built, Target};
use crate::commands::mutants::{self, Expect, Scratch};
use crate::grade;
use crate::repo::Repo;
use crate::trace_files;
use crate::ui::{paint, BAD, NOTE, OK};

pub fn run(only_step: Option<&str>) -> Result<ExitCode> {
    let repo = Repo::open()?;
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
        match record(&repo, &scratch, step, trace) {
            Ok(written) => {
                for path in written {
                    anstream::println!("  {} {}", paint(OK, "wrote"), path);
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

/// Records one step's pair; the files written, relative to the root.
fn record(repo: &Repo, scratch: &Scratch, step: &Step, trace: &BookTrace) -> Result<Vec<String>> {
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
    if mutant.expect != Expect::Wrong || !mutant.rejected_by.contains(&trace.check) {
        bail!(
            "mutant `{}` is not a wrong answer that `{}` rejects (its header says: {:?}, rejected by {:?})",
            mutant.name,
            trace.check,
            mutant.expect,
            mutant.rejected_by
        );
    }

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
        let relative = format!("book/src/{file}");
        let path = repo.path(&relative);
        write(
            &path,
            &trace_files::svg(trace_of, &format!("{short} · {} · {who}", trace.check)),
        )?;
        written.push(relative);
    }
    Ok(written)
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
