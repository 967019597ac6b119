//! `cargo xtask classroom50 <dir-or-files>... [--step S] [--out DIR]`: turns
//! `check --format json` results into what a Classroom 50 autograder hands
//! back: `result.json` (schema `classroom50/result/v1`, one test per check,
//! one point each), `release-body.md` (the score table and, per failing
//! check, its message and first hint), `status=`/`summary=` lines appended
//! to `$GITHUB_OUTPUT`, and on stdout the two notices GitHub Classroom's
//! reporter printed (`Points X/Y` and `{"totalPoints":X,"maxPoints":Y}`).
//!
//! The tests come from this checkout's course.toml, never from the result
//! files: a result that claims a check the course does not have, or leaves
//! one out, changes nothing. A step with no result at all is an
//! infrastructure error (exit 2, `status=error`), never a low score.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use course::Step;
use serde::Serialize;

use super::score::{self, Results};
use crate::repo::Repo;
use crate::ui;

pub const SCHEMA: &str = "classroom50/result/v1";

/// `result.json`, field for field as Classroom 50's result contract names
/// them (the runner adds `owner` and `assignment_type` itself).
#[derive(Serialize, Debug)]
pub struct ResultJson {
    pub schema: &'static str,
    pub classroom: String,
    pub assignment: String,
    pub submission: String,
    pub commit: String,
    pub release: String,
    pub review: String,
    pub datetime: String,
    pub score: u64,
    #[serde(rename = "max-score")]
    pub max_score: u64,
    pub tests: Vec<TestJson>,
}

#[derive(Serialize, Debug)]
pub struct TestJson {
    #[serde(rename = "test-name")]
    pub test_name: String,
    pub passed: bool,
    pub score: u64,
    #[serde(rename = "max-score")]
    pub max_score: u64,
}

/// What the runner tells the autograder about the submission.
#[derive(Default, Debug)]
pub struct Submission {
    pub classroom: String,
    pub assignment: String,
    /// The learner (the release body names them; the runner stamps the
    /// owner into result.json itself).
    pub username: String,
    pub tag: String,
    pub commit_url: String,
    pub release_url: String,
    pub review_url: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub datetime: String,
}

impl Submission {
    fn from_env(datetime: Option<&str>) -> Result<Submission> {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let commit_url = var("COMMIT_URL");
        let review = var("REVIEW_URL");
        Ok(Submission {
            classroom: var("CLASSROOM"),
            assignment: var("ASSIGNMENT"),
            username: var("USERNAME"),
            tag: var("SUBMISSION_TAG"),
            review_url: if review.is_empty() {
                commit_url.clone()
            } else {
                review
            },
            commit_url,
            release_url: var("RELEASE_URL"),
            datetime: match datetime {
                Some(text) => utc_seconds(text)?,
                None => crate::progress::now(),
            },
        })
    }
}

/// `text` (seconds since 1970, as `git log --format=%ct` prints them, or a
/// UTC time like `2026-12-06T21:30:00Z`) as UTC to the second, `...Z`.
fn utc_seconds(text: &str) -> Result<String> {
    let text = text.trim();
    let at = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = text.parse().context("--datetime: too large")?;
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
    } else {
        humantime::parse_rfc3339_weak(text).with_context(|| {
            format!("--datetime {text:?} is neither seconds since 1970 nor a UTC time like 2026-12-06T21:30:00Z")
        })?
    };
    Ok(humantime::format_rfc3339_seconds(at).to_string())
}

/// One check of a graded step, with what its result said.
struct Line<'a> {
    step: &'a Step,
    title: &'a str,
    passed: bool,
    status: String,
    message: Option<String>,
    hint: Option<String>,
}

