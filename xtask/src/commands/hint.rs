//! `cargo xtask hint <step> [--all]`: the hints of the failing checks, one
//! level deeper each time. A check's hints come in tiers (a question, the
//! tool to reach for, the outline of the fix); the deepest tier seen is kept
//! in progress, so they unfold across `check`, `watch` and `hint` alike.
//! A check that failed for a cause the step gives hints to
//! (`[[step.cause]]`) unfolds that cause's hints instead, once for every
//! check that failed for it.

use std::process::ExitCode;

use anyhow::Result;
use course::{CheckInfo, Ladder, Step};

use crate::progress::{Progress, StepProgress};
use crate::repo::Repo;
use crate::report::wrap;
use crate::rustc_help;
use crate::ui::{indent, paint, BOLD, DIM, NOTE};

pub fn run(step: &str, all: bool) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let step = repo.step(step)?;
    let progress = Progress::load(&repo);
    let record = progress.get(&step.id);
    // A step that did not compile ran no check: no hint is about its
    // mistake yet, so none is used up.
    if let Some(record) = record.filter(|p| p.compile_error && !all) {
        let helps: Vec<_> = record
            .compile_help
            .iter()
            .filter_map(|key| rustc_help::by_key(step, key))
            .collect();
        let opening = format!(
            "The last `{}` stopped at a compile error, so no check ran and no hint is about your mistake yet. Fix that error first: rustc's message names the file and the line",
            step.check_command()
        );
        if helps.is_empty() {
            anstream::println!(
                "{opening}, and the chapter ({}) shows the tools this step uses. Then check again.",
                step.chapter
            );
        } else {
            anstream::println!("{opening}. What the chapter says about it:");
            for help in helps {
                anstream::println!("{}", rustc_help::explain(step, help));
            }
            anstream::println!("Then check again.");
        }
        anstream::println!(
            "`cargo xtask hint {} --all` shows every hint without using any up.",
            step.short_id()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Only a run that got to the checks says which ones fail (hints can be
    // seen before the first check, which leaves an entry with no run).
    let failing: Option<&Vec<String>> = record
        .filter(|p| !p.compile_error && !p.last_checked.is_empty() && !all)
        .map(|p| &p.failing);
    let (checks, intro): (Vec<&CheckInfo>, String) = match failing {
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
            "The next hint for each check that failed last time:".to_string(),
        ),
        None if all => (
            step.checks.iter().collect(),
            format!("Every hint of every check of step {}:", step.number()),
        ),
        None => (
            step.checks.iter().collect(),
            format!("The next hint for each check of step {}:", step.number()),
        ),
    };
    // One ladder per cause: checks that failed for the same cause share
    // its hints and unfold them together. (ladder, its checks, tier seen
    // before, tier shown now)
    let mut plan: Vec<(Ladder, Vec<&CheckInfo>, usize, usize)> = Vec::new();
    for check in checks {
        let cause = record.and_then(|p| p.cause_of(&check.id));
        let ladder = step.ladder(check, cause);
        if let Some(entry) = plan.iter_mut().find(|(l, ..)| l.key() == ladder.key()) {
            entry.1.push(check);
            continue;
        }
        let seen = record.map_or(0, |p: &StepProgress| p.hint_seen(&ladder.key()));
        let tier = if all {
            ladder.tiers()
        } else {
            (seen + 1).min(ladder.tiers())
        };
        plan.push((ladder, vec![check], seen, tier));
    }
    // Every hint means the causes' too: a cause's ladder is shown under a
    // failing check instead of the check's own when the check saw that
    // mistake.
    if all {
        if let Some(first) = step.checks.first() {
            for cause in &step.causes {
                let ladder = Ladder {
                    check: first,
                    cause: Some(cause),
                };
                if plan.iter().all(|(l, ..)| l.key() != ladder.key()) {
                    let tiers = ladder.tiers();
                    plan.push((ladder, Vec::new(), 0, tiers));
                }
            }
        }
    }
    // Recorded before printing: a reader that stops early (`| head`) still
    // unfolds the tier.
    // `--all` is a look at the whole list, not a climb: it leaves the next
    // ✗ to start from the tier reached before, so a first, question-style
    // hint still comes first.
    if !all {
        let shown: Vec<(String, usize)> = plan.iter().map(|(l, _, _, t)| (l.key(), *t)).collect();
        Progress::saw_hints(&repo, &step.id, &shown);
        crate::board_link::after(&repo, None);
    }
    anstream::println!("{}\n", paint(BOLD, intro));
    for (ladder, checks, seen, tier) in &plan {
        print_ladder(ladder, checks, *seen, *tier, all);
    }
    let more_left = plan.iter().any(|(l, _, _, t)| *t < l.tiers());
    print_footer(step, more_left);
    Ok(ExitCode::SUCCESS)
}

/// One ladder (a check's hints, or a cause's): the tiers seen before
/// (dimmed, for context), then the new one.
fn print_ladder(ladder: &Ladder, checks: &[&CheckInfo], seen: usize, tier: usize, all: bool) {
    let tiers = ladder.tiers();
    match ladder.cause {
        None => anstream::println!("  {} {}", paint(NOTE, "•"), paint(BOLD, ladder.title())),
        Some(cause) => {
            anstream::println!(
                "  {} {} {}",
                paint(NOTE, "•"),
                paint(NOTE, "cause:"),
                paint(BOLD, &cause.title)
            );
            let titles: Vec<&str> = checks.iter().map(|c| c.title.as_str()).collect();
            let text = match titles.len() {
                0 => "shown instead of a check's own hints when the check sees this mistake"
                    .to_string(),
                1 => format!("the check that fails for it: {}", titles[0]),
                _ => format!("the checks that fail for it: {}", titles.join("; ")),
            };
            let text = wrap(&text, 82);
            anstream::println!("{}", paint(DIM, indent(&text, 4)));
        }
    }
    for earlier in 1..tier {
        let text = wrap(
            &format!("{earlier} of {tiers}: {}", ladder.hint(earlier)),
            82,
        );
        if all || earlier > seen {
            anstream::println!("{}", indent(&text, 4));
        } else {
            anstream::println!("{}", paint(DIM, indent(&text, 4)));
        }
    }
    let label = match (tier > seen, tier == tiers) {
        (true, true) => format!("{tier} of {tiers} (new; the last):"),
        (true, false) => format!("{tier} of {tiers} (new):"),
        (false, true) => format!("{tier} of {tiers} (the last):"),
        (false, false) => format!("{tier} of {tiers}:"),
    };
    let text = wrap(&format!("{label} {}", ladder.hint(tier)), 82);
    let text = text.replacen(&label, &paint(NOTE, &label), 1);
    anstream::println!("{}\n", indent(&text, 4));
}

fn print_footer(step: &Step, more_left: bool) {
    if more_left {
        anstream::println!(
            "{}",
            paint(
                DIM,
                format!(
                    "`cargo xtask hint {}` again unfolds one more level; failing checks show the deepest one you have seen.",
                    step.short_id()
                )
            )
        );
    }
    anstream::println!(
        "{}",
        paint(
            DIM,
            format!(
                "The chapter explains the ideas, and its exercise section has the whole walk-through behind \"Stuck? The walk-through\": {}",
                step.chapter
            )
        )
    );
}
