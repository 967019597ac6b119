//! `cargo xtask hint <step> [--all]`

use std::process::ExitCode;

use anyhow::Result;

use crate::progress::Progress;
use crate::repo::Repo;
use crate::report::wrap;
use crate::ui::{indent, paint, BOLD, DIM, NOTE};

pub fn run(step: &str, all: bool) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let step = repo.step(step)?;
    let progress = Progress::load(&repo);
    let failing: Option<&Vec<String>> = progress
        .get(&step.id)
        .filter(|p| !p.compile_error && !all)
        .map(|p| &p.failing);
    let (checks, intro): (Vec<_>, String) = match failing {
        Some(ids) if ids.is_empty() => {
            anstream::println!(
                "Every check of step {} passed the last time you ran `{}`. `cargo xtask hint {} --all` shows all the hints anyway.",
                step.number(),
                step.check_command(),
                step.short_id()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(ids) => (
            step.checks.iter().filter(|c| ids.contains(&c.id)).collect(),
            "Hints for the checks that failed last time:".to_string(),
        ),
        None => (
            step.checks.iter().collect(),
            format!("Hints for every check of step {}:", step.number()),
        ),
    };
    anstream::println!("{}\n", paint(BOLD, intro));
    for check in checks {
        anstream::println!("  {} {}", paint(NOTE, "•"), paint(BOLD, &check.title));
        anstream::println!("{}\n", indent(&wrap(&check.hint, 82), 4));
    }
    anstream::println!(
        "{}",
        paint(
            DIM,
            format!("The chapter explains the ideas: {}", step.chapter)
        )
    );
    Ok(ExitCode::SUCCESS)
}
