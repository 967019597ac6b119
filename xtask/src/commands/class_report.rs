//! `cargo xtask class-report <dir-or-files>... [--html <file>]`: the
//! instructor's view of a class, from the attendees' `report` files: a table
//! attendee × step in the terminal and as a self-contained HTML page, and the
//! check that fails most often. It also reads the `scores.json` that
//! Classroom 50's score collection keeps (one row per repository owner,
//! from each one's newest graded submission; tests are matched to checks by
//! their titles, as `cargo xtask classroom50` names them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::report::{AttendeeReport, SCHEMA, SCHEMA_VERSION};
use crate::repo::Repo;
use crate::ui::{self, paint, BOLD, DIM, NOTE, OK, WARN};

pub fn run(inputs: &[PathBuf], html: &Path) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let files = collect_files(inputs)?;
    let mut class: BTreeMap<String, AttendeeReport> = BTreeMap::new();
    let reports = files.iter().flat_map(|file| match read_file(file, &repo) {
        Ok(reports) => reports
            .into_iter()
            .map(|r| (file, Ok(r)))
            .collect::<Vec<_>>(),
        Err(why) => vec![(file, Err(why))],
    });
    for (file, report) in reports {
        match report {
            Ok(report) => {
                let key = report.name.to_lowercase();
                match class.get(&key) {
                    Some(old) if old.generated_at >= report.generated_at => {
                        ui::warning(&format!(
                            "{}: an older report of {} (a newer one is used)",
                            file.display(),
                            display_name(&report.name)
                        ));
                    }
                    _ => {
                        class.insert(key, report);
                    }
                }
            }
            Err(why) => ui::warning(&format!(
                "skipped {}: {}",
                file.display(),
                ui::printable(&why, false)
            )),
        }
    }
    if class.is_empty() {
        bail!("no attendee reports found in {} file(s)", files.len());
    }
    let table = Table::new(&repo, class.into_values().collect());
    table.print();
    std::fs::write(html, table.html(&repo.course.course.title))
        .with_context(|| format!("cannot write {}", html.display()))?;
    anstream::println!("\n{} {}", paint(NOTE, "Wrote"), html.display());
    Ok(ExitCode::SUCCESS)
}

fn collect_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            ui::warning(&format!(
                "skipped {}: no such file or directory",
                input.display()
            ));
        }
    }
    Ok(files)
}

/// Classroom 50's collected scores.
pub const SCORES_SCHEMA: &str = "classroom50/scores/v1";

/// Reads one file (an attendee report, or Classroom 50's scores.json),
/// saying in a few words why it is neither.
fn read_file(path: &Path, repo: &Repo) -> std::result::Result<Vec<AttendeeReport>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it ({e})"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))?;
    if value.get("schema").and_then(|s| s.as_str()) == Some(SCORES_SCHEMA) {
        return scores_json(&value, repo);
    }
    read_report(value).map(|r| vec![r])
}

