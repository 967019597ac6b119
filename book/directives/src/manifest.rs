//! The course's own directives: parts of the manifest (`course.toml`) rendered
//! into a chapter, so that no chapter retypes a step's checks or minutes.
//!
//! - `{{#course-step ID}}`: the exercise box of a step (`ID` is `step1-blocking`,
//!   `step1` or `1`): the exercise's name and estimated minutes, the file to
//!   edit, the `cargo xtask check stepN` command, and the title of every check.
//!   Rendered as an `example` admonition.
//! - `{{#course-steps}}`: a table of every step (chapter link, exercise,
//!   minutes, check command) with the total time of the full path.
//! - `{{#course-minutes}}`: the estimated time of the whole course, e.g.
//!   `5 h 5 min`; `{{#course-minutes step1 step2 step4}}` adds up only those
//!   steps (for a workshop path that skips some).
//! - `{{#course-schedule ID}}`: the workshop plan `[[schedule]]` with that id
//!   in the manifest (`half-day`, `full-day`): one row per slot (opening,
//!   each step, breaks, closing) with its start time from the beginning of
//!   the session (`0:00`, `0:20`, ...), its minutes and, for a step, its
//!   check command, and the end time.
//! - `{{#course-trace ID}}`: the step's `[step.trace]` pair: the timeline of
//!   one check as the reference solution ran it, above the same check's
//!   timeline from one of the step's wrong mutants, with the manifest's
//!   sentence on what to look at. The pictures are the files
//!   `cargo xtask book-traces` records into `book/src/traces/<step>/`.
//! - `{{#course-bench ...}}`: a figure from the recorded bench run, expanded
//!   before this pass by [`crate::bench`].
//! - `\{{#course-...}}`: written as is, without the backslash. In a chapter,
//!   write two backslashes: the include pass, which runs first, takes one.
//!
//! An unknown directive or step is an error, so a typo fails the build.

use course::{BookTrace, Course, Schedule, Step};

const PREFIX: &str = "{{#course-";

