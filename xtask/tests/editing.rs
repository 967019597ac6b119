//! Tests that edit the fixture course's exercise: a compile error, and
//! `watch` noticing a save. They live in their own test binary (cargo runs
//! test binaries one after another), take turns through a lock, and always
//! put the original file back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use predicates::prelude::*;

static FIXTURE: Mutex<()> = Mutex::new(());

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture")
}

fn exercise_lib() -> PathBuf {
    fixture_root().join("exercises/step1-fixture/src/lib.rs")
}

/// Puts the fixture's exercise back when dropped, even after a panic.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        std::fs::write(exercise_lib(), &self.0).unwrap();
    }
}

fn edit(new_text: &str) -> Restore {
    let original = std::fs::read_to_string(exercise_lib()).unwrap();
    std::fs::write(exercise_lib(), new_text).unwrap();
    Restore(original)
}

fn xtask(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_compile_error_is_shown_once_and_names_the_file() {
    let _turn = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let state = tempfile::tempdir().unwrap();
    let _restore = edit("pub fn answer() -> u32 {\n    \"forty-two\"\n}\n");
    let out = xtask(state.path())
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.matches("error[E0308]").count(), 1, "{stdout}");
    assert!(
        stdout.contains(
            "✗ the exercise does not compile. Fix xtask/tests/fixture/exercises/step1-fixture/src/lib.rs (line 2), then run `cargo xtask check step1` again."
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("✓"), "no check runs after a compile error");

    let json = xtask(state.path())
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["steps"][0]["status"], "compile-error");
    assert!(v["steps"][0]["compile_errors"]
        .as_str()
        .unwrap()
        .contains("E0308"));
    assert_eq!(v["steps"][0]["checks"][0]["status"], "not-run");
}

#[test]
fn a_changed_signature_is_blamed_on_the_exercise_not_the_checks() {
    let _turn = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let state = tempfile::tempdir().unwrap();
    let _restore = edit("pub fn answer(x: u32) -> u32 {\n    x\n}\n");
    xtask(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "the checks do not compile against your exercise",
        ))
        .stdout(predicate::str::contains("public names or signatures"))
        .stdout(predicate::str::contains("cargo xtask reset step1"));
}

#[test]
fn watch_rechecks_when_a_file_is_saved() {
    let _turn = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let state = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(exercise_lib()).unwrap();
    let mut child = std::process::Command::cargo_bin("xtask")
        .unwrap()
        .env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .args(["watch", "step1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &str| -> bool {
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(what) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    };
    let first = wait_for("Watching exercises/step1-fixture");
    // Save the file (same content): the watcher must run the checks again.
    let _restore = edit(&original);
    let again = first && wait_for("Checking 1. A fixture step");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first, "watch never finished its first check");
    assert!(again, "watch did not re-check after the file was saved");
}

#[test]
fn an_edit_right_after_a_check_is_always_graded() {
    let _turn = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let state = tempfile::tempdir().unwrap();
    let summary = |state: &Path| {
        let out = xtask(state)
            .args(["check", "step1", "--format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["steps"][0]["checks"][1]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The grader skips cargo when nothing changed since its last build; an
    // edit made right after a check must still be built and graded.
    assert_eq!(summary(state.path()), "fail");
    let _restore = edit("pub fn answer() -> u32 {\n    42\n}\n");
    assert_eq!(summary(state.path()), "pass");
    drop(_restore);
    assert_eq!(summary(state.path()), "fail");
}