/// Classroom 50's `scores.json` as one report per repository owner: the
/// newest submission of each assignment, its tests matched to the course's
/// checks by title. A step none of whose checks appear is not started; an
/// assignment of the whole course fills every step.
fn scores_json(
    value: &serde_json::Value,
    repo: &Repo,
) -> std::result::Result<Vec<AttendeeReport>, String> {
    let assignments = value
        .get("assignments")
        .and_then(|a| a.as_object())
        .ok_or("a Classroom 50 scores.json without `assignments`")?;
    // owner (lowercase) -> (shown name, step id -> (when, passed check ids)).
    type Steps = BTreeMap<String, (String, BTreeSet<String>)>;
    let mut owners: BTreeMap<String, (String, Steps)> = BTreeMap::new();
    for bucket in assignments.values() {
        let entries = bucket.get("entries").and_then(|e| e.as_array());
        for entry in entries.into_iter().flatten() {
            let Some(owner) = entry.get("owner").and_then(|o| o.as_str()) else {
                continue;
            };
            let submissions = entry.get("submissions").and_then(|s| s.as_array());
            // Newest first, as collection keeps them; the latest time wins.
            let Some(newest) = submissions.into_iter().flatten().max_by_key(|s| {
                s.get("datetime")
                    .and_then(|d| d.as_str())
                    .unwrap_or_default()
                    .to_string()
            }) else {
                continue;
            };
            let when = newest
                .get("datetime")
                .and_then(|d| d.as_str())
                .unwrap_or_default()
                .to_string();
            let tests: BTreeMap<&str, bool> = newest
                .get("tests")
                .and_then(|t| t.as_array())
                .into_iter()
                .flatten()
                .filter_map(|t| Some((t.get("test-name")?.as_str()?, t.get("passed")?.as_bool()?)))
                .collect();
            let (_, steps) = owners
                .entry(owner.to_lowercase())
                .or_insert_with(|| (owner.to_string(), Steps::new()));
            for step in &repo.course.steps {
                let seen: Vec<(&str, bool)> = step
                    .checks
                    .iter()
                    .filter_map(|c| tests.get(c.title.as_str()).map(|p| (c.id.as_str(), *p)))
                    .collect();
                if seen.is_empty() {
                    continue;
                }
                let passed = seen
                    .iter()
                    .filter(|(_, p)| *p)
                    .map(|(id, _)| id.to_string());
                let newer = steps.get(&step.id).is_none_or(|(old, _)| *old <= when);
                if newer {
                    steps.insert(step.id.clone(), (when.clone(), passed.collect()));
                }
            }
        }
    }
    if owners.is_empty() {
        return Err("a Classroom 50 scores.json with no submissions".into());
    }
    Ok(owners
        .into_values()
        .map(|(name, steps)| {
            let generated_at = steps
                .values()
                .map(|(w, _)| w.clone())
                .max()
                .unwrap_or_default();
            let steps = repo
                .course
                .steps
                .iter()
                .filter_map(|step| {
                    let (when, passed) = steps.get(&step.id)?;
                    let total = step.checks.len();
                    let done = passed.len() == total;
                    Some(super::report::StepEntry {
                        id: step.id.clone(),
                        status: if done { "done" } else { "in-progress" }.into(),
                        checks_passed: passed.len(),
                        checks_total: total,
                        failing: step
                            .checks
                            .iter()
                            .filter(|c| !passed.contains(&c.id))
                            .map(|c| c.id.clone())
                            .collect(),
                        compile_error: false,
                        first_checked: None,
                        last_checked: Some(when.clone()),
                        passed_at: done.then(|| when.clone()),
                        deepest_hint: None,
                        failing_causes: BTreeMap::new(),
                        cause_hints: BTreeMap::new(),
                    })
                })
                .collect();
            AttendeeReport {
                schema: SCHEMA.into(),
                schema_version: SCHEMA_VERSION,
                tool_version: "classroom50".into(),
                name,
                generated_at,
                steps,
            }
        })
        .collect())
}

/// An attendee report, or in a few words why `value` is not one.
fn read_report(value: serde_json::Value) -> std::result::Result<AttendeeReport, String> {
    if value.get("schema").and_then(|s| s.as_str()) != Some(SCHEMA) {
        return Err("not an attendee report of this course".into());
    }
    if value.get("schema_version").and_then(|v| v.as_u64()) != Some(u64::from(SCHEMA_VERSION)) {
        return Err(format!(
            "report format version {} (this grader reads {SCHEMA_VERSION})",
            value
                .get("schema_version")
                .unwrap_or(&serde_json::Value::Null)
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("damaged report ({e})"))
}

/// One cell of the table, with the deepest hint tier the attendee unfolded
/// for the step (`None` in reports of graders that did not record it).
enum Cell {
    Done(Option<usize>),
    Partial(usize, usize, Option<usize>),
    CompileError,
    NotStarted,
}

/// `★` for a step done without asking for a hint (tier 1 comes with every
/// failing check, so it does not count), ` h2` for hints unfolded to tier 2.
fn hint_mark(done: bool, deepest: Option<usize>) -> String {
    match deepest {
        Some(0 | 1) if done => "★".into(),
        Some(n) if n >= 2 => format!(" h{n}"),
        _ => String::new(),
    }
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Done(h) => format!("✓{}", hint_mark(true, *h)),
            Cell::Partial(p, t, h) => format!("{p}/{t}{}", hint_mark(false, *h)),
            Cell::CompileError => "build ✗".into(),
            Cell::NotStarted => "·".into(),
        }
    }

    fn done(&self) -> bool {
        matches!(self, Cell::Done(_))
    }

    /// Done without asking for a hint.
    fn on_its_own(&self) -> bool {
        matches!(self, Cell::Done(Some(0 | 1)))
    }
}

