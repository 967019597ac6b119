//! The `cargo xtask` command line, driven as a learner drives it.
//!
//! Every test points the grader's state (progress, backups) at a temporary
//! directory with COURSE_STATE_DIR, so the tests never touch a learner's own
//! progress. Tests that need misbehaving checks use the fixture course in
//! tests/fixture (COURSE_ROOT).

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{fixture_root, repo_root};

/// `xtask` run at the course root with a private state directory.
fn xtask(state: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.current_dir(repo_root())
        .env_remove("COURSE_ROOT")
        .env("COURSE_STATE_DIR", state.path())
        .env("NO_COLOR", "1");
    cmd
}

/// The grader on the fixture course; its `hangs` check fails at once, as
/// in `common::fixture`.
fn fixture(state: &tempfile::TempDir) -> Command {
    crate::common::reads_fixture();
    let mut cmd = xtask(state);
    cmd.env("COURSE_ROOT", fixture_root())
        .env("FIXTURE_NO_HANG", "1");
    cmd
}

/// A check's hint tier in the real course manifest (1 = the first).
fn course_hint(step: &str, check: &str, tier: usize) -> String {
    let course = course::Course::load(&repo_root()).unwrap();
    let step = course.find_step(step).unwrap();
    let check = step.checks.iter().find(|c| c.id == check).unwrap();
    check.hint(tier).to_string()
}

/// The first `n` words of a text: enough to find it in wrapped output.
fn opening(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

fn json(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(output)))
}

#[test]
fn list_shows_every_step_and_the_next_one() {
    let state = tempfile::tempdir().unwrap();
    xtask(&state)
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("step1"))
        .stdout(predicate::str::contains("The single-thread model"))
        .stdout(predicate::str::contains("▶  step1"))
        .stdout(predicate::str::contains(
            "Next: read book/src/step1-blocking.md, then run `cargo xtask check step1`.",
        ));
}

#[test]
fn list_json_follows_the_schema() {
    let state = tempfile::tempdir().unwrap();
    let out = xtask(&state)
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&out.stdout);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["kind"], "list");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["id"], "step1-blocking");
    assert_eq!(steps[0]["next"], true);
    for s in steps {
        for key in [
            "id",
            "title",
            "exercise",
            "chapter",
            "minutes",
            "status",
            "checks_total",
        ] {
            assert!(!s[key].is_null(), "{key} missing in {s}");
        }
    }
}

#[test]
fn untouched_exercise_fails_with_titles_and_hints_and_records_progress() {
    let state = tempfile::tempdir().unwrap();
    xtask(&state)
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "✗ Events are handled one at a time, in the order they arrived",
        ))
        .stdout(predicate::str::contains(format!(
            "hint: {}",
            opening(&course_hint("step1", "fifo-order", 1), 4)
        )))
        .stdout(predicate::str::contains("it reached `todo!(\"enqueue\")`"))
        .stdout(predicate::str::contains("0 of 5 checks passed"))
        // Each `todo!()` reached is one cause, however many checks reach it.
        .stdout(predicate::str::contains(
            "the 5 that fail come down to 3 causes.",
        ));
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert!(progress.contains("[steps.step1-blocking]"), "{progress}");
    // hint now shows only the failing checks' hints (all of them), one
    // tier deeper than the ✗ showed.
    xtask(&state)
        .args(["hint", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("failed last time"))
        .stdout(predicate::str::contains("    2 of "))
        .stdout(predicate::str::contains("(new):"))
        .stdout(predicate::str::contains(
            "The handler that blocked the loop is found",
        ));
    xtask(&state)
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("in progress (0/5 checks)"));
}

#[test]
fn solution_passes_and_says_what_is_next() {
    let state = tempfile::tempdir().unwrap();
    xtask(&state)
        .args(["check", "step1-blocking", "--solution"])
        .assert()
        .success()
        .stdout(predicate::str::contains("All 5 checks of step 1 passed."));
}

