//! `cargo xtask check <step> [--solution] [--all] [--format json]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use course::Step;

use crate::board_link;
use crate::build::{self, Diagnostic, Target};
use crate::chart;
use crate::grade::{self, Graded, StepResult};
use crate::originals;
use crate::pinned;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::report::{self, CheckJson, Totals};
use crate::rustc_help;
use crate::trace_files;
use crate::ui::{self, paint, say, BAD, BOLD, DIM, NOTE, OK, WARN};
use crate::Format;

pub fn run(
    step: Option<&str>,
    all: bool,
    solution: bool,
    format: Format,
    trace: Option<Option<PathBuf>>,
) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let trace_dir = trace.map(|dir| dir.unwrap_or_else(|| repo.path("target/traces")));
    let target = if solution {
        Target::Solution
    } else {
        Target::Exercise
    };
    let steps: Vec<&Step> = if all {
        repo.course.steps.iter().collect()
    } else {
        vec![repo.step(step.expect("clap requires a step unless --all"))?]
    };
    let mut results = Vec::new();
    for step in &steps {
        let result = check_step(&repo, step, target, format)?;
        if let (Some(dir), StepResult::Ran { checks }) = (&trace_dir, &result) {
            write_traces(&dir.join(&step.id), &step.id, checks, format)?;
        }
        results.push(result);
    }
    let all_passed = results.iter().all(StepResult::passed);
    match format {
        Format::Json => {
            let mut totals = Totals::default();
            let steps_json: Vec<_> = steps
                .iter()
                .zip(&results)
                .map(|(step, result)| {
                    let json = report::step_json(step, target, result);
                    totals.add(json.totals);
                    json
                })
                .collect();
            report::print_json(&CheckJson {
                schema_version: report::SCHEMA_VERSION,
                kind: "check",
                steps: steps_json,
                totals,
            });
        }
        Format::Human if all => print_summary_table(&steps, &results),
        Format::Human => {}
    }
    // Every result is recorded by now.
    ui::end_if_stdout_gone();
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes the traces of one step's checks into `dir` and says where
/// (on stderr, so that `--format json` stays one JSON document on stdout).
fn write_traces(dir: &Path, step_id: &str, checks: &[Graded], format: Format) -> Result<()> {
    let written = trace_files::write(dir, step_id, checks)?;
    if format == Format::Human || !written.is_empty() {
        let said = if written.is_empty() {
            format!("no check of {step_id} recorded a trace")
        } else {
            format!(
                "{} traced checks of {step_id}: an SVG and a .trace.json (for ui.perfetto.dev) each, in {}",
                written.len() / 2,
                dir.display()
            )
        };
        anstream::eprintln!("{} {said}", paint(NOTE, "Traces:"));
    }
    Ok(())
}

/// Grades one step, prints it (in human format) and records progress.
pub fn check_step(repo: &Repo, step: &Step, target: Target, format: Format) -> Result<StepResult> {
    if target == Target::Exercise {
        ensure_exercise_files(repo, step)?;
    }
    let human = format == Format::Human;
    if human {
        let against = match target {
            Target::Exercise => format!("your exercise ({})", step.exercise_crate),
            Target::Solution => format!("the reference solution ({})", step.solution_crate()),
        };
        say!(
            "{} {}. {}: {} against {against}",
            paint(NOTE, "Checking"),
            step.number(),
            step.title,
            step.exercise
        );
    }
    let colour = human && ui::colour_on_stdout();
    // A failing check shows the deepest hint the learner has unfolded for it
    // (the first one the first time); the reference solution's runs and JSON
    // output unfold nothing.
    let hints_seen = match target {
        Target::Exercise if human => Progress::load(repo)
            .get(&step.id)
            .map(|p| p.hints_seen.clone())
            .unwrap_or_default(),
        _ => Default::default(),
    };
    let mut printer = LivePrinter {
        human,
        step: step.clone(),
        hints_seen,
        hints_shown: Vec::new(),
        causes_shown: Vec::new(),
        compiled_any: false,
        own_crates: [
            step.id.clone(),
            format!("{}-solution", step.id),
            step.checks_package(),
        ]
        .map(|name| name.replace('-', "_"))
        .to_vec(),
    };
    let result = grade::grade(repo, step, target, colour, &mut printer)?;
    if human {
        print_outcome(repo, step, target, &result);
    }
    if target == Target::Exercise {
        let (passed, total) = result.counts(step);
        let failing = match &result {
            StepResult::Ran { checks } => checks
                .iter()
                .filter(|c| !c.passed())
                .map(|c| (c.info.id.clone(), c.cause().map(String::from)))
                .collect(),
            StepResult::CompileError { .. } => Vec::new(),
        };
        // After a compile error: which of rustc's errors the chapter
        // teaches, for `hint` to repeat.
        let compile_error: Option<Vec<String>> = match &result {
            StepResult::CompileError { diagnostics } => Some(
                rustc_help::for_errors(step, diagnostics)
                    .iter()
                    .map(|h| h.key())
                    .collect(),
            ),
            StepResult::Ran { .. } => None,
        };
        Progress::record(
            repo,
            &step.id,
            passed,
            total,
            failing,
            compile_error.as_deref(),
            &printer.hints_shown,
        );
        board_link::after(repo, Some((&step.id, &result)));
    }
    Ok(result)
}