struct Table {
    steps: Vec<(String, String)>,
    rows: Vec<(String, Vec<Cell>)>,
    /// (step id, check id, title, how many attendees fail it)
    most_failing: Option<(String, String, String, usize)>,
}

impl Table {
    fn new(repo: &Repo, reports: Vec<AttendeeReport>) -> Table {
        let steps: Vec<(String, String)> = repo
            .course
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.short_id().to_string()))
            .collect();
        let totals: BTreeMap<&str, usize> = repo
            .course
            .steps
            .iter()
            .map(|s| (s.id.as_str(), s.checks.len()))
            .collect();
        let mut failures: BTreeMap<(String, String), usize> = BTreeMap::new();
        let rows = reports
            .iter()
            .map(|r| {
                // Each failing check counts once per attendee, however often
                // the report repeats it.
                let mut failing: BTreeSet<(String, String)> = BTreeSet::new();
                let cells = steps
                    .iter()
                    .map(|(id, _)| match r.steps.iter().find(|s| &s.id == id) {
                        Some(s) => {
                            for check in &s.failing {
                                failing.insert((id.clone(), check.clone()));
                            }
                            let h = s.deepest_hint;
                            match s.status.as_str() {
                                "done" => Cell::Done(h),
                                "in-progress" if s.compile_error => Cell::CompileError,
                                // The course says how many checks a step
                                // has, never the report ("5 of 4").
                                "in-progress" => {
                                    let total = totals[id.as_str()];
                                    Cell::Partial(s.checks_passed.min(total), total, h)
                                }
                                _ => Cell::NotStarted,
                            }
                        }
                        None => Cell::NotStarted,
                    })
                    .collect();
                for key in failing {
                    *failures.entry(key).or_default() += 1;
                }
                (display_name(&r.name), cells)
            })
            .collect();
        // The most failed check; ties go to the one earlier in the course.
        let mut most_failing: Option<(String, String, String, usize)> = None;
        for step in &repo.course.steps {
            for check in &step.checks {
                let n = failures
                    .get(&(step.id.clone(), check.id.clone()))
                    .copied()
                    .unwrap_or(0);
                if n > 0 && most_failing.as_ref().is_none_or(|(.., m)| n > *m) {
                    most_failing =
                        Some((step.id.clone(), check.id.clone(), check.title.clone(), n));
                }
            }
        }
        Table {
            steps,
            rows,
            most_failing,
        }
    }

    fn print(&self) {
        let name_w = self
            .rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        let mut header = format!("{:<name_w$}", "attendee");
        for (_, short) in &self.steps {
            let _ = write!(header, "  {short:^7}");
        }
        header.push_str("  done");
        anstream::println!("{}", paint(BOLD, header));
        for (name, cells) in &self.rows {
            let pad = name_w - name.chars().count();
            let mut line = format!("{name}{}", " ".repeat(pad));
            for cell in cells {
                let text = format!("{:^7}", cell.text());
                let styled = match cell {
                    Cell::Done(_) => paint(OK, text),
                    Cell::Partial(..) | Cell::CompileError => paint(WARN, text),
                    Cell::NotStarted => paint(DIM, text),
                };
                let _ = write!(line, "  {styled}");
            }
            let done = cells.iter().filter(|c| c.done()).count();
            let _ = write!(line, "  {done}/{}", cells.len());
            anstream::println!("{line}");
        }
        println!();
        anstream::println!(
            "{} attendees. {}",
            self.rows.len(),
            paint(
                DIM,
                "✓ done · n/m checks passing · \"build ✗\" does not compile · \"·\" not started"
            )
        );
        anstream::println!(
            "{}",
            paint(
                DIM,
                "★ done without asking for a hint · h2, h3: the deepest hint tier unfolded (tier 1 comes with every ✗)"
            )
        );
        let (done, own) = self.done_on_their_own();
        if done > 0 {
            anstream::println!(
                "{} {own} of the {done} steps done took no hint beyond the first.",
                paint(NOTE, "On their own:")
            );
        }
        match &self.most_failing {
            Some((step, check, title, n)) => anstream::println!(
                "{} {step} / {check}: \"{title}\" fails for {n} of {} attendees.",
                paint(NOTE, "Most failing check:"),
                self.rows.len()
            ),
            None => anstream::println!(
                "{} none: no check is failing.",
                paint(NOTE, "Most failing check:")
            ),
        }
    }

    /// (steps done, of those done without asking for a hint), over the class.
    fn done_on_their_own(&self) -> (usize, usize) {
        // Only the steps whose hints are known (attendee reports of this
        // grader; not Classroom 50's scores) count on either side.
        let cells = self.rows.iter().flat_map(|(_, cells)| cells);
        let done = cells
            .clone()
            .filter(|c| matches!(c, Cell::Done(Some(_))))
            .count();
        (done, cells.filter(|c| c.on_its_own()).count())
    }

    fn html(&self, title: &str) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Class report: {}</title>\n<style>\n\
             body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}\n\
             table{{border-collapse:collapse}}\n\
             th,td{{border:1px solid #ccc;padding:.35rem .7rem;text-align:center}}\n\
             td.name{{text-align:left;font-weight:600}}\n\
             .done{{background:#d7f5dd}} .partial{{background:#fff2c6}} .broken{{background:#ffd9d9}} .none{{color:#999}}\n\
             </style></head><body>\n<h1>Class report</h1>\n<p>{}</p>\n<table>\n<tr><th>attendee</th>",
            escape(title),
            escape(title)
        );
        for (id, short) in &self.steps {
            let _ = write!(h, "<th title=\"{}\">{}</th>", escape(id), escape(short));
        }
        h.push_str("<th>done</th></tr>\n");
        for (name, cells) in &self.rows {
            let _ = write!(h, "<tr><td class=\"name\">{}</td>", escape(name));
            for cell in cells {
                let class = match cell {
                    Cell::Done(_) => "done",
                    Cell::Partial(..) => "partial",
                    Cell::CompileError => "broken",
                    Cell::NotStarted => "none",
                };
                let _ = write!(h, "<td class=\"{class}\">{}</td>", escape(&cell.text()));
            }
            let done = cells.iter().filter(|c| c.done()).count();
            let _ = writeln!(h, "<td>{done}/{}</td></tr>", cells.len());
        }
        h.push_str("</table>\n<p class=\"none\">✓ done · n/m checks passing · ★ done without asking for a hint · h2, h3: the deepest hint tier unfolded (tier 1 comes with every failing check)</p>\n");
        let (done, own) = self.done_on_their_own();
        if done > 0 {
            let _ = writeln!(
                h,
                "<p>On their own: {own} of the {done} steps done took no hint beyond the first.</p>"
            );
        }
        match &self.most_failing {
            Some((step, check, title, n)) => {
                let _ = writeln!(
                    h,
                    "<p>Most failing check: <strong>{} / {}</strong>, “{}”, fails for {n} of {} attendees.</p>",
                    escape(step),
                    escape(check),
                    escape(title),
                    self.rows.len()
                );
            }
            None => h.push_str("<p>No check is failing.</p>\n"),
        }
        h.push_str("</body></html>\n");
        h
    }
}

use course::text::display_name;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
