//! The grader against code under test that fights it, and against a machine
//! that misbehaves: a swapped checks binary, edited checks, a stolen seal
//! token, a forged progress record, a temp folder that cannot be written.
//! Each test is driven the way the attack happens and fails when the fix it
//! guards is reverted.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

#[cfg(unix)]
use crate::common::lock_released;
use crate::common::{fixture, std_fixture};

/// The statuses of the checks of the one step graded, in order.
fn statuses(out: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)));
    v["steps"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

fn kept_binary(state: &Path, stamp: &str) -> PathBuf {
    let text = std::fs::read_to_string(state.join("build-stamps").join(format!("{stamp}.json")))
        .expect("a stamp after a build");
    let v: Value = serde_json::from_str(&text).unwrap();
    PathBuf::from(v["exe"].as_str().unwrap())
}

/// The untouched fixture's statuses (`hangs` fails at once: `FIXTURE_NO_HANG`).
const UNTOUCHED: [&str; 4] = ["pass", "fail", "crash", "fail"];

#[test]
fn a_kept_checks_binary_replaced_between_runs_is_not_used() {
    let state = tempfile::tempdir().unwrap();
    fixture(state.path())
        .args(["check", "step1", "--solution"])
        .assert()
        .success();
    let solution = kept_binary(state.path(), "step1-fixture-solution");
    fixture(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let exercise = kept_binary(state.path(), "step1-fixture-exercise");
    // What code under test could do: put the solution's checks where the
    // exercise's are kept.
    std::fs::copy(&solution, &exercise).unwrap();
    let out = fixture(state.path())
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(statuses(&out.stdout), UNTOUCHED, "{stderr}");
    assert!(
        stderr.contains("does not hold the bytes that were built"),
        "{stderr}"
    );
}

/// (Unix: Windows does not let a running binary be replaced at all.)
#[cfg(unix)]
#[test]
fn a_kept_checks_binary_replaced_during_a_run_ends_the_run_unrecorded() {
    let state = tempfile::tempdir().unwrap();
    fixture(state.path())
        .args(["check", "step1", "--solution"])
        .assert()
        .success();
    let solution = kept_binary(state.path(), "step1-fixture-solution");
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "swap")
        .env("FIXTURE_SWAP_WITH", &solution)
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("was changed while the checks"), "{stderr}");
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap_or_default();
    assert!(!progress.contains("[steps.step1-fixture]"), "{progress}");
    // The next run builds again and grades the exercise's checks.
    let out = fixture(state.path())
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(statuses(&out.stdout), UNTOUCHED);
}

/// The same during the last check, which no later check's start compares:
/// the grader compares the binary once more after the last check ended.
#[cfg(unix)]
#[test]
fn a_kept_checks_binary_replaced_during_the_last_check_ends_the_run_unrecorded() {
    let state = tempfile::tempdir().unwrap();
    fixture(state.path())
        .args(["check", "step1", "--solution"])
        .assert()
        .success();
    let solution = kept_binary(state.path(), "step1-fixture-solution");
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "swap-last")
        .env("FIXTURE_SWAP_WITH", &solution)
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("was changed while the checks"), "{stderr}");
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap_or_default();
    assert!(!progress.contains("[steps.step1-fixture]"), "{progress}");
}

