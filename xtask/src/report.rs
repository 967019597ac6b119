//! The JSON the grader prints with `--format json`. The schema is versioned
//! (`schema_version`) and documented in book/src/grader.md; bump the version
//! when a field changes meaning or disappears (adding fields is compatible).

use serde::Serialize;

use crate::build::Target;
use crate::grade::StepResult;
use course::Step;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct CheckJson {
    pub schema_version: u32,
    pub kind: &'static str,
    pub steps: Vec<StepJson>,
    pub totals: Totals,
}

#[derive(Serialize)]
pub struct StepJson {
    pub step: String,
    pub title: String,
    pub target: &'static str,
    /// "passed", "failed" or "compile-error".
    pub status: &'static str,
    pub checks: Vec<CheckEntry>,
    pub totals: Totals,
    /// The compiler's errors, as plain text, when `status` is "compile-error".
    pub compile_errors: Option<String>,
}

#[derive(Serialize)]
pub struct CheckEntry {
    pub id: String,
    pub title: String,
    /// "pass", "fail", "timeout", "crash", "error"; "not-run" after a compile error.
    pub status: &'static str,
    pub message: Option<String>,
    /// The cause the check named for its failure (a `[[step.cause]]` id),
    /// when it could tell; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The first hint (a question that points at the concept): the cause's,
    /// when the step gives it hints, else the check's.
    pub hint: Option<String>,
    /// How many tiers those hints have (`cargo xtask hint` unfolds them).
    pub hint_tiers: usize,
    pub duration_ms: u64,
    /// What the check recorded of the run, when it failed and the check says
    /// the timeline explains the failure (the chart under a ✗); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<check_harness::trace::Trace>,
}

#[derive(Serialize, Default, Clone, Copy)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub total: usize,
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.total += other.total;
    }
}

pub fn step_json(step: &Step, target: Target, result: &StepResult) -> StepJson {
    let (checks, status, compile_errors) = match result {
        StepResult::Ran { checks, .. } => (
            checks
                .iter()
                .map(|g| CheckEntry {
                    id: g.info.id.clone(),
                    title: g.info.title.clone(),
                    status: g.report.verdict.status(),
                    message: (!g.passed()).then(|| g.message()),
                    cause: g.cause().map(String::from),
                    hint: (!g.passed()).then(|| g.ladder(step).hint(1).to_string()),
                    hint_tiers: g.ladder(step).tiers(),
                    duration_ms: g.report.duration.as_millis() as u64,
                    trace: g
                        .report
                        .trace
                        .as_ref()
                        .filter(|t| !g.passed() && t.explains_failure)
                        .cloned(),
                })
                .collect(),
            if result.passed() { "passed" } else { "failed" },
            None,
        ),
        StepResult::CompileError { diagnostics } => (
            step.checks
                .iter()
                .map(|c| CheckEntry {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    status: "not-run",
                    message: None,
                    cause: None,
                    hint: None,
                    hint_tiers: c.tiers(),
                    duration_ms: 0,
                    trace: None,
                })
                .collect(),
            "compile-error",
            Some(
                diagnostics
                    .iter()
                    .map(|d| strip_ansi(&d.rendered))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ),
    };
    let (passed, total) = result.counts(step);
    StepJson {
        step: step.id.clone(),
        title: step.title.clone(),
        target: target.name(),
        status,
        checks,
        totals: Totals {
            passed,
            failed: total - passed,
            total,
        },
        compile_errors,
    }
}

/// Removes ANSI escape sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("the report serializes")
    );
}

/// Greedy word wrap of one paragraph to `width` columns.
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines.join("\n")
}