/// Stops early, with a way out, when a file of the exercise was deleted.
fn ensure_exercise_files(repo: &Repo, step: &Step) -> Result<()> {
    let Ok(originals) = originals::load(repo) else {
        return Ok(());
    };
    let Ok(cmp) = originals::compare(repo, &originals, step) else {
        return Ok(());
    };
    if let Some(missing) = cmp.missing.first() {
        bail!(
            "{}/{missing} is missing. `cargo xtask reset {}` restores the exercise (it backs up your other files first).",
            step.exercise_crate,
            step.short_id()
        );
    }
    Ok(())
}

struct LivePrinter {
    human: bool,
    /// The step graded: its causes' hints, and its short id for the `hint`
    /// command the output names.
    step: Step,
    /// The deepest hint tier seen per check, and per cause (`cause:<id>`),
    /// before this run.
    hints_seen: std::collections::BTreeMap<String, usize>,
    /// The hints this run showed (check id or `cause:<id>`, tier).
    hints_shown: Vec<(String, usize)>,
    /// The causes shown in full so far: a later check failing for one of
    /// them only says so.
    causes_shown: Vec<String>,
    compiled_any: bool,
    /// The step's own crates (exercise and checks), `-` as `_`: rebuilding
    /// only those is an ordinary rebuild, not a first build.
    own_crates: Vec<String>,
}

impl grade::Progress for LivePrinter {
    fn compiled(&mut self, crate_name: &str) {
        if !self.human {
            return;
        }
        let dependency = !self.own_crates.contains(&crate_name.replace('-', "_"));
        if !self.compiled_any && dependency {
            anstream::eprintln!(
                "{}",
                paint(
                    DIM,
                    "  (compiling; a first build takes up to half a minute)"
                )
            );
            self.compiled_any = true;
        }
        anstream::eprintln!("{}", paint(DIM, format!("  compiled {crate_name}")));
    }

    fn built(&mut self, warnings: &[Diagnostic]) {
        if !self.human {
            return;
        }
        for w in warnings {
            say!("{}", w.rendered.trim_end());
        }
    }

    fn check_done(&mut self, graded: &Graded) {
        if !self.human {
            return;
        }
        if let Some(key) = same_cause_key(graded) {
            if self.causes_shown.contains(&key) {
                print_same_cause(graded, &self.step);
                return;
            }
            self.causes_shown.push(key);
        }
        let ladder = graded.ladder(&self.step);
        let seen = self.hints_seen.get(&ladder.key()).copied().unwrap_or(0);
        let tier = seen.clamp(1, ladder.tiers().max(1));
        print_check(graded, &ladder, tier, self.step.short_id());
        if !graded.passed() {
            self.hints_shown.push((ladder.key(), tier));
        }
    }
}

/// "  ✗ title", and how long the check took when that was long enough to
/// notice (a second or more), so a slow failure can be told from the rest.
fn print_failed_title(graded: &Graded) {
    let took = graded.report.duration;
    if took >= std::time::Duration::from_secs(1) {
        say!(
            "  {} {} {}",
            paint(BAD, "✗"),
            paint(BOLD, &graded.info.title),
            paint(DIM, format!("({})", check_harness::human::duration(took)))
        );
    } else {
        say!("  {} {}", paint(BAD, "✗"), paint(BOLD, &graded.info.title));
    }
}

/// A check that fails for a cause already shown in full above.
fn print_same_cause(graded: &Graded, step: &Step) {
    print_failed_title(graded);
    let said = match graded.cause().and_then(|c| step.cause(c)) {
        Some(cause) => format!("also fails because of the above ({})", cause.title),
        None => "also fails because of the above".to_string(),
    };
    say!("      {}", paint(DIM, said));
}

