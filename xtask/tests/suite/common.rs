//! What the suite's tests that grade the fixture course share.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
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

/// The fixture course as shipped: read (graded, copied) by many tests at
/// once, edited in place by `after_edits`' tests one at a time, each while no
/// other test reads it.
static FIXTURE: RwLock<()> = RwLock::new(());

thread_local! {
    /// This test's hold on [`FIXTURE`], from its first use of the fixture
    /// until the test ends: libtest runs each test on a thread of its own,
    /// so the hold is let go when that thread ends, whether the test passed
    /// or panicked, and after every grader the test started was waited for.
    static READING: RefCell<Option<RwLockReadGuard<'static, ()>>> = const { RefCell::new(None) };
    /// Whether this thread holds the fixture for an edit ([`Editing`]).
    static EDITING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the running test as one that reads the fixture course as shipped:
/// no test edits it until this one has ended. [`fixture`], [`std_fixture`]
/// and every helper that points the grader at the fixture call it.
pub fn reads_fixture() {
    if EDITING.get() {
        // This test edits the fixture and has it to itself already.
        return;
    }
    READING.with(|held| {
        let mut held = held.borrow_mut();
        if held.is_none() {
            *held = Some(FIXTURE.read().unwrap_or_else(|e| e.into_inner()));
        }
    });
}

/// For a test that edits the fixture course in place: waits until no other
/// test reads it, and keeps every other test from starting to until the
/// returned guard drops (a waiting writer holds back new readers, so the
/// edit's turn comes once the tests reading now have ended). The wait is
/// bounded only to catch a test that never lets go (a thread it left
/// running): then the whole run stops, with a message.
pub fn edits_fixture() -> Editing {
    READING.with(|held| held.borrow_mut().take());
    let (got, watch) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if watch.recv_timeout(Duration::from_secs(600)) == Err(RecvTimeoutError::Timeout) {
            eprintln!("another test has held the fixture course for 10 minutes: stopping");
            std::process::exit(101);
        }
    });
    let held = FIXTURE.write().unwrap_or_else(|e| e.into_inner());
    let _ = got.send(());
    EDITING.set(true);
    Editing { _held: held }
}

/// A test's hold on the fixture course for editing it ([`edits_fixture`]).
pub struct Editing {
    _held: RwLockWriteGuard<'static, ()>,
}

impl Drop for Editing {
    fn drop(&mut self) {
        EDITING.set(false);
    }
}

/// The grader on the fixture course, with private state. Its `hangs`
/// check fails at once (`FIXTURE_NO_HANG`); a test about hangs removes that
/// variable, and the check then blocks until its 2 s limit.
pub fn fixture(state: &Path) -> Command {
    reads_fixture();
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("FIXTURE_MODE")
        .env("FIXTURE_NO_HANG", "1")
        .timeout(Duration::from_secs(180));
    cmd
}

/// The grader on the fixture course, with private state, as a
/// `std::process::Command` (for a test that reads its output as it comes),
/// with `FIXTURE_NO_HANG` as [`fixture`] sets it.
pub fn std_fixture(state: &Path) -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    reads_fixture();
    let mut cmd = std::process::Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("FIXTURE_MODE")
        .env("FIXTURE_NO_HANG", "1");
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
