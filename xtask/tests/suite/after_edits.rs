//! Tests that edit the fixture course's exercise: a compile error, `watch`
//! noticing (only) real edits, and builds judged by content, not time. Each
//! holds the fixture for itself ([`edits_fixture`]: no other test grades it
//! meanwhile) and always puts the original file back. They grade the
//! exercise again and again, so its `hangs` check fails
//! at once here (`FIXTURE_NO_HANG`) instead of using up its limit each
//! time: the tests in `cli.rs` and `promises.rs` are the ones about hangs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::{edits_fixture, fixture_root};

fn exercise_lib() -> PathBuf {
    fixture_root().join("exercises/step1-fixture/src/lib.rs")
}

/// Puts the fixture's exercise back when dropped, even after a panic.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        save(&self.0);
    }
}

/// Replaces the exercise's `lib.rs` in one step, as an editor's save does:
/// written beside the crate's sources, then renamed over the file, so that
/// a `watch` woken meanwhile never reads half a file (a plain write
/// empties the file first, and an empty file is other bytes).
fn save(text: &str) {
    let lib = exercise_lib();
    let staged = lib
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib.rs.saving");
    std::fs::write(&staged, text).unwrap();
    std::fs::rename(&staged, &lib).unwrap();
}

fn edit(new_text: &str) -> Restore {
    let original = std::fs::read_to_string(exercise_lib()).unwrap();
    save(new_text);
    Restore(original)
}

fn xtask(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env("COURSE_ROOT", fixture_root())
        .env("COURSE_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env("FIXTURE_NO_HANG", "1");
    cmd
}

#[test]
fn a_compile_error_is_shown_once_and_names_the_file() {
    let _turn = edits_fixture();
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
    // The course teaches the way out of E0308: the grader says what it
    // means and where the chapter explains it, under rustc's error...
    let unwrapped = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let pointer = "rustc's E0308: The function promises one type and returns another. Read \"Types that agree\" in the chapter (book/src/step1-fixture.md).";
    assert_eq!(unwrapped.matches(pointer).count(), 1, "{stdout}");
    // ...and `hint` says it again, using up no hint of a check.
    let hint = xtask(state.path())
        .args(["hint", "step1"])
        .output()
        .unwrap();
    let hint_out = String::from_utf8_lossy(&hint.stdout);
    assert!(hint.status.success(), "{hint_out}");
    let hint_unwrapped = hint_out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        hint_unwrapped.contains("stopped at a compile error"),
        "{hint_out}"
    );
    assert!(hint_unwrapped.contains(pointer), "{hint_out}");
    assert!(!hint_out.contains("1 of 3"), "{hint_out}");

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
    let _turn = edits_fixture();
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
        .stdout(predicate::str::contains("cargo xtask reset step1"))
        // E0061 (wrong number of arguments) is not one the course explains.
        .stdout(predicate::str::contains("rustc's E0").not());
    let hint = xtask(state.path())
        .args(["hint", "step1"])
        .output()
        .unwrap();
    let hint_out = String::from_utf8_lossy(&hint.stdout);
    assert!(
        hint_out.contains("stopped at a compile error"),
        "{hint_out}"
    );
    assert!(!hint_out.contains("rustc's E0"), "{hint_out}");
}

/// `cargo xtask watch` on the fixture, its stdout read line by line.
struct Watch {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    _state: tempfile::TempDir,
}

impl Watch {
    fn start(args: &[&str], stdin: Stdio) -> Watch {
        let state = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::cargo_bin("xtask")
            .unwrap()
            .env("COURSE_ROOT", fixture_root())
            .env("COURSE_STATE_DIR", state.path())
            .env("NO_COLOR", "1")
            .env("COURSE_TEST_WATCH_WAKES", "1")
            .env("FIXTURE_NO_HANG", "1")
            .arg("watch")
            .args(args)
            .stdin(stdin)
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
        Watch {
            child,
            lines: rx,
            _state: state,
        }
    }

