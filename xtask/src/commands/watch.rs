//! `cargo xtask watch [<step>]`: re-check on every save.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode};

use crate::build::Target;
use crate::commands::check::check_step;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::ui::{self, paint, DIM, NOTE};
use crate::Format;

pub fn run(step: Option<&str>) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let follow = step.is_none();
    let mut current = match step {
        Some(name) => repo.step(name)?.id.clone(),
        None => next_unfinished(&repo).unwrap_or_else(|| repo.course.steps[0].id.clone()),
    };
    let (tx, rx) = mpsc::channel();
    // Saves arrive as bursts of events; wait for a quiet moment.
    let mut debouncer = new_debouncer(Duration::from_millis(300), tx)
        .context("cannot watch files on this system")?;
    let mut watched = None;
    loop {
        let step = repo.step(&current)?;
        let dir = repo.path(&step.exercise_crate);
        if watched.as_ref() != Some(&dir) {
            if let Some(old) = watched.take() {
                let _ = debouncer.watcher().unwatch(&old);
            }
            debouncer
                .watcher()
                .watch(&dir, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
            watched = Some(dir.clone());
        }
        if ui::stdout_is_terminal() {
            // Clear the screen so the latest result is the only one shown.
            print!("\x1b[2J\x1b[H");
        }
        let passed = match check_step(&repo, step, Target::Exercise, Format::Human) {
            Ok(result) => result.passed(),
            Err(e) => {
                ui::error(&format!("{e:#}"));
                false
            }
        };
        if passed && follow {
            if let Some(next) = repo.course.next_step(&current) {
                anstream::println!(
                    "\n{} now watching step {} ({}). Edit {} when you are ready.",
                    paint(NOTE, "Moving on:"),
                    next.number(),
                    next.title,
                    next.exercise_crate
                );
                current = next.id.clone();
                wait_for_change(&rx)?;
                continue;
            }
        }
        anstream::println!(
            "\n{}",
            paint(
                DIM,
                format!(
                    "Watching {} for changes. Ctrl+C to stop.",
                    step.exercise_crate
                )
            )
        );
        wait_for_change(&rx)?;
    }
}

/// Blocks until a file changes (not only the build output).
fn wait_for_change(rx: &mpsc::Receiver<notify_debouncer_mini::DebounceEventResult>) -> Result<()> {
    loop {
        let events = rx.recv().context("the file watcher stopped")?;
        match events {
            Ok(events) => {
                let relevant = events.iter().any(|e| {
                    !e.path.components().any(|c| c.as_os_str() == "target")
                        && e.path.extension().is_some_and(|x| x == "rs" || x == "toml")
                });
                if relevant {
                    return Ok(());
                }
            }
            Err(e) => ui::warning(&format!("file watcher: {e}")),
        }
    }
}

fn next_unfinished(repo: &Repo) -> Option<String> {
    let progress = Progress::load(repo);
    repo.course
        .steps
        .iter()
        .find(|s| !progress.get(&s.id).is_some_and(|p| p.passed))
        .map(|s| s.id.clone())
}
