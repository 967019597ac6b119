//! The workshop tools: `doctor`, `report`, `class-report`, `gen-autograde`
//! and `score`.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::repo_root;

fn xtask(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.current_dir(repo_root())
        .env_remove("COURSE_ROOT")
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn doctor_checks_the_machine() {
    let state = tempfile::tempdir().unwrap();
    xtask(state.path())
        .arg("doctor")
        .timeout(std::time::Duration::from_secs(600))
        .assert()
        .success()
        .stdout(predicate::str::contains("✓ Rust toolchain: rustc"))
        .stdout(predicate::str::contains(
            "✓ the exercises and their checks build",
        ))
        .stdout(predicate::str::contains("✓ child processes can be started"))
        .stdout(predicate::str::contains("CPU cores"))
        .stdout(predicate::str::contains("All good: ready for the workshop"));
}

#[test]
fn report_writes_the_documented_schema_and_nothing_else() {
    let state = tempfile::tempdir().unwrap();
    // One failing check run, so the report has something to say.
    xtask(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let out = state.path().join("me.json");
    xtask(state.path())
        .args(["report", "--name", "ada"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Send this file to your instructor",
        ));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "generated_at",
            "name",
            "schema",
            "schema_version",
            "steps",
            "tool_version"
        ]
    );
    assert_eq!(v["schema"], "threads-course/attendee-report");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["name"], "ada");
    let step1 = &v["steps"][0];
    assert_eq!(step1["id"], "step1-blocking");
    assert_eq!(step1["status"], "in-progress");
    assert_eq!(step1["checks_passed"], 0);
    assert_eq!(step1["checks_total"], 5);
    assert_eq!(step1["failing"].as_array().unwrap().len(), 5);
    assert!(step1["last_checked"].as_str().unwrap().ends_with('Z'));
    // The ✗ lines showed the first hint tier of each failing check.
    assert_eq!(step1["deepest_hint"], 1);
    assert_eq!(v["steps"][1]["status"], "not-started");

    // Without --name and without a terminal to ask on, it says what to do.
    xtask(state.path())
        .arg("report")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--name"));
}

#[test]
fn class_report_tabulates_the_class_and_skips_foreign_files() {
    let state = tempfile::tempdir().unwrap();
    let html = state.path().join("class.html");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/class");
    let assert = xtask(state.path())
        .arg("class-report")
        .arg(&fixtures)
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    println!("{out}");
    let row = |name: &str| table_row(&out, name);
    // The report, from an older course, says step 2 has 5 checks: the
    // course's own count is shown, never the report's.
    let step2 = repo_course_checks("step2-offloading");
    assert_ne!(step2, 5);
    assert_eq!(
        row("alice"),
        [
            "alice",
            "✓★",
            &format!("3/{step2}"),
            "h2",
            "·",
            "·",
            "·",
            "·",
            "·",
            "1/7"
        ]
    );
    // An older grader's report has no hint depth: no mark either way.
    assert_eq!(
        row("bob"),
        ["bob", "3/5", "·", "·", "·", "·", "·", "·", "0/7"]
    );
    assert_eq!(
        row("carol"),
        ["carol", "✓", "h3", "✓★", "build", "✗", "·", "·", "·", "·", "2/7"]
    );
    assert_eq!(
        row("dave"),
        ["dave", "4/5", "h3", "·", "·", "·", "·", "·", "·", "0/7"]
    );
    assert!(
        out.contains("On their own: 2 of the 3 steps done took no hint beyond the first."),
        "{out}"
    );
    // The instructor guide shows this very output.
    let guide = std::fs::read_to_string(repo_root().join("book/src/instructor-guide.md")).unwrap();
    let table = &out[..out.find("\nWrote").expect("the Wrote line")];
    assert!(
        guide.contains(&format!("```text\n{}\n```", table.trim_end())),
        "book/src/instructor-guide.md no longer shows what class-report prints for the fixture class; paste this:\n{table}"
    );
    assert!(out.contains("4 attendees."), "{out}");
    assert!(
        out.contains(
            "Most failing check: step1-blocking / blame: \"The handler that blocked the loop is found\" fails for 2 of 4 attendees."
        ),
        "{out}"
    );
    assert!(err.contains("skipped"), "{err}");
    assert!(err.contains("notes.json: not an attendee report"), "{err}");
    assert!(err.contains("truncated.json: not JSON"), "{err}");

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        !page.contains("<script") && !page.contains("<link"),
        "self-contained"
    );
    assert!(page.contains(&format!(
        "<tr><td class=\"name\">alice</td><td class=\"done\">✓★</td><td class=\"partial\">3/{step2} h2</td>"
    )));
    assert!(page.contains("<td class=\"broken\">build ✗</td>"));
    assert!(page.contains("fails for 2 of 4 attendees"));
}

