//! `cargo xtask list [--format json]`

use std::process::ExitCode;

use anyhow::Result;
use course::Step;
use serde::Serialize;

use crate::board_link;
use crate::originals;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::report;
use crate::ui::{self, paint, BOLD, DIM, NOTE, OK, WARN};
use crate::Format;

#[derive(Serialize)]
struct ListJson {
    schema_version: u32,
    kind: &'static str,
    steps: Vec<StepStatus>,
}

#[derive(Serialize)]
struct StepStatus {
    id: String,
    short_id: String,
    title: String,
    exercise: String,
    chapter: String,
    minutes: u32,
    /// "done", "in-progress" or "not-started".
    status: &'static str,
    checks_passed: Option<usize>,
    checks_total: usize,
    /// The first step not done yet.
    next: bool,
}

/// The status of every step, in order.
fn statuses(repo: &Repo) -> Vec<StepStatus> {
    let progress = Progress::load(repo);
    let originals = originals::load(repo).ok();
    let mut next_marked = false;
    repo.course
        .steps
        .iter()
        .map(|step| {
            let p = progress.get(&step.id);
            let changed = originals
                .as_ref()
                .and_then(|o| originals::compare(repo, o, step).ok())
                .is_some_and(|c| !c.pristine());
            let status = match p {
                Some(p) if p.passed => "done",
                Some(_) => "in-progress",
                None if changed => "in-progress",
                None => "not-started",
            };
            let next = status != "done" && !next_marked;
            next_marked |= next;
            StepStatus {
                id: step.id.clone(),
                short_id: step.short_id().to_string(),
                title: step.title.clone(),
                exercise: step.exercise.clone(),
                chapter: step.chapter.clone(),
                minutes: step.minutes,
                status,
                checks_passed: p.map(|p| p.checks_passed),
                checks_total: step.checks.len(),
                next,
            }
        })
        .collect()
}

pub fn run(format: Format) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let steps = statuses(&repo);
    if format == Format::Json {
        report::print_json(&ListJson {
            schema_version: report::SCHEMA_VERSION,
            kind: "list",
            steps,
        });
        return Ok(ExitCode::SUCCESS);
    }
    let total: u32 = steps.iter().map(|s| s.minutes).sum();
    anstream::println!(
        "{}: {} steps, about {} h {:02} min\n",
        paint(BOLD, &repo.course.course.title),
        steps.len(),
        total / 60,
        total % 60
    );
    let title_w = steps.iter().map(|s| s.title.len()).max().unwrap_or(5);
    let ex_w = steps.iter().map(|s| s.exercise.len()).max().unwrap_or(8);
    anstream::println!(
        "{}",
        paint(
            DIM,
            format!(
                "    {:<6} {:<title_w$}  {:<ex_w$}  {:>3}  status",
                "step", "chapter", "exercise", "min"
            )
        )
    );
    for s in &steps {
        let status = match s.status {
            "done" => paint(OK, "done"),
            "in-progress" => paint(
                WARN,
                match s.checks_passed {
                    Some(n) => format!("in progress ({n}/{} checks)", s.checks_total),
                    None => "in progress".to_string(),
                },
            ),
            _ => paint(DIM, "not started"),
        };
        let marker = if s.next {
            paint(NOTE, " ▶ ")
        } else {
            "   ".to_string()
        };
        anstream::println!(
            "{marker} {:<6} {:<title_w$}  {:<ex_w$}  {:>3}  {status}",
            s.short_id,
            s.title,
            s.exercise,
            s.minutes
        );
    }
    println!();
    match steps.iter().zip(&repo.course.steps).find(|(s, _)| s.next) {
        Some((_, step)) => print_next(step),
        None => anstream::println!("{} every step is done. Well done!", paint(OK, "Finished:")),
    }
    print_board(&repo);
    Ok(ExitCode::SUCCESS)
}

/// The workshop board this clone reports to, if any, and how the last send
/// went.
fn print_board(repo: &Repo) {
    let Some(joined) = board_link::joined(repo) else {
        return;
    };
    anstream::println!(
        "\n{} the board at {} (room {}) as {}; `cargo xtask leave` stops it.",
        paint(NOTE, "Joined:"),
        joined.board,
        joined.room,
        ui::printable(&joined.name, false)
    );
    let waiting = board_link::pending(repo).len();
    match board_link::status(repo) {
        Some(st) if st.ok && waiting == 0 => {
            anstream::println!(
                "{}",
                paint(DIM, format!("Last sent at {}: {}.", st.at, st.said))
            )
        }
        // The last send went well; what was queued since is on its way
        // (the sender a check starts posts it) or waits for the next check.
        // Nothing here probes the sender's lock: a probe holding it for a
        // moment could make a starting sender leave its post.
        Some(st) if st.ok => anstream::println!(
            "{}",
            paint(
                DIM,
                format!(
                    "Last sent at {}: {}. {waiting} newer post(s) on the way, or sent with the next check.",
                    st.at, st.said
                )
            )
        ),
        Some(st) => anstream::println!(
            "{} at {}: {}. {waiting} post(s) wait for the next check.",
            paint(WARN, "Not sent"),
            st.at,
            st.said
        ),
        None if waiting > 0 => anstream::println!("{waiting} post(s) wait to be sent."),
        None => {}
    }
}

fn print_next(step: &Step) {
    anstream::println!(
        "{} read {}, then run `{}`.",
        paint(NOTE, "Next:"),
        step.chapter,
        step.check_command()
    );
}