    /// Waits for a line containing `what`; the limit only catches a hang.
    fn wait_for(&self, what: &str) -> bool {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains(what) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// Whether a check started before a line containing `what`: `Some(0)`
    /// when none did, `Some(1)` as soon as one does, `None` if the line
    /// never came (the limit only catches a hang).
    fn checks_before(&self, what: &str) -> Option<usize> {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains(what) => return Some(0),
                Ok(line) if line.contains("Checking 1. A fixture step") => return Some(1),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Writes a file beside the exercise's sources, which no check reads,
    /// and returns the number of checks started before watch said it was
    /// woken for it and checked nothing. File events come in the order the
    /// files were written, so every event before this one has then been
    /// looked at: a count of 0 proves that none of them started a check.
    fn checks_before_barrier(&self, n: u32) -> Option<usize> {
        let name = format!("barrier-{n}.txt");
        let barrier = Remove(fixture_root().join("exercises/step1-fixture").join(&name));
        std::fs::write(&barrier.0, "a file no check reads").unwrap();
        self.checks_before(&name)
    }

    /// The number of checks started before `ticks` poll ticks in a row
    /// looked at the files and checked nothing.
    fn checks_before_quiet_ticks(&self, ticks: usize) -> Option<usize> {
        let mut checks = 0;
        for _ in 0..ticks {
            checks += self.checks_before("(watch: not checked, same bytes; woken for []")?;
        }
        Some(checks)
    }
}

/// Removes a file when dropped.
struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Drop for Watch {
    /// Stops the watch the way a learner does (SIGTERM, like Ctrl-C), so
    /// that a check it is running is ended too; SIGKILL could not be
    /// handled and would leave that check running.
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            // SAFETY: signals one process; no memory is touched.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const RIGHT: &str = "pub fn answer() -> u32 {\n    42\n}\n";

#[test]
fn watch_checks_once_then_only_when_the_bytes_change() {
    let _turn = edits_fixture();
    let original = std::fs::read_to_string(exercise_lib()).unwrap();
    let watch = Watch::start(&["step1"], Stdio::null());
    assert!(
        watch.wait_for("Watching exercises/step1-fixture"),
        "watch never finished its first check"
    );
    // Idle: the check itself opened the files, which is no reason to
    // check; and a save of the same bytes is not a change.
    let restore = edit(&original);
    assert_eq!(
        watch.checks_before_barrier(1),
        Some(0),
        "an idle watch, or a save of the same bytes, checked again"
    );
    // Other bytes are, and are checked once.
    let _edit = edit(RIGHT);
    assert!(
        watch.wait_for("Checking 1. A fixture step"),
        "the edit was not checked"
    );
    assert!(
        watch.wait_for("2 of 4 checks passed."),
        "the check did not see the edit"
    );
    assert_eq!(
        watch.checks_before_barrier(2),
        Some(0),
        "one edit was checked more than once"
    );
    drop(restore);
}

#[test]
fn watch_poll_sees_an_edit() {
    let _turn = edits_fixture();
    let watch = Watch::start(&["step1", "--poll"], Stdio::null());
    assert!(watch.wait_for("Watching exercises/step1-fixture"));
    let _edit = edit(RIGHT);
    assert!(
        watch.wait_for("Checking 1. A fixture step"),
        "--poll missed the edit"
    );
    assert!(watch.wait_for("2 of 4 checks passed."));
}

#[test]
fn watch_manual_checks_again_on_enter_only() {
    use std::io::Write;
    let _turn = edits_fixture();
    let mut watch = Watch::start(&["step1", "--manual"], Stdio::piped());
    assert!(watch.wait_for("Press Enter to check exercises/step1-fixture again"));
    let mut stdin = watch.child.stdin.take().unwrap();
    stdin.write_all(b"\n").unwrap();
    stdin.flush().unwrap();
    assert!(
        watch.wait_for("Checking 1. A fixture step"),
        "Enter did not re-check"
    );
    assert!(watch.wait_for("Press Enter"));
    drop(stdin);
    assert!(watch.wait_for("Standard input closed"));
    assert!(watch.child.wait().unwrap().success());
}

/// Sets a file's modification time to 2001, as `cp -p` of an old backup does.
fn make_old(path: &Path) {
    let old = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

#[test]
fn a_restored_file_with_an_old_time_and_other_bytes_is_rebuilt() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let fails_check = |state: &Path| {
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
    assert_eq!(fails_check(state.path()), "fail");
    // Other bytes, older time (a restored backup): graded anew.
    let restore = edit(RIGHT);
    make_old(&exercise_lib());
    assert_eq!(fails_check(state.path()), "pass", "the old build was used");
    // And back, again with an old time.
    std::fs::write(exercise_lib(), &restore.0).unwrap();
    make_old(&exercise_lib());
    assert_eq!(fails_check(state.path()), "fail", "the old build was used");
    // The same bytes with a new time need no build at all.
    std::fs::write(exercise_lib(), &restore.0).unwrap();
    xtask(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("compiled").not());
}

#[test]
fn an_edit_right_after_a_check_is_always_graded() {
    let _turn = edits_fixture();
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

/// `watch` in one terminal and `check` in another, after each of 20 edits:
/// both graders build the same step at once, and each build's clean-up of
/// older kept binaries must spare the one the other grader is running.
#[test]
fn two_graders_on_one_step_after_each_edit_both_give_the_right_verdicts() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let lib = fixture_root().join("solutions/step1-fixture/src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap();
    struct Put(PathBuf, String);
    impl Drop for Put {
        fn drop(&mut self) {
            std::fs::write(&self.0, &self.1).unwrap();
        }
    }
    let _restore = Put(lib.clone(), original.clone());
    for edit in 0..20 {
        std::fs::write(&lib, format!("{original}\n// edit {edit}\n")).unwrap();
        let graders: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = std::process::Command::cargo_bin("xtask").unwrap();
                cmd.env("COURSE_ROOT", fixture_root())
                    .env("COURSE_STATE_DIR", state.path())
                    .env("NO_COLOR", "1")
                    .env("FIXTURE_NO_HANG", "1")
                    .args(["check", "step1", "--solution", "--format", "json"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for grader in graders {
            let out = grader.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "edit {edit}: {stderr}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["totals"]["passed"], 4, "edit {edit}: {stderr}");
        }
    }
}

/// Code under test (or anyone) rewriting a check so that it passes: the
/// grader refuses to grade with it, names the file, records nothing; a
/// maintainer can still grade with `COURSE_MAINTAINER=1`.
#[test]
fn an_edited_check_is_refused_and_named() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let check = fixture_root().join("checks/step1-fixture/src/main.rs");
    let original = std::fs::read_to_string(&check).unwrap();
    struct Put(PathBuf, String);
    impl Drop for Put {
        fn drop(&mut self) {
            std::fs::write(&self.0, &self.1).unwrap();
        }
    }
    let _restore = Put(check.clone(), original.clone());
    xtask(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1 of 4 checks passed."));
    let recorded = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    // What a hostile build script or check could write: `fails` passes.
    let forged = original.replace("ensure!(got == 42", "ensure!(got == got");
    assert_ne!(
        forged, original,
        "the fixture's check changed; update this test"
    );
    std::fs::write(&check, forged).unwrap();
    xtask(state.path())
        .args(["check", "step1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "checks/step1-fixture/src/main.rs (changed)",
        ))
        .stdout(predicate::str::contains("checks passed").not());
    let after = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    let counts = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("checks_passed"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts(&after),
        counts(&recorded),
        "a refused run was recorded"
    );
    xtask(state.path())
        .env("COURSE_MAINTAINER", "1")
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("2 of 4 checks passed."));
}

/// An exercise with a constructor that runs before `main`, reads the seal's
/// token from stdin before the harness can, puts it back on a fresh pipe,
/// and later writes a sealed pass for a check it fails (it computes the
/// seal itself: SHA-1 is public knowledge). The grader must refuse to
/// grade such a build, and say what it found where.
#[cfg(target_os = "linux")]
#[test]
fn a_constructor_that_steals_the_token_is_refused() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let _restore = edit(TOKEN_THIEF);
    let out = xtask(state.path())
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("step1-fixture") && stderr.contains("section `.init_array`"),
        "{stderr}"
    );
    assert!(!stdout.contains("checks passed"), "{stdout}");
    assert!(
        !state.path().join("progress.toml").exists(),
        "a refused build was recorded"
    );
}

#[cfg(target_os = "linux")]
const TOKEN_THIEF: &str = r##"
use std::sync::OnceLock;

static TOKEN: OnceLock<String> = OnceLock::new();

extern "C" {
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn write(fd: i32, buf: *const u8, n: usize) -> isize;
    fn pipe(fds: *mut i32) -> i32;
    fn dup2(old: i32, new: i32) -> i32;
    fn close(fd: i32) -> i32;
}

#[used]
#[link_section = ".init_array"]
static STEAL: extern "C" fn() = steal;

extern "C" fn steal() {
    let mut buf = [0u8; 64];
    let mut len = 0;
    unsafe {
        while len < buf.len() && read(0, buf.as_mut_ptr().add(len), 1) == 1 {
            len += 1;
            if buf[len - 1] == b'\n' {
                break;
            }
        }
        let mut fds = [0i32; 2];
        pipe(fds.as_mut_ptr());
        write(fds[1], buf.as_ptr(), len);
        close(fds[1]);
        dup2(fds[0], 0);
        close(fds[0]);
    }
    let token = String::from_utf8_lossy(&buf[..len]).trim().to_string();
    let _ = TOKEN.set(token);
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64) * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([chunk[4 * i], chunk[4 * i + 1], chunk[4 * i + 2], chunk[4 * i + 3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6u32),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for i in 0..5 {
        out[4 * i..4 * i + 4].copy_from_slice(&h[i].to_be_bytes());
    }
    out
}

fn forge(token: &str) -> ! {
    let outcome = r#"{"status":"pass"}"#;
    let inner = sha1(format!("{token}\n{outcome}").as_bytes());
    let mut outer = token.as_bytes().to_vec();
    outer.extend_from_slice(&inner);
    let seal: String = sha1(&outer).iter().map(|b| format!("{b:02x}")).collect();
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--result").unwrap();
    std::fs::write(&args[at + 1], format!(r#"{{"outcome":{outcome},"seal":"{seal}"}}"#)).unwrap();
    std::process::exit(0)
}

pub fn answer() -> u32 {
    if let Some(token) = TOKEN.get().filter(|t| !t.is_empty()) {
        forge(token);
    }
    41
}
"##;

/// The other ways to run before `main` (std allocates before it) or to
/// replace a C library function the harness uses are refused as well.
#[test]
fn a_global_allocator_and_an_unmangled_symbol_are_refused() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let _restore = edit(
        "use std::alloc::{GlobalAlloc, Layout, System};\n\
         struct Spy;\n\
         unsafe impl GlobalAlloc for Spy {\n\
             unsafe fn alloc(&self, l: Layout) -> *mut u8 { unsafe { System.alloc(l) } }\n\
             unsafe fn dealloc(&self, p: *mut u8, l: Layout) { unsafe { System.dealloc(p, l) } }\n\
         }\n\
         #[global_allocator]\n\
         static SPY: Spy = Spy;\n\
         #[no_mangle]\n\
         pub extern \"C\" fn course_fixture_replaces_this() {}\n\
         pub fn answer() -> u32 {\n    42\n}\n",
    );
    let out = xtask(state.path())
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a `#[global_allocator]`"), "{stderr}");
    assert!(
        // (macOS puts an underscore in front of every symbol.)
        stderr.contains("unmangled symbol `") && stderr.contains("course_fixture_replaces_this`"),
        "{stderr}"
    );
}

/// An exercise whose code writes a log next to its sources on every run
/// (by absolute path) and one relative to where it runs: `watch` checks it
/// once per real edit, not once per log line.
#[test]
fn watch_ignores_files_the_code_under_test_writes() {
    let _turn = edits_fixture();
    let log = fixture_root().join("exercises/step1-fixture/debug.log");
    let _log = Remove(log.clone());
    let logging = |n: u32| {
        format!(
            "pub fn answer() -> u32 {{\n    let now = std::time::SystemTime::now();\n    let _ = std::fs::write(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/debug.log\"), format!(\"{{now:?}}\"));\n    let _ = std::fs::write(\"relative-debug.log\", format!(\"{{now:?}}\"));\n    {n}\n}}\n"
        )
    };
    let _restore = edit(&logging(41));
    let watch = Watch::start(&["step1", "--poll"], Stdio::null());
    assert!(
        watch.wait_for("Watching exercises/step1-fixture"),
        "no first check"
    );
    assert!(log.exists(), "the exercise did not write its log");
    assert!(
        !fixture_root()
            .join("exercises/step1-fixture/relative-debug.log")
            .exists()
            && !fixture_root().join("relative-debug.log").exists(),
        "a relative path landed in the course, not in the check's own folder"
    );
    // Two poll ticks after the log was written: each compares the files
    // again, and says it checked nothing.
    assert_eq!(
        watch.checks_before_quiet_ticks(2),
        Some(0),
        "the log re-checked"
    );
    save(&logging(42));
    assert!(
        watch.wait_for("Checking 1. A fixture step"),
        "a real edit was not checked"
    );
    assert!(watch.wait_for("Watching exercises/step1-fixture"));
    assert_eq!(
        watch.checks_before_quiet_ticks(2),
        Some(0),
        "the log re-checked"
    );
}

/// Puts an exercise `build.rs` in place (and the manifest line that names
/// it) until dropped.
#[cfg(target_os = "linux")]
struct BuildScript {
    manifest: PathBuf,
    original: String,
    script: PathBuf,
}

#[cfg(target_os = "linux")]
impl BuildScript {
    fn put(body: &str) -> BuildScript {
        let dir = fixture_root().join("exercises/step1-fixture");
        let manifest = dir.join("Cargo.toml");
        let original = std::fs::read_to_string(&manifest).unwrap();
        let with = original.replacen("[package]\n", "[package]\nbuild = \"build.rs\"\n", 1);
        assert_ne!(with, original);
        std::fs::write(&manifest, with).unwrap();
        let script = dir.join("build.rs");
        std::fs::write(&script, body).unwrap();
        BuildScript {
            manifest,
            original,
            script,
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for BuildScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
        std::fs::write(&self.manifest, &self.original).unwrap();
    }
}

/// Whether process `pid` is gone (or a zombie); the wait only catches a hang.
#[cfg(target_os = "linux")]
fn gone(pid: &str) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if stat.is_empty() || state == Some("Z") {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

/// A build script that starts a process and leaves it running: the build
/// is contained like a check, and nothing of it outlives the grading.
#[cfg(target_os = "linux")]
#[test]
fn a_process_a_build_script_leaves_running_is_ended() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let pid_file = state.path().join("left.pid");
    let _script = BuildScript::put(
        "fn main() {\n    let child = std::process::Command::new(\"sleep\").arg(\"1000\")\n        .stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null())\n        .spawn().unwrap();\n    std::fs::write(std::env::var(\"FIXTURE_BUILD_PID_FILE\").unwrap(), child.id().to_string()).unwrap();\n}\n",
    );
    xtask(state.path())
        .env("FIXTURE_BUILD_PID_FILE", &pid_file)
        .args(["check", "step1"])
        .assert()
        .code(1);
    let pid = std::fs::read_to_string(&pid_file).expect("the build script ran");
    assert!(
        gone(pid.trim()),
        "the build script's process {pid} outlived the build"
    );
}

/// A build script that never ends is stopped at the build's time limit:
/// a grader error, nothing left running.
#[cfg(target_os = "linux")]
#[test]
fn a_build_that_never_ends_is_stopped() {
    let _turn = edits_fixture();
    let state = tempfile::tempdir().unwrap();
    let pid_file = state.path().join("script.pid");
    let _script = BuildScript::put(
        "fn main() {\n    std::fs::write(std::env::var(\"FIXTURE_BUILD_PID_FILE\").unwrap(), std::process::id().to_string()).unwrap();\n    loop { std::thread::park(); }\n}\n",
    );
    xtask(state.path())
        .env("FIXTURE_BUILD_PID_FILE", &pid_file)
        .env("COURSE_BUILD_TIMEOUT_SECS", "5")
        .args(["check", "step1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did not finish in 5 s"));
    let pid = std::fs::read_to_string(&pid_file).expect("the build script ran");
    assert!(
        gone(pid.trim()),
        "the build script {pid} outlived its time limit"
    );
    assert!(!state.path().join("progress.toml").exists());
}