/// The graded checks, in course order; `missing` lists the steps without
/// a result.
fn lines<'a>(steps: &[&'a Step], results: &Results) -> (Vec<Line<'a>>, Vec<&'a Step>) {
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    for step in steps {
        let result = results.get(&step.id);
        if result.is_none() {
            missing.push(*step);
        }
        for check in &step.checks {
            let entry = result.and_then(|r| {
                r.checks
                    .iter()
                    .find(|c| c.id == check.id)
                    // Result files of an older grader name checks by title only.
                    .or_else(|| {
                        r.checks
                            .iter()
                            .find(|c| c.id.is_empty() && c.title == check.title)
                    })
            });
            let compile_error = result.is_some_and(|r| r.status == "compile-error");
            let status = match (result, entry) {
                (None, _) => "no result".to_string(),
                _ if compile_error => "does not compile".to_string(),
                (Some(_), None) => "not run".to_string(),
                (Some(_), Some(e)) => e.status.clone(),
            };
            lines.push(Line {
                step,
                title: &check.title,
                passed: status == "pass",
                status,
                message: entry.and_then(|e| e.message.clone()),
                hint: entry.and_then(|e| e.hint.clone()),
            });
        }
    }
    (lines, missing)
}

/// The result document and the release body for `steps`.
pub fn render(
    steps: &[&Step],
    results: &Results,
    submission: &Submission,
) -> (ResultJson, String, Vec<String>) {
    let (lines, missing) = lines(steps, results);
    let tests: Vec<TestJson> = lines
        .iter()
        .map(|l| TestJson {
            test_name: l.title.to_string(),
            passed: l.passed,
            score: u64::from(l.passed),
            max_score: 1,
        })
        .collect();
    let result = ResultJson {
        schema: SCHEMA,
        classroom: submission.classroom.clone(),
        assignment: submission.assignment.clone(),
        submission: submission.tag.clone(),
        commit: submission.commit_url.clone(),
        release: submission.release_url.clone(),
        review: submission.review_url.clone(),
        datetime: submission.datetime.clone(),
        score: tests.iter().map(|t| t.score).sum(),
        max_score: tests.iter().map(|t| t.max_score).sum(),
        tests,
    };
    let body = release_body(steps, &lines, &result, submission);
    let missing = missing.iter().map(|s| s.id.clone()).collect();
    (result, body, missing)
}

/// The most lines of a failure message the release body quotes, and the
/// most characters of each: the message may quote what the learner's code
/// printed.
const MESSAGE_LINES: usize = 6;
const LINE_CHARS: usize = 200;

fn release_body(
    steps: &[&Step],
    lines: &[Line],
    result: &ResultJson,
    submission: &Submission,
) -> String {
    let mut md = format!(
        "### Autograding: {} / {} points\n\n",
        result.score, result.max_score
    );
    let who = [
        ("assignment", &submission.assignment),
        ("learner", &submission.username),
        ("submission", &submission.tag),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k} {}", md_escape(v)))
    .collect::<Vec<_>>();
    if !who.is_empty() {
        let _ = write!(md, "{}\n\n", who.join(" · "));
    }
    md.push_str("| Step | Checks passed | Points |\n| --- | --- | --- |\n");
    for step in steps {
        let mine: Vec<&Line> = lines.iter().filter(|l| l.step.id == step.id).collect();
        let passed = mine.iter().filter(|l| l.passed).count();
        let cell = match mine.first().map(|l| l.status.as_str()) {
            Some("no result") => "no result (the step did not run)".to_string(),
            Some("does not compile") => "does not compile ❌".to_string(),
            _ if passed == mine.len() => format!("{passed}/{} ✅", mine.len()),
            _ => format!("{passed}/{}", mine.len()),
        };
        let _ = writeln!(
            md,
            "| {}. {} | {cell} | {passed} / {} |",
            step.number(),
            md_escape(&step.title),
            mine.len()
        );
    }
    let failing: Vec<&Line> = lines.iter().filter(|l| !l.passed).collect();
    if !failing.is_empty() {
        md.push_str("\n#### Failing checks\n");
        for l in failing {
            // Each at the top level: a <pre> inside a list item would end
            // with the item, and Markdown would read what follows.
            let _ = write!(
                md,
                "\n**Step {}: {}** ({})\n",
                l.step.number(),
                md_escape(l.title),
                md_escape(&l.status)
            );
            if let Some(message) = l.message.as_deref().filter(|m| !m.trim().is_empty()) {
                let _ = write!(md, "\n<pre>{}</pre>\n", html_escape(&quote(message)));
            }
            if let Some(hint) = &l.hint {
                let _ = write!(md, "\nHint: {}\n", md_escape(hint));
            }
        }
        let _ = write!(
            md,
            "\nRun `cargo xtask check stepN` on your machine for the whole story, and `cargo xtask hint stepN` for the next hint.\n"
        );
    }
    md
}

