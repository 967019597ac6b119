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

#[derive(Deserialize)]
struct StepDoc {
    step: String,
    status: String,
    checks: Vec<CheckEntry>,
}

#[derive(Deserialize)]
struct CheckEntry {
    title: String,
    status: String,
}

pub fn run(inputs: &[PathBuf]) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let mut results: BTreeMap<String, StepDoc> = BTreeMap::new();
    for input in inputs {
        let files: Vec<PathBuf> = if input.is_dir() {
            std::fs::read_dir(input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
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
    print!("{}", markdown(&repo, &results));
    Ok(ExitCode::SUCCESS)
}

fn markdown(repo: &Repo, results: &BTreeMap<String, StepDoc>) -> String {
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