#[test]
fn committed_autograde_workflow_matches_the_manifest() {
    let state = tempfile::tempdir().unwrap();
    xtask(state.path())
        .args(["gen-autograde", "--check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("up to date"));

    let text =
        std::fs::read_to_string(repo_root().join(".github/workflows/autograde.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML");
    let job = &docs[0]["jobs"]["autograde"];
    assert_eq!(job["runs-on"].as_str(), Some("ubuntu-latest"));
    let steps = job["steps"].as_vec().unwrap();
    let manifest = course::Course::load(&repo_root()).unwrap();
    for step in &manifest.steps {
        let short = step.short_id();
        let graded = steps
            .iter()
            .find(|s| s["id"].as_str() == Some(short))
            .unwrap_or_else(|| panic!("no workflow step for {short}"));
        assert_eq!(graded["continue-on-error"].as_bool(), Some(true));
        let run = graded["run"].as_str().unwrap();
        assert!(
            run.starts_with(&format!("cargo xtask check {short} --format json")),
            "{run}"
        );
        // Graded in the grader's checkout, never in the fork's.
        assert_eq!(graded["working-directory"].as_str(), Some("upstream"));
        let name = graded["name"].as_str().unwrap();
        assert!(
            name.contains(&format!("({} points)", step.checks.len())),
            "{name}"
        );
    }
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(runs.iter().any(|r| r.contains("GITHUB_STEP_SUMMARY")));
    assert!(runs.iter().any(|r| r.contains("cargo xtask classroom50")));
    assert!(steps
        .iter()
        .any(|s| s["uses"].as_str() == Some("actions/upload-artifact@v6")));
    // Two checkouts: the fork (only its exercises are taken) and the grader.
    let checkouts: Vec<&yaml_rust2::Yaml> = steps
        .iter()
        .filter(|s| s["uses"].as_str() == Some("actions/checkout@v5"))
        .collect();
    assert_eq!(checkouts.len(), 2);
    assert_eq!(checkouts[0]["with"]["path"].as_str(), Some("fork"));
    assert_eq!(checkouts[1]["with"]["path"].as_str(), Some("upstream"));
    for checkout in &checkouts {
        assert_eq!(
            checkout["with"]["persist-credentials"].as_bool(),
            Some(false)
        );
    }
    let take = runs
        .iter()
        .position(|r| r.contains("cargo xtask take-exercises --from ../fork"))
        .expect("the fork's exercises are taken");
    let first_check = runs
        .iter()
        .position(|r| r.starts_with("cargo xtask check"))
        .unwrap();
    assert!(take < first_check);
    assert!(
        !text.contains("secrets."),
        "must work in a fork without secrets"
    );
}

#[test]
fn score_turns_results_into_a_markdown_table() {
    let state = tempfile::tempdir().unwrap();
    let results = state.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let out = xtask(state.path())
        .args(["check", "step1", "--solution", "--format", "json"])
        .output()
        .unwrap();
    std::fs::write(results.join("step1-blocking.json"), &out.stdout).unwrap();
    std::fs::write(results.join("junk.json"), "{}").unwrap();
    xtask(state.path())
        .arg("score")
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "| 1. The single-thread model | 5/5 ✅ | 5 / 5 |",
        ))
        .stdout(predicate::str::contains("## Autograding: 5 / "))
        .stderr(predicate::str::contains("junk.json: not a check result"));
}

/// How many checks step `id` has in the course's manifest.
fn repo_course_checks(id: &str) -> usize {
    let course = course::Course::load(&repo_root()).unwrap();
    course
        .steps
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.checks.len())
        .unwrap()
}