/// The first lines of `message`, each cut short, control characters shown
/// as escapes.
fn quote(message: &str) -> String {
    let all: Vec<&str> = message.trim_end().lines().collect();
    let mut kept: Vec<String> = all
        .iter()
        .take(MESSAGE_LINES)
        .map(|l| ui::shorten(&ui::printable(l, false), LINE_CHARS))
        .collect();
    if all.len() > MESSAGE_LINES {
        kept.push(format!("… ({} more lines)", all.len() - MESSAGE_LINES));
    }
    kept.join("\n")
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` as literal Markdown text on one line: HTML's special characters
/// as entities, Markdown's punctuation backslash-escaped, line breaks as
/// spaces, control characters as escapes.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in ui::printable(&text.replace(['\r', '\n'], " "), false).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The two notices GitHub Classroom's grading reporter printed, which older
/// workflows and dashboards read from the log.
pub fn legacy_notices(score: u64, max: u64) -> String {
    format!(
        "::notice title=Autograding complete::Points {score}/{max}\n::notice title=Autograding report::{{\"totalPoints\":{score},\"maxPoints\":{max}}}\n"
    )
}

pub fn run(
    inputs: &[PathBuf],
    step: Option<&str>,
    out: &Path,
    datetime: Option<&str>,
) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let steps: Vec<&Step> = match step {
        Some(name) => vec![repo.step(name)?],
        None => repo.course.steps.iter().collect(),
    };
    let results = score::load(inputs)?;
    let submission = Submission::from_env(datetime)?;
    let (result, body, missing) = render(&steps, &results, &submission);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(&result)? + "\n";
    std::fs::write(out.join("result.json"), json)
        .with_context(|| format!("cannot write {}", out.join("result.json").display()))?;
    std::fs::write(out.join("release-body.md"), &body)
        .with_context(|| format!("cannot write {}", out.join("release-body.md").display()))?;
    let status = if !missing.is_empty() {
        "error"
    } else if result.score == result.max_score {
        "success"
    } else {
        "failure"
    };
    let summary = if missing.is_empty() {
        format!(
            "Autograding: {} / {} points",
            result.score, result.max_score
        )
    } else {
        format!(
            "Autograding did not finish: no result for {}",
            missing.join(", ")
        )
    };
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .context("cannot open $GITHUB_OUTPUT")?;
        writeln!(file, "status={status}\nsummary={summary}")?;
    }
    print!("{}", legacy_notices(result.score, result.max_score));
    if !missing.is_empty() {
        bail!(
            "{summary} (an infrastructure error, not a score: result.json says 0 for those steps)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::score::{CheckEntry, StepDoc};

    fn course() -> course::Course {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        course::Course::load(root).unwrap()
    }

    fn submission() -> Submission {
        Submission {
            classroom: "rust-threads".into(),
            assignment: "course".into(),
            username: "ada_l".into(),
            tag: "submit/2026-12-06T21-30-00Z-abc1234".into(),
            commit_url: "https://github.com/o/r/commit/abc".into(),
            release_url: "https://github.com/o/r/releases/tag/submit%2F1".into(),
            review_url: "https://github.com/o/r/compare/a...b".into(),
            datetime: "2026-12-06T21:30:00Z".into(),
        }
    }

    /// A result for `step` where the first `passing` checks pass, or a
    /// compile error.
    fn result(step: &Step, passing: Option<usize>) -> StepDoc {
        StepDoc {
            step: step.id.clone(),
            status: match passing {
                None => "compile-error".into(),
                Some(n) if n == step.checks.len() => "passed".into(),
                Some(_) => "failed".into(),
            },
            checks: step
                .checks
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pass = passing.is_some_and(|n| i < n);
                    CheckEntry {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        status: match passing {
                            None => "not-run".into(),
                            _ if pass => "pass".into(),
                            _ => "fail".into(),
                        },
                        message: (!pass && passing.is_some()).then(|| {
                            "expected <b>|x|</b>\n`code` **bold** [link](http://e)\n3\n4\n5\n6\n7\n8"
                                .to_string()
                        }),
                        hint: (!pass && passing.is_some())
                            .then(|| c.hints[0].clone() + " <script>|"),
                    }
                })
                .collect(),
        }
    }

    /// Checks the contract's field rules on `value`.
    fn validate(value: &serde_json::Value) {
        let obj = value.as_object().expect("an object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "assignment",
                "classroom",
                "commit",
                "datetime",
                "max-score",
                "release",
                "review",
                "schema",
                "score",
                "submission",
                "tests"
            ]
        );
        assert_eq!(obj["schema"], SCHEMA);
        for k in [
            "classroom",
            "assignment",
            "submission",
            "commit",
            "release",
            "review",
        ] {
            assert!(obj[k].is_string(), "{k}");
        }
        let dt = obj["datetime"].as_str().unwrap();
        let b = dt.as_bytes();
        assert_eq!(b.len(), 20, "{dt}");
        for (i, c) in b.iter().enumerate() {
            match i {
                4 | 7 => assert_eq!(*c, b'-', "{dt}"),
                10 => assert_eq!(*c, b'T', "{dt}"),
                13 | 16 => assert_eq!(*c, b':', "{dt}"),
                19 => assert_eq!(*c, b'Z', "{dt}"),
                _ => assert!(c.is_ascii_digit(), "{dt}"),
            }
        }
        let tests = obj["tests"].as_array().unwrap();
        let (mut sum, mut max) = (0, 0);
        for t in tests {
            let t = t.as_object().unwrap();
            let mut keys: Vec<&str> = t.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["max-score", "passed", "score", "test-name"]);
            assert!(!t["test-name"].as_str().unwrap().is_empty());
            let passed = t["passed"].as_bool().unwrap();
            let score = t["score"].as_u64().unwrap();
            let m = t["max-score"].as_u64().unwrap();
            assert!(score <= m);
            assert_eq!(score == m, passed);
            sum += score;
            max += m;
        }
        assert_eq!(obj["score"].as_u64(), Some(sum));
        assert_eq!(obj["max-score"].as_u64(), Some(max));
    }

    fn json(steps: &[&Step], results: &Results) -> (serde_json::Value, String) {
        let (r, body, missing) = render(steps, results, &submission());
        assert!(missing.is_empty(), "{missing:?}");
        (serde_json::to_value(&r).unwrap(), body)
    }

    #[test]
    fn result_json_keeps_the_contract_untouched_solved_and_half_solved() {
        let course = course();
        let steps: Vec<&Step> = course.steps.iter().collect();
        let total: usize = steps.iter().map(|s| s.checks.len()).sum();
        // Untouched exercises: every check fails (step 1 does not even compile
        // in this made-up case).
        let untouched: Results = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), result(s, (i > 0).then_some(0))))
            .collect();
        let (v, _) = json(&steps, &untouched);
        validate(&v);
        assert_eq!(v["score"], 0);
        assert_eq!(v["max-score"], total);
        // The solutions: everything passes.
        let solved: Results = steps
            .iter()
            .map(|s| (s.id.clone(), result(s, Some(s.checks.len()))))
            .collect();
        let (v, body) = json(&steps, &solved);
        validate(&v);
        assert_eq!(v["score"], total);
        assert!(!body.contains("Failing checks"), "{body}");
        // Half solved: the first three steps done, step 4 half, the rest failing.
        let half: Results = steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = match i {
                    0..=2 => s.checks.len(),
                    3 => s.checks.len() / 2,
                    _ => 0,
                };
                (s.id.clone(), result(s, Some(n)))
            })
            .collect();
        let (v, _) = json(&steps, &half);
        validate(&v);
        let expected: usize =
            steps[..3].iter().map(|s| s.checks.len()).sum::<usize>() + steps[3].checks.len() / 2;
        assert_eq!(v["score"], expected);
        // One test per check, titled as the course titles it.
        let names: Vec<&str> = v["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["test-name"].as_str().unwrap())
            .collect();
        let titles: Vec<&str> = steps
            .iter()
            .flat_map(|s| s.checks.iter().map(|c| c.title.as_str()))
            .collect();
        assert_eq!(names, titles);
    }

    #[test]
    fn one_step_is_graded_on_its_own_points_whatever_the_results_claim() {
        let course = course();
        let step3 = &course.steps[2];
        let mut doc = result(step3, Some(step3.checks.len()));
        // A result that adds a check the course does not have, and repeats one.
        doc.checks.push(CheckEntry {
            id: "free-points".into(),
            title: "Free points".into(),
            status: "pass".into(),
            message: None,
            hint: None,
        });
        let results: Results = [(step3.id.clone(), doc)].into_iter().collect();
        let (v, _) = json(&[step3], &results);
        validate(&v);
        assert_eq!(v["score"], step3.checks.len());
        assert_eq!(v["max-score"], step3.checks.len());
    }

    #[test]
    fn a_step_without_a_result_is_an_error_not_a_score() {
        let course = course();
        let steps: Vec<&Step> = course.steps.iter().take(2).collect();
        let results: Results = [(steps[0].id.clone(), result(steps[0], Some(1)))]
            .into_iter()
            .collect();
        let (r, body, missing) = render(&steps, &results, &submission());
        assert_eq!(missing, [steps[1].id.clone()]);
        assert_eq!(r.score, 1);
        assert!(body.contains("no result (the step did not run)"), "{body}");
    }

    #[test]
    fn release_body_escapes_what_it_quotes_and_keeps_it_short() {
        let course = course();
        let step1 = &course.steps[0];
        let results: Results = [(step1.id.clone(), result(step1, Some(2)))]
            .into_iter()
            .collect();
        let (_, body) = json(&[step1], &results);
        println!("{body}");
        assert!(
            body.starts_with("### Autograding: 2 / 5 points\n"),
            "{body}"
        );
        assert!(
            body.contains("| 1. The single-thread model | 2/5 | 2 / 5 |"),
            "{body}"
        );
        // The message is quoted in a <pre>, its tags as text...
        assert!(
            body.contains("<pre>expected &lt;b&gt;|x|&lt;/b&gt;"),
            "{body}"
        );
        assert!(!body.contains("<b>"), "{body}");
        // ... six lines of it at most.
        assert!(body.contains("6\n… (2 more lines)</pre>"), "{body}");
        assert!(!body.contains("\n7\n"), "{body}");
        // The first hint, as plain text: no tag, no table cell breaks.
        let hint = md_escape(&step1.checks[2].hints[0]);
        assert!(
            body.contains(&format!("Hint: {hint} &lt;script&gt;\\|")),
            "{body}"
        );
        assert!(!body.contains("<script"), "{body}");
        // Three failing checks, each once.
        assert_eq!(body.matches("\n**Step 1: ").count(), 3, "{body}");
        assert!(
            body.contains("**Step 1: Each event's queueing delay"),
            "{body}"
        );
        // Markdown inside the quote stays text: it is in an HTML block.
        assert!(body.contains("<pre>expected"), "{body}");
        assert!(!body.contains("\n  <pre>"), "{body}");
    }

    #[test]
    fn md_escape_leaves_no_markup() {
        assert_eq!(md_escape("a*b_c`d"), "a\\*b\\_c\\`d");
        assert_eq!(md_escape("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(md_escape("line\nbreak | cell"), "line break \\| cell");
        assert_eq!(md_escape("\u{1b}[31mred"), "\\\\x1b\\[31mred");
    }

    #[test]
    fn legacy_notices_are_the_two_lines_github_classroom_printed() {
        assert_eq!(
            legacy_notices(3, 5),
            "::notice title=Autograding complete::Points 3/5\n::notice title=Autograding report::{\"totalPoints\":3,\"maxPoints\":5}\n"
        );
    }

    #[test]
    fn datetimes_become_utc_seconds() {
        assert_eq!(utc_seconds("1796592600").unwrap(), "2026-12-06T21:30:00Z");
        assert_eq!(
            utc_seconds("2026-12-06T21:30:00.25Z").unwrap(),
            "2026-12-06T21:30:00Z"
        );
        assert!(utc_seconds("yesterday").is_err());
    }
}
