//! `cargo xtask report [--name <handle>] [--out <file>]`: an attendee's
//! progress as a small JSON file for the instructor. It holds the handle,
//! per-step results and timestamps, and the tool version: no source code,
//! nothing else from the machine.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::progress::{self, Progress};
use crate::repo::Repo;
use crate::ui::{paint, NOTE};

/// Marks a file as one of ours, so a class report can skip anything else.
pub const SCHEMA: &str = "threads-course/attendee-report";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendeeReport {
    pub schema: String,
    pub schema_version: u32,
    pub tool_version: String,
    pub name: String,
    pub generated_at: String,
    pub steps: Vec<StepEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    pub id: String,
    /// "done", "in-progress" or "not-started".
    pub status: String,
    pub checks_passed: usize,
    pub checks_total: usize,
    /// Ids of the checks that failed at the last check.
    pub failing: Vec<String>,
    pub compile_error: bool,
    pub first_checked: Option<String>,
    pub last_checked: Option<String>,
    pub passed_at: Option<String>,
    /// The deepest hint tier the attendee unfolded for any check of the step
    /// (0: none; tier 1 comes with every failing check, deeper ones only when
    /// asked for with `cargo xtask hint`). Absent in reports of older graders.
    #[serde(default)]
    pub deepest_hint: Option<usize>,
    /// The cause each failing check named at the last check (check id ->
    /// cause id), for those that named one. Absent in reports of older
    /// graders.
    #[serde(default)]
    pub failing_causes: BTreeMap<String, String>,
    /// The deepest tier shown of each cause's own hints (cause id -> tier).
    #[serde(default)]
    pub cause_hints: BTreeMap<String, usize>,
}

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
    let progress = Progress::load(&repo);
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
    let report = AttendeeReport {
        schema: SCHEMA.to_string(),
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        name: name.clone(),
        generated_at: progress::now(),
        steps,
    };
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