#[test]
fn class_report_reads_classroom50_scores() {
    let state = tempfile::tempdir().unwrap();
    let html = state.path().join("class.html");
    let scores =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/classroom50/scores.json");
    let assert = xtask(state.path())
        .arg("class-report")
        .arg(&scores)
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    println!("{out}");
    let row = |name: &str| table_row(&out, name);
    // Erin's newest step-1 submission passed (an older one had 2/5); her
    // step-2 assignment passed 4 checks, out of the course's step 2.
    let step2 = repo_course_checks("step2-offloading");
    assert_eq!(
        row("Erin"),
        [
            "Erin",
            "✓",
            &format!("4/{step2}"),
            "·",
            "·",
            "·",
            "·",
            "·",
            "1/7"
        ]
    );
    assert_eq!(
        row("frank"),
        ["frank", "3/5", "·", "·", "·", "·", "·", "·", "0/7"]
    );
    // An assignment of the whole course fills every step.
    assert_eq!(
        row("grace"),
        [
            "grace".to_string(),
            "✓".into(),
            "✓".into(),
            "✓".into(),
            format!("0/{}", repo_course_checks("step4-pipe-ipc")),
            format!("0/{}", repo_course_checks("step5-race-conditions")),
            format!("0/{}", repo_course_checks("step6-isolation")),
            format!("0/{}", repo_course_checks("step7-pool-limits")),
            "3/7".into()
        ]
    );
    // Accepted but never submitted: no row.
    assert!(!out.contains("heidi"), "{out}");
    assert!(out.contains("3 attendees."), "{out}");
    // Classroom 50 does not know the hints taken: no "on their own" claim.
    assert!(!out.contains("On their own"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<td class=\"name\">grace</td>"), "{page}");
}

/// The rules of Classroom 50's result contract that `result.json` keeps.
fn assert_classroom50_result(v: &Value, max: u64) {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
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
    assert_eq!(v["schema"], "classroom50/result/v1");
    let dt = v["datetime"].as_str().unwrap();
    assert_eq!(dt.len(), 20, "{dt}");
    assert!(
        humantime::parse_rfc3339(dt).is_ok() && dt.ends_with('Z'),
        "{dt}"
    );
    let tests = v["tests"].as_array().unwrap();
    let sum: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    let most: u64 = tests.iter().map(|t| t["max-score"].as_u64().unwrap()).sum();
    assert_eq!(v["score"].as_u64(), Some(sum));
    assert_eq!(v["max-score"].as_u64(), Some(most));
    assert_eq!(most, max);
    for t in tests {
        let mut keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["max-score", "passed", "score", "test-name"]);
        assert_eq!(t["passed"].as_bool().unwrap(), t["score"] == t["max-score"]);
    }
}

#[test]
fn classroom50_result_from_the_untouched_exercise_and_the_solution() {
    let state = tempfile::tempdir().unwrap();
    for (args, score) in [
        (&["check", "step1", "--format", "json"][..], 0),
        (&["check", "step1", "--solution", "--format", "json"][..], 5),
    ] {
        let results = state.path().join(format!("results-{score}"));
        std::fs::create_dir(&results).unwrap();
        let out = xtask(state.path()).args(args).output().unwrap();
        std::fs::write(results.join("step1-blocking.json"), &out.stdout).unwrap();
        let github_output = state.path().join(format!("output-{score}"));
        let assert = xtask(state.path())
            .args([
                "classroom50",
                "--step",
                "step1",
                "--datetime",
                "1796592600",
                "--out",
            ])
            .arg(&results)
            .arg(&results)
            .env("CLASSROOM", "rust-threads")
            .env("ASSIGNMENT", "step1")
            .env("SUBMISSION_TAG", "submit/2026-12-06T21-30-00Z-abc1234")
            .env("COMMIT_URL", "https://github.com/o/r/commit/abc")
            .env("RELEASE_URL", "https://github.com/o/r/releases/tag/x")
            .env_remove("REVIEW_URL")
            .env("GITHUB_OUTPUT", &github_output)
            .assert()
            .success();
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert_eq!(
            stdout,
            format!("::notice title=Autograding complete::Points {score}/5\n::notice title=Autograding report::{{\"totalPoints\":{score},\"maxPoints\":5}}\n")
        );
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(results.join("result.json")).unwrap())
                .unwrap();
        assert_classroom50_result(&v, 5);
        assert_eq!(v["score"], score);
        assert_eq!(v["datetime"], "2026-12-06T21:30:00Z");
        // Without REVIEW_URL, the commit stands for the review.
        assert_eq!(v["review"], v["commit"]);
        let status = if score == 5 { "success" } else { "failure" };
        assert_eq!(
            std::fs::read_to_string(&github_output).unwrap(),
            format!("status={status}\nsummary=Autograding: {score} / 5 points\n")
        );
        let body = std::fs::read_to_string(results.join("release-body.md")).unwrap();
        assert!(
            body.starts_with(&format!("### Autograding: {score} / 5 points")),
            "{body}"
        );
        assert_eq!(body.contains("<pre>"), score == 0, "{body}");
    }
}

/// The cells of `name`'s row in a class-report table.
fn table_row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{out}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}
