//! `cargo xtask report [--name <handle>] [--out <file>]`: an attendee's
//! progress as a small JSON file for the instructor. It holds the handle,
//! per-step results and timestamps, and the tool version: no source code,
//! nothing else from the machine.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::progress::{self, Progress};
use crate::repo::Repo;
use crate::ui::{paint, NOTE};

pub use course::attendee::{AttendeeReport, StepEntry, SCHEMA, SCHEMA_VERSION};

pub fn run(name: Option<String>, out: Option<PathBuf>) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let name = match name {
        Some(n) => n,
        None => ask_name()?,
    };
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 64 {
        bail!("give a name or handle of 1 to 64 characters with --name");
    }
    let report = build(&repo, &Progress::load(&repo), &name);
    let out = out.unwrap_or_else(|| PathBuf::from(format!("report-{}.json", file_safe(&name))));
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&out, json + "\n").with_context(|| format!("cannot write {}", out.display()))?;
    anstream::println!(
        "{} {}. Send this file to your instructor; it holds your progress per step and nothing else.",
        paint(NOTE, "Wrote"),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The report of `progress` under `name`: what `report` writes, and what a
/// joined workshop board receives with each check.
pub fn build(repo: &Repo, progress: &Progress, name: &str) -> AttendeeReport {
    let steps = repo
        .course
        .steps
        .iter()
        .map(|step| match progress.get(&step.id) {
            Some(p) => StepEntry {
                id: step.id.clone(),
                status: if p.passed { "done" } else { "in-progress" }.to_string(),
                checks_passed: p.checks_passed.min(step.checks.len()),
                checks_total: step.checks.len(),
                failing: p.failing.clone(),
                compile_error: p.compile_error,
                first_checked: Some(p.first_checked.clone()),
                last_checked: Some(p.last_checked.clone()),
                passed_at: p.passed_at.clone(),
                deepest_hint: Some(p.deepest_hint()),
                failing_causes: p.failing_causes.clone(),
                cause_hints: p.cause_hints(),
            },
            None => StepEntry {
                id: step.id.clone(),
                status: "not-started".to_string(),
                checks_passed: 0,
                checks_total: step.checks.len(),
                failing: Vec::new(),
                compile_error: false,
                first_checked: None,
                last_checked: None,
                passed_at: None,
                deepest_hint: Some(0),
                failing_causes: BTreeMap::new(),
                cause_hints: BTreeMap::new(),
            },
        })
        .collect();
    AttendeeReport {
        schema: SCHEMA.to_string(),
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        name: name.to_string(),
        generated_at: progress::now(),
        steps,
    }
}

fn ask_name() -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("give your name or handle with --name <handle>");
    }
    print!("Your name or handle for the instructor's report: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}

/// A name turned into something safe in a file name on every system.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