#[test]
fn check_json_follows_the_schema() {
    let state = tempfile::tempdir().unwrap();
    let out = xtask(&state)
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out.stdout);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["kind"], "check");
    let step = &v["steps"][0];
    assert_eq!(step["step"], "step1-blocking");
    assert_eq!(step["target"], "exercise");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["totals"]["total"], 5);
    assert_eq!(step["totals"]["failed"], 5);
    let check = &step["checks"][0];
    assert_eq!(check["id"], "fifo-order");
    assert_eq!(check["status"], "fail");
    assert!(check["message"].as_str().unwrap().contains("todo!"));
    assert_eq!(
        check["hint"].as_str().unwrap(),
        course_hint("step1", "fifo-order", 1)
    );
    assert!(check["hint_tiers"].as_u64().unwrap() >= 3);
    assert!(check["duration_ms"].is_u64());
    assert_eq!(v["totals"]["total"], 5);
}

#[test]
fn check_json_carries_the_trace_that_explains_a_failure() {
    let state = tempfile::tempdir().unwrap();
    let out = fixture(&state)
        .env_remove("FIXTURE_NO_HANG")
        .args(["check", "step1", "--format", "json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let v = json(&out.stdout);
    let checks = v["steps"][0]["checks"].as_array().unwrap();
    let by_id = |id: &str| checks.iter().find(|c| c["id"] == id).unwrap();
    let trace = &by_id("fails")["trace"];
    let lanes: Vec<&str> = trace["lanes"]
        .as_array()
        .unwrap_or_else(|| panic!("no trace on the failing check: {v}"))
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(lanes, ["check", "the fixture"]);
    assert!(trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e.to_string().contains("got 41")));
    // A pass carries none.
    assert!(by_id("passes").get("trace").is_none());
    // Out of time, a check still hands over what it recorded (Unix: the
    // grader asks with a signal before it kills the check).
    let hangs = &by_id("hangs");
    assert_eq!(hangs["status"], "timeout", "{hangs}");
    if cfg!(unix) {
        let events = hangs["trace"]["events"].to_string();
        assert!(events.contains("blocks"), "{hangs}");
        assert!(events.contains("out of time"), "{hangs}");
    } else {
        assert!(hangs.get("trace").is_none());
    }
}

#[test]
fn unknown_step_lists_the_steps_and_suggests_one() {
    let state = tempfile::tempdir().unwrap();
    xtask(&state)
        .args(["check", "stpe1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("there is no step `stpe1`"))
        .stderr(predicate::str::contains("Did you mean `step1`?"))
        .stderr(predicate::str::contains("step1, step2"))
        .stderr(predicate::str::contains("panicked").not());
    xtask(&state)
        .args(["hint", "step99"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("there is no step `step99`"));
}

#[test]
fn outside_the_repository_says_so() {
    let state = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    xtask(&state)
        .current_dir(elsewhere.path())
        .arg("list")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not inside the course repository"));
}

#[test]
fn malformed_manifest_names_the_line() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("course.toml"),
        "[course]\ntitle = \"x\"\ntimeout_secs = \"soon\"\n",
    )
    .unwrap();
    xtask(&state)
        .env("COURSE_ROOT", root.path())
        .arg("list")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("course.toml:3:"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn corrupt_progress_is_rebuilt_with_a_warning() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("progress.toml"), "this is [not toml").unwrap();
    xtask(&state)
        .arg("list")
        .assert()
        .success()
        .stderr(predicate::str::contains("damaged"));
}

#[test]
fn failures_aborts_and_hangs_are_reported_and_nothing_is_left_running() {
    let state = tempfile::tempdir().unwrap();
    let lock_file = state.path().join("grandchild.lock");
    let traces = state.path().join("traces");
    fixture(&state)
        .env_remove("FIXTURE_NO_HANG")
        .env("FIXTURE_LOCK_FILE", &lock_file)
        .args(["check", "step1", "--trace"])
        .arg(&traces)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("✓ A check that passes"))
        // The failing check's trace, drawn under its message.
        .stdout(predicate::str::contains(
            "what happened (time since the check started):",
        ))
        .stdout(predicate::str::contains("the fixture "))
        .stdout(predicate::str::contains("got 41"))
        .stderr(predicate::str::contains(if cfg!(unix) {
            // The failing check, and the hanging one (asked at its limit).
            "Traces: 2 traced checks of step1-fixture"
        } else {
            "Traces: 1 traced checks of step1-fixture"
        }))
        // A passing check's output is not shown.
        .stdout(predicate::str::contains("only shown when a check fails").not())
        .stdout(predicate::str::contains("expected 42, got 41"))
        .stdout(predicate::str::contains("before it could report"))
        .stdout(predicate::str::contains(
            "did not finish in 2 s: a deadlock or an endless loop?",
        ))
        .stdout(predicate::str::contains("hint: Look for a deadlock."))
        .stdout(predicate::str::contains("1 of 4 checks passed."));
    // The grandchild wrote its pid into the file while holding a lock on it;
    // the OS releases the lock only when the process is gone.
    let pid = std::fs::read_to_string(&lock_file).unwrap_or_default();
    assert!(
        !pid.is_empty(),
        "the hanging check never started its grandchild"
    );
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_file)
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(file.lock().is_ok());
    });
    // A killed process lets go at once; the limit only bounds the wait.
    let released = rx.recv_timeout(std::time::Duration::from_secs(10));
    assert_eq!(
        released,
        Ok(true),
        "the hanging check's grandchild (pid {pid}) still holds its lock: it is still running"
    );
    // --trace wrote the traced check's picture and trace JSON.
    let dir = traces.join("step1-fixture");
    let svg = std::fs::read_to_string(dir.join("fails.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("answer()"), "{svg}");
    let events = json(&std::fs::read(dir.join("fails.trace.json")).unwrap());
    let lanes = events["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .count();
    assert_eq!(lanes, 2, "{events}");
}

#[test]
fn hints_unfold_one_tier_at_a_time_across_check_and_hint() {
    let state = tempfile::tempdir().unwrap();
    let tier1 = "hint: What does the failure message say?";
    let tier2 = "The tool: the failure message, read slowly.";
    let tier3 = "The outline: make the check pass.";
    // The first ✗ shows the question, never the outline.
    fixture(&state)
        .args(["check", "step1"])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(tier1))
        .stdout(predicate::str::contains(
            "(hint 1 of 3; `cargo xtask hint step1` shows the next)",
        ))
        .stdout(predicate::str::contains(tier2).not())
        .stdout(predicate::str::contains(tier3).not());
    // Each `hint` unfolds one more tier of each failing check, and only of
    // the failing ones.
    fixture(&state)
        .args(["hint", "step1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("2 of 3 (new): {tier2}")))
        .stdout(predicate::str::contains(tier3).not())
        .stdout(predicate::str::contains("Still nothing to do.").not());
    fixture(&state)
        .args(["hint", "step1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "3 of 3 (new; the last): {tier3}"
        )));
    fixture(&state)
        .args(["hint", "step1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "3 of 3 (the last): {tier3}"
        )))
        .stdout(predicate::str::contains("(new").not());
    // A failing check now shows the deepest tier seen.
    fixture(&state)
        .args(["check", "step1"])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("hint: {tier3}")))
        .stdout(predicate::str::contains("(hint 3 of 3, the last;"));
    // The instructor's report says how deep the hints went, and the class
    // table marks it.
    let report = state.path().join("report.json");
    fixture(&state)
        .args(["report", "--name", "ada", "--out"])
        .arg(&report)
        .assert()
        .success();
    let v = json(&std::fs::read(&report).unwrap());
    assert_eq!(v["steps"][0]["deepest_hint"], 3, "{v}");
    let html = state.path().join("class.html");
    fixture(&state)
        .arg("class-report")
        .arg(&report)
        .arg("--html")
        .arg(&html)
        .assert()
        .success()
        .stdout(predicate::str::contains("1/4 h3"));
    // --all shows every tier, of every check.
    let fresh = tempfile::tempdir().unwrap();
    fixture(&fresh)
        .args(["hint", "step1", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Every hint of every check"))
        .stdout(predicate::str::contains(tier3))
        .stdout(predicate::str::contains("It already passes."));
    // A look at the whole list is not a climb: the next failure still
    // starts with the first hint.
    fixture(&fresh)
        .args(["check", "step1"])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(tier1));
}