/// Expands every course directive in `text`.
pub fn expand(text: &str, course: &Course) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(PREFIX) {
        let Some(len) = rest[start..].find("}}") else {
            return Err(format!(
                "`{}` is not closed with `}}}}`",
                first_line(&rest[start..])
            ));
        };
        let end = start + len + 2;
        let directive = &rest[start..end];
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            out.push_str(&rest[..start - 1]);
            out.push_str(directive);
        } else {
            out.push_str(&rest[..start]);
            out.push_str(&render(directive, course)?);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Renders one directive, `{{#course-NAME ARGS}}`.
pub fn render(directive: &str, course: &Course) -> Result<String, String> {
    let inner = directive
        .strip_prefix("{{#")
        .and_then(|d| d.strip_suffix("}}"))
        .ok_or_else(|| format!("`{directive}` is not a directive"))?;
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    match (name, args.as_slice()) {
        ("course-step", [id]) => Ok(exercise_box(find(course, id)?)),
        ("course-steps", []) => Ok(steps_table(course)),
        ("course-minutes", []) => Ok(duration(course.steps.iter().map(|s| s.minutes).sum())),
        ("course-minutes", ids) => {
            let mut total = 0;
            for id in ids {
                total += find(course, id)?.minutes;
            }
            Ok(duration(total))
        }
        ("course-schedule", [id]) => {
            let plan = course
                .schedules
                .iter()
                .find(|s| s.id == *id)
                .ok_or_else(|| {
                    format!(
                        "no schedule `{id}` in course.toml; schedules: {}",
                        course
                            .schedules
                            .iter()
                            .map(|s| s.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            Ok(schedule(plan, course))
        }
        ("course-trace", [id]) => trace_pair(find(course, id)?),
        ("course-step" | "course-steps" | "course-schedule" | "course-trace", _) => Err(format!(
            "`{directive}`: wrong arguments; write `{{{{#course-step step1-blocking}}}}`, \
             `{{{{#course-steps}}}}`, `{{{{#course-trace step2}}}}` or `{{{{#course-schedule half-day}}}}` (a `[[schedule]]` id)"
        )),
        _ => Err(format!(
            "`{directive}` is not a course directive; known: course-step ID, course-steps, \
             course-minutes [IDS], course-schedule SCHEDULE-ID, course-trace ID, course-bench KEY (see the bench module)"
        )),
    }
}

/// The two recorded timelines of a step's `[step.trace]`, one figure each.
fn trace_pair(step: &Step) -> Result<String, String> {
    let trace = step.trace.as_ref().ok_or_else(|| {
        format!(
            "`{{{{#course-trace {}}}}}`: the step has no [step.trace] in course.toml",
            step.id
        )
    })?;
    let check = step
        .checks
        .iter()
        .find(|c| c.id == trace.check)
        .ok_or_else(|| format!("[step.trace] of `{}` names an unknown check", step.id))?;
    let figure = |src: String, alt: String, caption: String| {
        format!(
            "<figure class=\"trace-figure\">\n<div class=\"wide-figure\"><img src=\"{src}\" alt=\"{}\"></div>\n\
             <figcaption>{caption}</figcaption>\n</figure>\n",
            html(&alt)
        )
    };
    let right = figure(
        BookTrace::right_svg(&step.id),
        format!(
            "Timeline of check {} as the reference solution ran it",
            check.id
        ),
        format!(
            "Check <code>{}</code> (“{}”) against the reference solution.",
            check.id,
            html(&check.title)
        ),
    );
    let wrong = figure(
        BookTrace::wrong_svg(&step.id),
        format!(
            "Timeline of check {} as a wrong answer, {}, ran it",
            check.id, trace.wrong
        ),
        format!(
            "The same check against a typical wrong answer, the course's mutant <code>{}</code>.",
            html(&trace.wrong)
        ),
    );
    Ok(format!(
        "{right}\n{wrong}\n{}\n\nRecorded by `cargo xtask book-traces`; your own run's \
         timeline: `{} --trace`.\n",
        trace.look.trim(),
        step.check_command()
    ))
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `0:00`, `1:15`: a start time counted from the beginning of the session.
fn clock(minutes: u32) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

fn schedule(plan: &Schedule, course: &Course) -> String {
    let mut table =
        String::from("| Starts at | What | Time | Attendees run |\n|---:|---|---:|---|\n");
    let mut end = 0;
    for slot in plan.slots(course) {
        let step = slot
            .step
            .as_deref()
            .and_then(|id| course.steps.iter().find(|s| s.id == id));
        let (what, command) = match step {
            Some(step) => (
                format!("[{}]({})", slot.what, step.chapter_in_book()),
                format!("`{}`", step.check_command()),
            ),
            None => (slot.what.clone(), String::new()),
        };
        table.push_str(&format!(
            "| {} | {what} | {} | {command} |\n",
            clock(slot.start),
            duration(slot.minutes)
        ));
        end = slot.start + slot.minutes;
    }
    table.push_str(&format!(
        "| {} | **End** | **{}** | |\n",
        clock(end),
        duration(end)
    ));
    table
}

fn find<'c>(course: &'c Course, id: &str) -> Result<&'c Step, String> {
    course.find_step(id).ok_or_else(|| {
        format!(
            "no step `{id}` in course.toml; steps: {}",
            course
                .steps
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// `35 min`, `1 h`, `1 h 15 min`.
pub fn duration(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn exercise_box(step: &Step) -> String {
    let title = format!(
        "Exercise: {} (about {})",
        step.exercise.replace('"', "'"),
        duration(step.minutes)
    );
    let mut body = format!(
        "Open `{}/src/lib.rs`: its comments say what each function you write \
         must do, what the checks will look at, and which section of this chapter \
         explains the idea. When you think it works, ask the grader:\n\n\
         ```console\n{}\n```\n\n",
        step.exercise_crate,
        step.check_command()
    );
    if step.checks.is_empty() {
        body.push_str("The checks of this step are not written yet.\n");
    } else {
        body.push_str("It passes when every check below passes:\n\n");
        for check in &step.checks {
            body.push_str(&format!("- {}\n", check.title));
        }
        body.push_str(&format!(
            "\nA check failed? It says why, with a first hint. `cargo xtask hint {}` gives more, \
             one level at a time, and the walk-through after this chapter's exercise text \
             (a \"Stuck?\" block you open yourself) shows the whole way.\n",
            step.short_id()
        ));
    }
    // Four backticks: the body holds a fenced block of its own.
    format!("````admonish example title=\"{title}\"\n{body}````\n")
}

fn steps_table(course: &Course) -> String {
    let mut table = String::from(
        "| Step | Chapter | Exercise | Time | Check it with |\n|---:|---|---|---:|---|\n",
    );
    for step in &course.steps {
        table.push_str(&format!(
            "| {} | [{}]({}) | {} | {} | `{}` |\n",
            step.number(),
            step.title,
            step.chapter_in_book(),
            step.exercise,
            duration(step.minutes),
            step.check_command()
        ));
    }
    let total: u32 = course.steps.iter().map(|s| s.minutes).sum();
    table.push_str(&format!(
        "| | **All {} steps** | | **{}** | |\n",
        course.steps.len(),
        duration(total)
    ));
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const MANIFEST: &str = r#"
[course]
title = "T"
timeout_secs = 5

[[step]]
id = "step1-one"
title = "One"
exercise = "First exercise"
chapter = "book/src/step1-one.md"
crate = "exercises/step1-one"
minutes = 35

[[step.check]]
id = "a"
title = "A works"
hints = ["What is A?", "Use A.", "Do A."]

[step.trace]
check = "a"
wrong = "a-on-the-loop"
look = "Look <here> & there."

[[step]]
id = "step2-two"
title = "Two"
exercise = "Second"
chapter = "book/src/step2-two.md"
crate = "exercises/step2-two"
minutes = 40

[[step.check]]
id = "b"
title = "B works"
hints = ["What is B?", "Use B.", "Do B."]

[[schedule]]
id = "short"
title = "Short"
steps = ["step1-one", "step2-two"]
intro_minutes = 10
breaks_after = ["step1-one"]
break_minutes = 15
outro_minutes = 5
"#;

    fn course() -> Course {
        Course::parse(MANIFEST, Path::new("course.toml")).unwrap()
    }

    #[test]
    fn exercise_box_lists_checks_and_command() {
        let out = expand("Before.\n\n{{#course-step step1}}\nAfter.", &course()).unwrap();
        assert!(out.starts_with("Before.\n\n````admonish example title=\"Exercise: First exercise (about 35 min)\"\n"), "{out}");
        assert!(
            out.contains("```console\ncargo xtask check step1\n```"),
            "{out}"
        );
        assert!(out.contains("- A works\n"), "{out}");
        assert!(out.contains("`exercises/step1-one/src/lib.rs`"), "{out}");
        assert!(out.contains("what the checks will look at"), "{out}");
        assert!(
            out.contains("`cargo xtask hint step1` gives more, one level at a time"),
            "{out}"
        );
        assert!(out.ends_with("````\n\nAfter."), "{out}");
    }

    #[test]
    fn minutes_add_up() {
        let c = course();
        assert_eq!(expand("{{#course-minutes}}", &c).unwrap(), "1 h 15 min");
        assert_eq!(expand("{{#course-minutes step2}}", &c).unwrap(), "40 min");
        assert_eq!(duration(120), "2 h");
    }

    #[test]
    fn steps_table_has_a_total() {
        let out = expand("{{#course-steps}}", &course()).unwrap();
        assert!(
            out.contains(
                "| 1 | [One](step1-one.md) | First exercise | 35 min | `cargo xtask check step1` |"
            ),
            "{out}"
        );
        assert!(out.contains("**All 2 steps** | | **1 h 15 min**"), "{out}");
    }

    #[test]
    fn schedules_count_from_the_start() {
        let c = course();
        let plan = expand("{{#course-schedule short}}", &c).unwrap();
        for row in [
            "| 0:00 | Welcome, overview, mental model, `cargo xtask doctor` | 10 min |  |",
            "| 0:10 | [1. One: First exercise](step1-one.md) | 35 min | `cargo xtask check step1` |",
            "| 0:45 | Break | 15 min |  |",
            "| 1:00 | [2. Two: Second](step2-two.md) | 40 min | `cargo xtask check step2` |",
            "| 1:40 | Key takeaways, questions, class report | 5 min |  |",
            "| 1:45 | **End** | **1 h 45 min** | |",
        ] {
            assert!(plan.contains(row), "no row {row:?} in\n{plan}");
        }
        assert!(expand("{{#course-schedule}}", &c).is_err());
        let unknown = expand("{{#course-schedule half-day}}", &c).unwrap_err();
        assert!(unknown.contains("schedules: short"), "{unknown}");
    }

    #[test]
    fn trace_pair_shows_both_pictures_and_what_to_look_at() {
        let out = expand("{{#course-trace step1}}", &course()).unwrap();
        let right = out.find("src=\"traces/step1-one/right.svg\"").expect(&out);
        let wrong = out.find("src=\"traces/step1-one/wrong.svg\"").expect(&out);
        assert!(right < wrong, "the reference comes first: {out}");
        assert!(out.contains("mutant <code>a-on-the-loop</code>"), "{out}");
        assert!(out.contains("Check <code>a</code> (“A works”)"), "{out}");
        assert!(
            out.contains("Look <here> & there."),
            "the sentence is Markdown: {out}"
        );
        assert!(out.contains("`cargo xtask check step1 --trace`"), "{out}");
        assert_eq!(out.matches("<figure").count(), 2, "{out}");
    }

    #[test]
    fn trace_needs_a_step_trace() {
        let err = expand("{{#course-trace step2}}", &course()).unwrap_err();
        assert!(err.contains("no [step.trace]"), "{err}");
        assert!(expand("{{#course-trace}}", &course())
            .unwrap_err()
            .contains("wrong arguments"));
    }

    #[test]
    fn mistakes_are_errors_and_escapes_stay() {
        let c = course();
        assert!(expand("{{#course-step step9}}", &c)
            .unwrap_err()
            .contains("no step `step9`"));
        assert!(expand("{{#course-stpe step1}}", &c).is_err());
        assert!(expand("{{#course-step step1", &c).is_err());
        assert_eq!(
            expand(r"\{{#course-steps}}", &c).unwrap(),
            "{{#course-steps}}"
        );
    }
}
