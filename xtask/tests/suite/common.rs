//! What the suite's tests that grade the fixture course share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The course repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture")
}

/// The grader on the fixture course, with private state.
pub fn fixture(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("FIXTURE_MODE")
        .timeout(Duration::from_secs(180));
    cmd
}

/// The grader on the fixture course, with private state, as a
/// `std::process::Command` (for a test that reads its output as it comes).
pub fn std_fixture(state: &Path) -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    let mut cmd = std::process::Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("FIXTURE_MODE");
    cmd
}

/// Whether the process that locked `file` is gone: the OS releases a lock
/// only when its holder dies. The wait is bounded only to catch a hang.
/// Only Unix tests (interrupts, daemons, hangs) use it.
#[cfg(unix)]
pub fn lock_released(file: &Path) -> bool {
    let file = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(file.lock().is_ok());
    });
    rx.recv_timeout(Duration::from_secs(20)) == Ok(true)
}