/// What makes two failures one cause: the cause they name, or, for a
/// panic, the same panic (one panic at one line seen by five checks is one
/// mistake; two different panics are two). A failure that names no cause
/// is a cause of its own. `None` for a pass.
fn same_cause_key(graded: &Graded) -> Option<String> {
    if graded.passed() {
        return None;
    }
    let message = graded.message();
    match graded.cause() {
        Some(cause) if cause != check_harness::CODE_PANICKED => Some(format!("cause:{cause}")),
        // A panic (a `todo!()` too) is the same one when its text and place
        // are; other messages without a cause are each their own ("out of
        // time" twice need not be one mistake).
        _ if message.starts_with("the code panicked:") => Some(format!("panic:{message}")),
        _ => Some(format!("check:{}", graded.info.id)),
    }
}

/// How many different causes the failing checks have between them.
pub fn causes_of(checks: &[Graded]) -> usize {
    let keys: std::collections::BTreeSet<String> =
        checks.iter().filter_map(same_cause_key).collect();
    keys.len()
}

fn print_check(graded: &Graded, ladder: &course::Ladder, tier: usize, step: &str) {
    let ms = graded.report.duration.as_millis();
    if graded.passed() {
        say!(
            "  {} {} {}",
            paint(OK, "✓"),
            graded.info.title,
            paint(DIM, format!("({ms} ms)"))
        );
        return;
    }
    print_failed_title(graded);
    // The message may quote what the code under test produced.
    say!("{}", ui::indent(&ui::printable(&graded.message(), true), 6));
    print_chart(graded);
    let tiers = ladder.tiers();
    let more = if tier < tiers {
        format!("hint {tier} of {tiers}; `cargo xtask hint {step}` shows the next")
    } else {
        format!("hint {tier} of {tiers}, the last; the chapter's walk-through goes further")
    };
    if let Some(cause) = ladder.cause {
        say!("      {} {}", paint(NOTE, "cause:"), cause.title);
    }
    let text = report::wrap(&format!("hint: {}", ladder.hint(tier)), 82);
    let text = text.replacen("hint:", &paint(NOTE, "hint:"), 1);
    say!(
        "{}",
        ui::indent(&format!("{text}\n{}", paint(DIM, format!("({more})"))), 6)
    );
    let output = graded.report.output.trim();
    if !output.is_empty() {
        say!("      {}", paint(DIM, "what the code printed:"));
        say!(
            "{}",
            paint(DIM, ui::indent(&ui::printable(output, true), 8))
        );
    }
}

/// Under a failure the check's timeline explains: what the code did, when.
fn print_chart(graded: &Graded) {
    let Some(trace) = graded.report.trace.as_ref().filter(|t| t.explains_failure) else {
        return;
    };
    let clock = trace
        .clock
        .as_deref()
        .unwrap_or("time since the check started");
    say!(
        "      {}",
        paint(
            DIM,
            format!("what happened ({}):", ui::printable(clock, false))
        )
    );
    for line in chart::render(trace, 94, chart::Glyphs::for_terminal(), true) {
        say!("      {line}");
    }
    for note in &trace.notes {
        let note = report::wrap(&ui::printable(note, false), 82);
        say!("{}", ui::indent(&note, 6));
    }
}

