//! `cargo xtask score <dir-or-files>...`: turns `check --format json`
//! results into a Markdown score table (one point per passing check). The
//! autograding workflow appends it to the run's summary page.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::repo::Repo;
use crate::ui;

#[derive(Deserialize)]
struct CheckDoc {
    kind: String,
    steps: Vec<StepDoc>,
}

/// One step of a `check --format json` result, as far as scores need it.
#[derive(Deserialize)]
pub struct StepDoc {
    pub step: String,
    pub status: String,
    pub checks: Vec<CheckEntry>,
}

#[derive(Deserialize)]
pub struct CheckEntry {
    #[serde(default)]
    pub id: String,
    pub title: String,
    pub status: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub hint: Option<String>,
}

/// The results by step id, from result files or directories of them
/// (a later file's step replaces an earlier one's).
pub type Results = BTreeMap<String, StepDoc>;

pub fn run(inputs: &[PathBuf]) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let results = load(inputs)?;
    print!("{}", markdown(&repo, &results));
    Ok(ExitCode::SUCCESS)
}

/// Reads `check --format json` documents; files that are not one are
/// skipped with a warning.
pub fn load(inputs: &[PathBuf]) -> Result<Results> {
    let mut results = Results::new();
    for input in inputs {
        let files: Vec<PathBuf> = if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                // result.json (ours for Classroom 50) sits beside them.
                .filter(|p| p.file_name().is_some_and(|n| n != "result.json"))
                .collect();
            found.sort();
            found
        } else {
            vec![input.clone()]
        };
        for file in files {
            let parsed = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str::<CheckDoc>(&t).ok())
                .filter(|d| d.kind == "check");
            match parsed {
                Some(doc) => {
                    for step in doc.steps {
                        results.insert(step.step.clone(), step);
                    }
                }
                None => ui::warning(&format!("skipped {}: not a check result", file.display())),
            }
        }
    }
    Ok(results)
}

pub fn markdown(repo: &Repo, results: &Results) -> String {
    let mut rows = String::new();
    let mut failing = String::new();
    let (mut got, mut max) = (0, 0);
    for step in &repo.course.steps {
        let points = step.checks.len();
        max += points;
        let (cell, earned) = match results.get(&step.id) {
            None => ("no result (the step did not run)".to_string(), 0),
            Some(r) if r.status == "compile-error" => ("does not compile ❌".to_string(), 0),
            Some(r) => {
                let passed = r.checks.iter().filter(|c| c.status == "pass").count();
                for c in r.checks.iter().filter(|c| c.status != "pass") {
                    let _ = writeln!(
                        failing,
                        "- step {}: {} ({})",
                        step.number(),
                        c.title,
                        c.status
                    );
                }
                let mark = if passed == points { " ✅" } else { "" };
                (format!("{passed}/{points}{mark}"), passed)
            }
        };
        got += earned;
        let _ = writeln!(
            rows,
            "| {}. {} | {cell} | {earned} / {points} |",
            step.number(),
            step.title
        );
    }
    let mut md = format!(
        "## Autograding: {got} / {max} points\n\n| Step | Checks passed | Points |\n| --- | --- | --- |\n{rows}"
    );
    if !failing.is_empty() {
        let _ = write!(
            md,
            "\n<details><summary>Failing checks</summary>\n\n{failing}\n</details>\n"
        );
    }
    md
}
