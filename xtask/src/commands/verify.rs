//! `cargo xtask verify`: for maintainers and CI. Every reference solution
//! passes all its checks; every untouched exercise compiles and fails every
//! one of its checks at run time; the recorded originals are up to date.
//! With `--mutants`, the mutant suite instead (see `mutants.rs`).

use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Result;
use course::Step;
use serde::Serialize;

use crate::build::Target;
use crate::grade::{self, StepResult};
use crate::originals;
use crate::repo::Repo;
use crate::report;
use crate::shipped;
use crate::ui::{paint, BAD, BOLD, DIM, NOTE, OK};
use crate::Format;

#[derive(Serialize)]
struct VerifyJson {
    schema_version: u32,
    kind: &'static str,
    ok: bool,
    steps: Vec<StepVerdict>,
}

#[derive(Serialize)]
struct StepVerdict {
    step: String,
    /// Checks that passed against the solution.
    solution_passed: usize,
    /// Checks that failed at run time against the untouched exercise.
    exercise_failed: usize,
    checks: usize,
    /// The exercise is exactly as recorded in xtask/originals.toml.
    pristine: bool,
    problems: Vec<String>,
}

pub fn run(format: Format) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let human = format == Format::Human;
    let originals = originals::load(&repo)?;
    let grading_files = shipped::load(&repo)?;
    shipped::report_differences_elsewhere();
    // Each step's solution, then its untouched exercise. A thread builds
    // them in this order, one ahead of the checks that run here: a build
    // uses about one core of two (a crate's compile waits for the one
    // before), so the next one compiles while these checks run.
    let work: Vec<(&Step, Target)> = repo
        .course
        .steps
        .iter()
        .flat_map(|step| [(step, Target::Solution), (step, Target::Exercise)])
        .collect();
    let verdicts = std::thread::scope(|s| -> Result<Vec<StepVerdict>> {
        let (ready, built) = mpsc::sync_channel::<Result<grade::Prepared>>(0);
        let (repo, work) = (&repo, &work);
        s.spawn(move || {
            for (step, target) in work {
                let prepared = grade::prepare(repo, step, *target, false, &mut grade::Quiet);
                let failed = prepared.is_err();
                if ready.send(prepared).is_err() || failed {
                    break;
                }
            }
        });
        let mut graded = work.iter().map(|&(step, target)| {
            let prepared = built
                .recv()
                .map_err(|_| anyhow::anyhow!("the builder thread stopped"))??;
            match prepared {
                grade::Prepared::Ready(ready) => {
                    grade::run(repo, step, target, ready, &mut grade::Quiet)
                }
                grade::Prepared::CompileError { diagnostics } => {
                    Ok(StepResult::CompileError { diagnostics })
                }
            }
        });
        let mut verdicts = Vec::new();
        for step in &repo.course.steps {
            if human {
                anstream::println!("{} {}", paint(NOTE, "Verifying"), step.id);
            }
            let solution = graded.next().expect("a solution per step")?;
            let exercise = graded.next().expect("an exercise per step")?;
            verdicts.push(verdict(
                repo,
                &originals,
                &grading_files,
                step,
                solution,
                exercise,
            )?);
        }
        Ok(verdicts)
    })?;
    let ok = verdicts.iter().all(|v| v.problems.is_empty());
    if human {
        print_table(&verdicts);
    } else {
        report::print_json(&VerifyJson {
            schema_version: report::SCHEMA_VERSION,
            kind: "verify",
            ok,
            steps: verdicts,
        });
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What went wrong with one step, from its graded solution and exercise.
fn verdict(
    repo: &Repo,
    originals: &originals::Originals,
    grading_files: &shipped::Shipped,
    step: &Step,
    solution: StepResult,
    exercise: StepResult,
) -> Result<StepVerdict> {
    let mut problems = Vec::new();
    let total = step.checks.len();
    if total == 0 {
        problems.push("the manifest lists no checks".to_string());
    }

    let cmp = match originals::compare(repo, originals, step) {
        Ok(cmp) => cmp,
        Err(e) => {
            problems.push(format!("{e:#}"));
            originals::Comparison::default()
        }
    };
    for f in &cmp.changed {
        problems.push(format!("{f} differs from xtask/originals.toml (run `cargo xtask freeze` if the change is meant)"));
    }
    for f in &cmp.missing {
        problems.push(format!("{f} is missing"));
    }
    for f in &cmp.added {
        problems.push(format!(
            "{f} is not in xtask/originals.toml (run `cargo xtask freeze`)"
        ));
    }

    for f in shipped::differences(repo, grading_files, step)? {
        problems.push(format!(
            "{f}: not as recorded in xtask/shipped.toml (run `cargo xtask freeze` if the change is meant)"
        ));
    }

    let solution_passed = match solution {
        StepResult::Ran { checks } => {
            for c in checks.iter().filter(|c| !c.passed()) {
                problems.push(format!("solution fails `{}`: {}", c.info.id, c.message()));
            }
            checks.iter().filter(|c| c.passed()).count()
        }
        StepResult::CompileError { diagnostics } => {
            problems.push(format!(
                "the solution does not compile:\n{}",
                report::strip_ansi(
                    &diagnostics
                        .iter()
                        .map(|d| d.rendered.as_str())
                        .collect::<String>()
                )
            ));
            0
        }
    };
    let exercise_failed = match exercise {
        StepResult::Ran { checks } => {
            for c in &checks {
                match c.report.verdict.status() {
                    "pass" => problems.push(format!(
                        "the untouched exercise passes `{}`: the check cannot fail",
                        c.info.id
                    )),
                    "error" => {
                        problems.push(format!("`{}` could not run: {}", c.info.id, c.message()))
                    }
                    _ => {}
                }
            }
            checks
                .iter()
                .filter(|c| matches!(c.report.verdict.status(), "fail" | "timeout" | "crash"))
                .count()
        }
        StepResult::CompileError { diagnostics } => {
            problems.push(format!(
                "the untouched exercise does not compile (its checks must fail at run time, not at compile time):\n{}",
                report::strip_ansi(&diagnostics.iter().map(|d| d.rendered.as_str()).collect::<String>())
            ));
            0
        }
    };
    Ok(StepVerdict {
        step: step.id.clone(),
        solution_passed,
        exercise_failed,
        checks: total,
        pristine: cmp.pristine(),
        problems,
    })
}

fn print_table(verdicts: &[StepVerdict]) {
    let w = verdicts
        .iter()
        .map(|v| v.step.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!();
    anstream::println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:<w$}  {:>14}  {:>22}  {:>8}  result",
                "step", "solution pass", "exercise fails at run", "pristine"
            )
        )
    );
    for v in verdicts {
        let result = if v.problems.is_empty() {
            paint(OK, "ok")
        } else {
            paint(BAD, "PROBLEM")
        };
        anstream::println!(
            "{:<w$}  {:>14}  {:>22}  {:>8}  {result}",
            v.step,
            format!("{}/{}", v.solution_passed, v.checks),
            format!("{}/{}", v.exercise_failed, v.checks),
            if v.pristine { "yes" } else { "no" },
        );
    }
    for v in verdicts.iter().filter(|v| !v.problems.is_empty()) {
        anstream::println!("\n{} {}", paint(BAD, "problems in"), v.step);
        for p in &v.problems {
            anstream::println!("  {} {p}", paint(DIM, "-"));
        }
    }
    let bad = verdicts.iter().filter(|v| !v.problems.is_empty()).count();
    println!();
    if bad == 0 {
        anstream::println!(
            "{} every solution passes and every untouched exercise fails at run time.",
            paint(OK, "verified:")
        );
    } else {
        anstream::println!(
            "{} {bad} step(s) have problems.",
            paint(BAD, "not verified:")
        );
    }
}