fn print_outcome(repo: &Repo, step: &Step, target: Target, result: &StepResult) {
    let cmd = match target {
        Target::Exercise => step.check_command(),
        Target::Solution => format!("{} --solution", step.check_command()),
    };
    match result {
        StepResult::CompileError { diagnostics } => {
            if let Some(changed) = pinned::changed_signature(&repo.root, step, diagnostics) {
                // rustc's error is in the checks, and its help would have
                // the learner edit them: say what changed instead.
                say!("{}", changed_signature_advice(step, target, &changed));
                return;
            }
            for d in diagnostics {
                say!("{}", d.rendered.trim_end());
            }
            say!("{}", compile_error_advice(repo, step, target, diagnostics));
        }
        StepResult::Ran { checks } => {
            let passed = checks.iter().filter(|c| c.passed()).count();
            say!();
            if result.passed() {
                say!(
                    "{} All {} checks of step {} passed.",
                    paint(OK, "Done!"),
                    checks.len(),
                    step.number()
                );
                if target == Target::Exercise {
                    print_next(repo, step);
                }
            } else {
                let failing = checks.len() - passed;
                let causes = causes_of(checks);
                let because = if causes < failing {
                    format!(
                        "; the {failing} that fail come down to {causes} cause{}",
                        if causes == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                };
                say!(
                    "{} of {} checks passed{because}.",
                    paint(if passed == 0 { BAD } else { WARN }, passed),
                    checks.len()
                );
                say!(
                    "{} fix the first failing check and run `{cmd}` again.\n      `cargo xtask watch {}` re-checks every time you save; `cargo xtask hint {}` unfolds the next hint of each failing check.",
                    paint(NOTE, "Next:"),
                    step.short_id(),
                    step.short_id()
                );
            }
        }
    }
}

/// Says which given signature the learner's code changed.
fn changed_signature_advice(step: &Step, target: Target, changed: &pinned::Changed) -> String {
    format!(
        "{} `{}` in {}/src/lib.rs no longer has the signature the exercise gives, so the checks cannot call it. Keep it as given:\n\n        {}\n\n      The step's lesson depends on exactly that signature: when the compiler asks for more (a `Clone`, a `'static`, another bound), change the body, not the signature. Your other functions are fine as they are; fix this one and run `{}` again.",
        paint(BAD, "✗"),
        changed.item,
        target.crate_dir(step),
        paint(BOLD, changed.given.replace('\n', "\n        ")),
        step.check_command()
    )
}

/// Says which file to fix after a compile error.
fn compile_error_advice(
    repo: &Repo,
    step: &Step,
    target: Target,
    diagnostics: &[Diagnostic],
) -> String {
    let crate_dir = target.crate_dir(step);
    let mut places: Vec<String> = Vec::new();
    let mut elsewhere: Vec<String> = Vec::new();
    for d in diagnostics {
        if let Some((file, line)) = &d.file {
            let file = build::relative(&repo.root, file);
            let place = format!("{file} (line {line})");
            if build::in_dir(&file, &crate_dir) {
                if !places.contains(&place) {
                    places.push(place);
                }
            } else if !elsewhere.contains(&file) {
                elsewhere.push(file);
            }
        }
    }
    let again = step.check_command();
    let helps = rustc_help::for_errors(step, diagnostics);
    let explained: Vec<String> = helps.iter().map(|h| rustc_help::explain(step, h)).collect();
    if !places.is_empty() {
        let mut advice = format!(
            "{} the {} does not compile. Fix {}, then run `{again}` again.",
            paint(BAD, "✗"),
            target.name(),
            places.join(", ")
        );
        for text in explained {
            advice.push('\n');
            advice.push_str(&text);
        }
        advice
    } else if !explained.is_empty() {
        // The error shows up where the checks use the learner's types (a
        // `Bank` holding a `RefCell`, shared between the checks' threads):
        // the signatures are as given, what the types hold is not.
        format!(
            "{} the checks do not compile against your {}: the error shows up in {}, where the checks use your types as the exercise describes them.\n{}",
            paint(BAD, "✗"),
            target.name(),
            if elsewhere.is_empty() { "the checks".to_string() } else { elsewhere.join(", ") },
            explained.join("\n")
        )
    } else {
        format!(
            "{} the checks do not compile against your {}: the error shows up in {}, but the cause is a change to the public names or signatures in {crate_dir}. Keep those as the exercise gave them (`cargo xtask reset {}` restores the original, after backing up your files).",
            paint(BAD, "✗"),
            target.name(),
            if elsewhere.is_empty() { "the checks".to_string() } else { elsewhere.join(", ") },
            step.short_id()
        )
    }
}

fn print_next(repo: &Repo, step: &Step) {
    match repo.course.next_step(&step.id) {
        Some(next) => say!(
            "{} read {} ({}. {}), then run `{}`.",
            paint(NOTE, "Next:"),
            next.chapter,
            next.number(),
            next.title,
            next.check_command()
        ),
        None => say!(
            "{} that was the last step: you finished the course. The chapters after the steps (myth busters, pitfalls, production patterns) are waiting in the book.",
            paint(NOTE, "Next:")
        ),
    }
}

fn print_summary_table(steps: &[&Step], results: &[StepResult]) {
    say!();
    say!("{}", paint(BOLD, "Summary"));
    let width = steps.iter().map(|s| s.id.len()).max().unwrap_or(10);
    for (step, result) in steps.iter().zip(results) {
        let (passed, total) = result.counts(step);
        let status = match result {
            StepResult::CompileError { .. } => paint(BAD, "does not compile"),
            _ if result.passed() => paint(OK, "passed"),
            StepResult::Ran { checks } => {
                let causes = causes_of(checks);
                paint(
                    WARN,
                    format!(
                        "failing ({causes} cause{})",
                        if causes == 1 { "" } else { "s" }
                    ),
                )
            }
        };
        say!("  {:<width$}  {passed:>2}/{total:<2}  {status}", step.id);
    }
}