/// The grader's own machinery failing (here: no temp folder to capture a
/// check's output in) says so, exits 2 and records nothing; it never grades
/// a correct solution 0 of 4.
#[test]
fn a_temp_folder_that_cannot_be_used_is_a_grader_error_not_a_failed_check() {
    let state = tempfile::tempdir().unwrap();
    // Built once with a working temp folder.
    fixture(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let recorded = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    // A file where the folder should be: creating anything in it fails,
    // even as root.
    let not_a_folder = state.path().join("tmp-is-a-file");
    std::fs::write(&not_a_folder, "").unwrap();
    fixture(state.path())
        .env("TMPDIR", &not_a_folder)
        .env("TMP", &not_a_folder)
        .env("TEMP", &not_a_folder)
        .args(["check", "step1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("grader error"))
        .stderr(predicate::str::contains("cannot create temporary files"))
        .stdout(predicate::str::contains("✗").not());
    let after = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert_eq!(
        after, recorded,
        "a run the grader could not do was recorded"
    );
}

/// Code under test writing `.course/progress.toml` (every step done, "5 of
/// 4 checks"): the forged records are ignored and named, `list` and the
/// instructor's report do not count them, and the grader's own record of
/// the next check is kept.
#[test]
fn a_forged_progress_record_is_ignored() {
    let state = tempfile::tempdir().unwrap();
    fixture(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let genuine = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert!(genuine.contains("seal = "), "{genuine}");
    let forged = "version = 2\n\n[steps.step1-fixture]\npassed = true\never_passed = true\nchecks_passed = 5\nchecks_total = 4\nfirst_checked = \"2026-01-01T00:00:00Z\"\nlast_checked = \"2026-01-01T00:00:00Z\"\npassed_at = \"2026-01-01T00:00:00Z\"\n";
    std::fs::write(state.path().join("progress.toml"), forged).unwrap();
    let out = fixture(state.path())
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("records the grader did not write (for step1-fixture)"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = v.to_string();
    assert!(!listed.contains("\"done\""), "{listed}");
    let report = tempfile::tempdir().unwrap();
    let file = report.path().join("me.json");
    fixture(state.path())
        .args(["report", "--name", "me", "--out"])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("\"done\"") && !text.contains("\"checks_passed\": 5"),
        "{text}"
    );
    // A real check records again, sealed.
    fixture(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let after = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert!(
        after.contains("checks_passed = 1") && after.contains("seal = "),
        "{after}"
    );
}

/// A panic in `Drop` while another panic unwinds aborts the process; the
/// learner still sees both panics and where they happened.
#[test]
fn a_double_panic_shows_both_messages() {
    let state = tempfile::tempdir().unwrap();
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "double-panic")
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let passes = &v["steps"][0]["checks"][0];
    let message = passes["message"].as_str().unwrap_or_default();
    assert_eq!(passes["status"], "fail", "{passes}");
    assert!(
        message.contains("the first panic") && message.contains("the second panic, in drop"),
        "{message}"
    );
    // Both panics are in the fixture's checks crate: each is placed, as
    // the check's own code, not by a path into `checks/`.
    assert!(
        message.matches("in the check (not your code)").count() == 2,
        "both locations: {message}"
    );
    assert!(!message.contains("checks/"), "{message}");
}

/// Start-up code of the checks binary that never finishes (in the learner's
/// crate it could be a static's initializer) is stopped at a time limit
/// while the checks are listed: a grader error, nothing left running.
/// (Unix: on Windows the job object that ends a check's descendants is
/// made by a running check, not by the listing.)
#[cfg(unix)]
#[test]
fn a_checks_binary_that_hangs_while_listing_is_stopped() {
    let state = tempfile::tempdir().unwrap();
    let lock = state.path().join("grandchild.lock");
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "hang-list")
        .env("FIXTURE_LOCK_FILE", &lock)
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("did not list its checks within 2 s"),
        "{stderr}"
    );
    assert!(!stderr.contains("course bug"), "{stderr}");
    // The grandchild it started holds a lock until it dies.
    assert!(
        lock_released(&lock),
        "the listing's grandchild is still running"
    );
    assert!(!state.path().join("progress.toml").exists());
}

/// Two graders building in one target folder at once (two terminals, each
/// with state of its own here, so that each touches the exercise and has
/// it compiled again): the second waits for the first one's turn, which
/// lasts until the first has read its libraries and kept its binary. Without
/// turns, the second one's compile replaced the library the first was
/// reading, and the first refused to grade ("… .rlib cannot be read": a CI
/// run of this file, two tests at once). The first is held in its turn by
/// the test (`COURSE_TEST_HOLD_BUILD`), so the second is started while the
/// turn is certainly taken.
#[test]
fn two_graders_building_in_one_folder_take_turns() {
    use std::io::{BufRead, BufReader};
    let (first_state, second_state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hold_dir = tempfile::tempdir().unwrap();
    let hold = hold_dir.path().join("hold.lock");
    let held = std::fs::File::create(&hold).unwrap();
    held.lock().unwrap();
    let mut first = Reaped(
        std_fixture(first_state.path())
            .env("COURSE_TEST_HOLD_BUILD", &hold)
            .args(["check", "step1", "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first_err = BufReader::new(first.0.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            first_err.read_line(&mut line).unwrap() > 0,
            "the first grader ended before its build was held: {seen}"
        );
        seen.push_str(&line);
        if line.contains("held by the test") {
            break;
        }
    }
    let mut second = Reaped(
        std_fixture(second_state.path())
            .args(["check", "step1", "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The second says it waits before it touches anything: read that, then
    // let the first go on.
    let mut second_err = BufReader::new(second.0.stderr.take().unwrap());
    let mut second_seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            second_err.read_line(&mut line).unwrap() > 0,
            "the second grader ended without waiting for the first: {second_seen}"
        );
        second_seen.push_str(&line);
        if line.contains("waiting for another grader's build") {
            break;
        }
    }
    held.unlock().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut first_err, &mut rest).unwrap();
    let mut first_out = Vec::new();
    std::io::Read::read_to_end(first.0.stdout.as_mut().unwrap(), &mut first_out).unwrap();
    assert_eq!(first.0.wait().unwrap().code(), Some(1), "{seen}{rest}");
    assert_eq!(statuses(&first_out), UNTOUCHED, "{seen}{rest}");
    let mut second_rest = String::new();
    std::io::Read::read_to_string(&mut second_err, &mut second_rest).unwrap();
    let mut second_out = Vec::new();
    std::io::Read::read_to_end(second.0.stdout.as_mut().unwrap(), &mut second_out).unwrap();
    let status = second.0.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{second_seen}{second_rest}");
    assert_eq!(
        statuses(&second_out),
        UNTOUCHED,
        "{second_seen}{second_rest}"
    );
}

/// A child process that is ended and waited for when dropped, so that a
/// failed assertion leaves nothing running.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