#[test]
fn verify_reports_a_check_that_cannot_fail() {
    let state = tempfile::tempdir().unwrap();
    let out = fixture(&state)
        .args(["verify", "--format", "json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out.stdout);
    assert_eq!(v["kind"], "verify");
    assert_eq!(v["ok"], false);
    let step = &v["steps"][0];
    assert_eq!(step["solution_passed"], 4);
    assert_eq!(step["exercise_failed"], 3);
    assert_eq!(step["pristine"], true);
    let problems = step["problems"].to_string();
    assert!(
        problems.contains("passes `passes`: the check cannot fail"),
        "{problems}"
    );
}

/// A copy of the fixture course, for tests that change its files and do not
/// build anything (outside the workspace there is nothing to build).
fn copy_fixture(dest: &Path) {
    crate::common::reads_fixture();
    let src = fixture_root();
    std::fs::write(
        dest.join("course.toml"),
        std::fs::read_to_string(src.join("course.toml")).unwrap(),
    )
    .unwrap();
    for dir in ["exercises/step1-fixture", "solutions/step1-fixture"] {
        std::fs::create_dir_all(dest.join(dir).join("src")).unwrap();
        for file in ["Cargo.toml", "src/lib.rs"] {
            std::fs::copy(src.join(dir).join(file), dest.join(dir).join(file)).unwrap();
        }
    }
    std::fs::create_dir_all(dest.join("xtask")).unwrap();
}

#[test]
fn missing_exercise_file_suggests_reset() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    copy_fixture(root.path());
    fixture(&state)
        .env("COURSE_ROOT", root.path())
        .arg("freeze")
        .assert()
        .success();
    std::fs::remove_file(root.path().join("exercises/step1-fixture/src/lib.rs")).unwrap();
    fixture(&state)
        .env("COURSE_ROOT", root.path())
        .args(["check", "step1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "exercises/step1-fixture/src/lib.rs is missing. `cargo xtask reset step1` restores",
        ));
}

#[test]
fn reset_backs_up_then_restores() {
    let state = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    copy_fixture(root.path());
    let git = |args: &[&str]| {
        let ok = StdCommand::new("git")
            .current_dir(root.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "course"]);
    fixture(&state)
        .env("COURSE_ROOT", root.path())
        .arg("freeze")
        .assert()
        .success();

    let lib = root.path().join("exercises/step1-fixture/src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, "// my precious work\n").unwrap();
    std::fs::write(lib.with_file_name("extra.rs"), "// a file I added\n").unwrap();

    fixture(&state)
        .env("COURSE_ROOT", root.path())
        .args(["reset", "step1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Backed up your files to"))
        .stdout(predicate::str::contains(
            "Restored exercises/step1-fixture/src/lib.rs",
        ))
        .stdout(predicate::str::contains("Kept the files you added"));
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), original);
    assert!(lib.with_file_name("extra.rs").exists());

    let backups: Vec<_> = std::fs::read_dir(state.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    let saved = std::fs::read_to_string(backups[0].join("src/lib.rs")).unwrap();
    assert_eq!(saved, "// my precious work\n");

    // A second reset finds nothing to do and makes no new backup.
    fixture(&state)
        .env("COURSE_ROOT", root.path())
        .args(["reset", "step1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already in its original state"));
    assert_eq!(
        std::fs::read_dir(state.path().join("backups"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn solution_asks_first_unless_yes() {
    let state = tempfile::tempdir().unwrap();
    xtask(&state)
        .args(["solution", "step1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add `--yes`"));
    xtask(&state)
        .args(["solution", "step1", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "solutions/step1-blocking/src/lib.rs",
        ))
        .stdout(predicate::str::contains("pub fn find_blocker"));
    xtask(&state)
        .args(["solution", "step1", "--yes", "--diff"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "--- exercises/step1-blocking/src/lib.rs (yours)",
        ))
        .stdout(predicate::str::contains("-    todo!(\"find_blocker\")"));
}

#[test]
fn exercise_and_solution_builds_never_stand_in_for_each_other() {
    // Cargo writes both builds of a step's checks to the same path; the
    // grader must still run the right one when it skips an unchanged build.
    let state = tempfile::tempdir().unwrap();
    let passed = |args: &[&str]| -> u64 {
        let out = fixture(&state)
            .args(["check", "step1", "--format", "json"])
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        json(&out.stdout)["totals"]["passed"].as_u64().unwrap()
    };
    assert_eq!(passed(&["--solution"]), 4);
    assert_eq!(passed(&[]), 1);
    assert_eq!(passed(&["--solution"]), 4);
    assert_eq!(passed(&[]), 1);
}
