//! The whole course, as CI sees it: `cargo xtask verify` must pass. Every
//! reference solution passes all of its checks, every untouched exercise
//! fails every one of its checks at run time (not by a compile error), the
//! manifest and the checks crates list the same checks, and
//! xtask/originals.toml matches the exercises.

use assert_cmd::Command;

#[test]
fn every_solution_passes_and_every_untouched_exercise_fails() {
    let root = crate::common::repo_root();
    let state = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("xtask")
        .unwrap()
        .current_dir(&root)
        .env_remove("COURSE_ROOT")
        .env("COURSE_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .arg("verify")
        .timeout(std::time::Duration::from_secs(1800))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "cargo xtask verify failed:\n{stdout}\n{stderr}"
    );
}
