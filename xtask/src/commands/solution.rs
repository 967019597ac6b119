//! `cargo xtask solution <step> [--diff] [--yes]`

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use similar::{ChangeTag, TextDiff};

use crate::originals;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::ui::{paint, BAD, BOLD, DIM, NOTE, OK};

pub fn run(step: &str, diff: bool, yes: bool) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let step = repo.step(step)?;
    let done = Progress::load(&repo)
        .get(&step.id)
        .is_some_and(|p| p.ever_passed);
    if !done && !yes && !confirm(step.number())? {
        anstream::println!(
            "Not shown. `cargo xtask hint {}` may be all you need.",
            step.short_id()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let sol_dir = repo.path(&step.solution_crate());
    let ex_dir = repo.path(&step.exercise_crate);
    for file in originals::crate_files(&sol_dir)? {
        if !file.ends_with(".rs") {
            continue;
        }
        let solution = std::fs::read_to_string(sol_dir.join(&file))?;
        let shown = format!("{}/{file}", step.solution_crate());
        if diff {
            let mine = std::fs::read_to_string(ex_dir.join(&file)).unwrap_or_default();
            print_diff(
                &format!("{}/{file}", step.exercise_crate),
                &shown,
                &mine,
                &solution,
            );
        } else {
            anstream::println!("{}", paint(BOLD, format!("── {shown} ──")));
            println!("{solution}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks before showing the solution of a step that is not passed yet.
fn confirm(number: u32) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("you have not passed step {number} yet; add `--yes` to see its solution anyway");
    }
    anstream::print!(
        "{} you have not passed step {number} yet. Show the solution anyway? [y/N] ",
        paint(NOTE, "Sure?")
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

fn print_diff(mine_name: &str, solution_name: &str, mine: &str, solution: &str) {
    anstream::println!("{}", paint(BAD, format!("--- {mine_name} (yours)")));
    anstream::println!("{}", paint(OK, format!("+++ {solution_name} (solution)")));
    let diff = TextDiff::from_lines(mine, solution);
    for group in diff.grouped_ops(3) {
        let first = &group[0];
        anstream::println!(
            "{}",
            paint(
                DIM,
                format!(
                    "@@ yours line {}, solution line {} @@",
                    first.old_range().start + 1,
                    first.new_range().start + 1
                )
            )
        );
        for op in group {
            for change in diff.iter_changes(&op) {
                let line = change.value().trim_end_matches('\n');
                match change.tag() {
                    ChangeTag::Delete => anstream::println!("{}", paint(BAD, format!("-{line}"))),
                    ChangeTag::Insert => anstream::println!("{}", paint(OK, format!("+{line}"))),
                    ChangeTag::Equal => println!(" {line}"),
                }
            }
        }
    }
}
