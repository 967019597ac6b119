//! The grader's promises, tried the way a careless or hostile learner would:
//! Ctrl-C in the middle of a check, code that daemonizes, forges its result or
//! eats memory, a closed stdout, absurd report files, a state folder that
//! cannot be written. Each test fails when the fix it guards is reverted.
//!
//! The fixture course (tests/fixture) misbehaves on request: see
//! `FIXTURE_MODE` in its checks.

use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;
use serde_json::Value;

#[cfg(unix)]
use crate::common::lock_released;
use crate::common::{fixture, std_fixture};

fn pass_count(out: &[u8]) -> u64 {
    let v: Value = serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)));
    v["totals"]["passed"].as_u64().unwrap()
}

#[cfg(unix)]
mod interrupts {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    /// A named pipe in `dir`; the fixture's grandchild writes its pid into it
    /// once it holds its lock (see FIXTURE_READY_FIFO in the fixture).
    fn ready_pipe(dir: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let path = dir.join("ready.fifo");
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path it is given.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        path
    }

    /// Blocks until the grandchild says it is ready (the limit only catches
    /// a hang).
    fn wait_until_ready(fifo: &Path) -> String {
        let fifo = fifo.to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Opening for reading blocks until the writer opens it.
            let _ = tx.send(std::fs::read_to_string(fifo).unwrap_or_default());
        });
        rx.recv_timeout(Duration::from_secs(180))
            .expect("the hanging check never started its grandchild")
    }

    /// A grader, in a process group of its own, whose check hangs in the
    /// fixture's `mode`: started, and waited for until the check's
    /// grandchild holds its lock and has said so (its pid in `grandchild`).
    struct Hanging {
        /// The grader's state folder; the grandchild's lock is in it.
        state: tempfile::TempDir,
        /// The grader's TMPDIR: the check's temporary files are made here.
        tmp: tempfile::TempDir,
        /// Locked by the grandchild while it lives.
        lock: PathBuf,
        grader: std::process::Child,
        /// The grandchild's pid (read by the Linux-only test of `kill -9`).
        #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
        grandchild: String,
    }

    impl Hanging {
        /// `piped`: the grader's stdout and stderr are pipes to the test
        /// (else they lead nowhere).
        fn start(mode: &str, piped: bool) -> Hanging {
            use std::os::unix::process::CommandExt;
            let state = tempfile::tempdir().unwrap();
            let tmp = tempfile::tempdir().unwrap();
            let lock = state.path().join("grandchild.lock");
            let fifo = ready_pipe(state.path());
            let output = || if piped { Stdio::piped() } else { Stdio::null() };
            let grader = std_fixture(state.path())
                .env("FIXTURE_MODE", mode)
                .env("FIXTURE_LOCK_FILE", &lock)
                .env("FIXTURE_READY_FIFO", &fifo)
                .env("TMPDIR", tmp.path())
                .args(["check", "step1"])
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(output())
                .stderr(output())
                .spawn()
                .unwrap();
            let grandchild = wait_until_ready(&fifo);
            assert!(!grandchild.trim().is_empty());
            Hanging {
                state,
                tmp,
                lock,
                grader,
                grandchild,
            }
        }
    }

    /// A terminal's Ctrl-C goes to the foreground process group; the grader
    /// runs in a group of its own here, and the signal goes to that group.
    fn interrupt_during_a_hanging_check(signal: libc::c_int, expected_code: i32) {
        interrupt_while_hanging("hang", true, signal, expected_code);
    }

    /// `mode` selects where the fixture hangs (FIXTURE_MODE); the signal
    /// goes to the grader's whole process group (a terminal's Ctrl-C) or
    /// to the grader alone (`kill <pid>`, a closed terminal's SIGHUP).
    fn interrupt_while_hanging(
        mode: &str,
        to_group: bool,
        signal: libc::c_int,
        expected_code: i32,
    ) {
        let Hanging {
            state: _state,
            tmp,
            lock,
            grader,
            grandchild: _,
        } = Hanging::start(mode, true);
        assert!(
            std::fs::read_dir(tmp.path()).unwrap().count() > 0,
            "the running check has temporary files"
        );
        let sent = std::time::Instant::now();
        // SAFETY: signals the grader's process group; no memory is touched.
        let pid = grader.id() as libc::pid_t;
        unsafe {
            libc::kill(if to_group { -pid } else { pid }, signal);
        }
        let out = grader.wait_with_output().unwrap();
        let took = sent.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(expected_code), "{stderr}");
        assert!(
            stderr.contains("interrupted")
                && stderr.contains("stopped the")
                && stderr.contains("running check"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            lock_released(&lock),
            "the check's grandchild is still running"
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
        // No process of this run is left: none has the private temp folder
        // (it is in every check's command line) anywhere in its arguments.
        #[cfg(target_os = "linux")]
        {
            let marker = tmp.path().to_string_lossy().into_owned();
            for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                assert!(
                    !String::from_utf8_lossy(&cmdline).contains(&marker),
                    "process {:?} survived the interrupt",
                    entry.file_name()
                );
            }
        }
        eprintln!("clean exit {:.3} s after the signal", took.as_secs_f64());
    }

    #[test]
    fn ctrl_c_during_a_check_leaves_nothing_running() {
        interrupt_during_a_hanging_check(libc::SIGINT, 130);
    }

    #[test]
    fn sigterm_during_a_check_leaves_nothing_running() {
        interrupt_during_a_hanging_check(libc::SIGTERM, 143);
    }

    #[test]
    fn sighup_during_a_check_leaves_nothing_running() {
        interrupt_during_a_hanging_check(libc::SIGHUP, 129);
    }

    /// A closed terminal: SIGHUP, and what the grader writes to is gone
    /// (here, pipes whose reading ends the test has closed), so it cannot
    /// say what it stopped. It still stops the check and exits: a grader
    /// that hung here would hold the build lock, and every grader after it
    /// would wait its turn for ever.
    #[test]
    fn sighup_with_the_terminal_gone_leaves_nothing_running() {
        let Hanging {
            state: _state,
            tmp,
            lock,
            mut grader,
            grandchild: _,
        } = Hanging::start("hang", true);
        drop(grader.stdout.take());
        drop(grader.stderr.take());
        let pid = grader.id() as libc::pid_t;
        // SAFETY: signals the grader alone; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGHUP);
        }
        let (tx, exited) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(grader.wait());
        });
        // The bound only turns a grader that hangs into a failure.
        let status = match exited.recv_timeout(Duration::from_secs(60)) {
            Ok(status) => status.unwrap(),
            Err(_) => {
                // SAFETY: as above.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
                panic!("the grader hung after SIGHUP with its stdout and stderr gone");
            }
        };
        assert_eq!(status.code(), Some(129), "{status:?}");
        assert!(
            lock_released(&lock),
            "the check's grandchild is still running"
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
    }

    /// `kill -9` of the grader (or of `watch`, or by the code under test)
    /// during a check that hangs after starting a daemon: the check, its
    /// daemon and the check's temporary folder all go by themselves.
    #[cfg(target_os = "linux")]
    #[test]
    fn sigkill_of_the_grader_leaves_nothing_running() {
        let Hanging {
            state,
            tmp,
            lock,
            mut grader,
            grandchild: pid,
        } = Hanging::start("hang-daemon", false);
        // The hanging check's run folder: the daemon inherited its name.
        let environ = std::fs::read(format!("/proc/{}/environ", pid.trim())).unwrap();
        let run = String::from_utf8_lossy(&environ)
            .split('\0')
            .find_map(|v| v.strip_prefix("CHECK_HARNESS_RUN=").map(String::from))
            .expect("the daemon carries its run's mark");
        grader.kill().unwrap(); // SIGKILL: no handler runs
        grader.wait().unwrap();
        assert!(
            lock_released(&lock),
            "the check's daemon (pid {}) outlived the killed grader",
            pid.trim()
        );
        // The check itself: no process has this run's temp folder in its
        // arguments (the result file is there); the wait only catches a hang.
        let marker = tmp.path().to_string_lossy().into_owned();
        let alive = || {
            std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                String::from_utf8_lossy(&cmdline).contains(&marker)
            })
        };
        let started = std::time::Instant::now();
        while alive() && started.elapsed() < Duration::from_secs(20) {
            std::thread::yield_now();
        }
        assert!(!alive(), "the check process outlived the killed grader");
        assert!(
            !tmp.path().join(&run).exists(),
            "the hanging check did not remove its run folder {run}"
        );
        // A check that had just ended when the grader was killed (the
        // fixture runs two at once) could not remove its folder: the next
        // grader does, since no grader holds it any more.
        std_fixture(state.path())
            .env("TMPDIR", tmp.path())
            .args(["check", "step1"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
    }

    /// Asking the checks binary for its checks runs its start-up code
    /// (which could be the learner's): a hang there is contained and ended
    /// like a hanging check.
    #[test]
    fn sigterm_while_the_checks_are_listed_leaves_nothing_running() {
        interrupt_while_hanging("hang-list", false, libc::SIGTERM, 143);
    }
}

/// A check whose code starts a daemon (a child in a session of its own that
/// starts a grandchild and exits) still leaves nothing running (Linux: the
/// grader adopts and kills orphans).
#[cfg(target_os = "linux")]
#[test]
fn a_daemon_started_by_a_check_dies_with_it() {
    let state = tempfile::tempdir().unwrap();
    let lock = state.path().join("daemon.lock");
    fixture(state.path())
        .env("FIXTURE_MODE", "daemon")
        .env("FIXTURE_LOCK_FILE", &lock)
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("✓ A check that passes"));
    let pid = std::fs::read_to_string(&lock).unwrap_or_default();
    assert!(!pid.is_empty(), "the daemon never started");
    assert!(
        lock_released(&lock),
        "the daemon (pid {pid}) outlived its check"
    );
}

/// Checks that run at once do not end each other's daemons. `passes` starts
/// a daemon (adopted by the grader once its middle process exits), then
/// waits until `aborts` has started, which happens only after `fails` has
/// ended and the grader has swept up after it. Its daemon must still be
/// alive then; once `passes` has ended too, it must be gone.
#[cfg(target_os = "linux")]
#[test]
fn a_running_checks_daemon_is_spared_when_another_check_ends() {
    let state = tempfile::tempdir().unwrap();
    let meet = tempfile::tempdir().unwrap();
    let lock = state.path().join("daemon.lock");
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "daemon-outlasts")
        .env("FIXTURE_MEET_DIR", meet.path())
        .env("FIXTURE_LOCK_FILE", &lock)
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v["steps"][0]["checks"].as_array().unwrap();
    let status = |id: &str| {
        let c = checks.iter().find(|c| c["id"] == id).unwrap();
        (
            c["status"].as_str().unwrap().to_string(),
            c["message"].to_string(),
        )
    };
    assert_eq!(status("fails").0, "fail", "{v}");
    assert_eq!(status("aborts").0, "crash", "{v}");
    let (passes, message) = status("passes");
    assert_eq!(passes, "pass", "{message}");
    let pid = std::fs::read_to_string(&lock).unwrap_or_default();
    assert!(!pid.is_empty(), "the daemon never started");
    assert!(
        lock_released(&lock),
        "the daemon (pid {pid}) outlived its check"
    );
}

/// The fixture step runs two checks at once (`checks_at_once = 2`): its
/// first two checks each wait until the other has started, so both end only
/// if the grader really overlaps them (one after the other, the first would
/// be timed out). Their results still come in the manifest's order.
#[test]
fn checks_of_a_step_that_says_so_run_at_once_and_report_in_order() {
    let state = tempfile::tempdir().unwrap();
    let meet = tempfile::tempdir().unwrap();
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "overlap")
        .env("FIXTURE_MEET_DIR", meet.path())
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v["steps"][0]["checks"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = checks
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &seen[..2],
        [("passes", "pass"), ("fails", "fail")],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        checks[1]["message"]
            .as_str()
            .unwrap()
            .contains("expected 42"),
        "{}",
        checks[1]
    );
    assert_eq!(
        seen.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ["passes", "fails", "aborts", "hangs"]
    );
}

#[test]
fn a_result_file_written_by_the_code_under_test_is_rejected() {
    let state = tempfile::tempdir().unwrap();
    let out = fixture(state.path())
        .env("FIXTURE_MODE", "forge")
        .args(["check", "step1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(pass_count(&out.stdout), 1, "only `passes` may pass");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fails = &v["steps"][0]["checks"][1];
    assert_eq!(fails["status"], "fail", "{fails}");
    assert!(
        fails["message"]
            .as_str()
            .unwrap()
            .contains("not written by the check harness"),
        "{fails}"
    );
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert!(progress.contains("checks_passed = 1"), "{progress}");
}

#[test]
fn a_runaway_allocation_is_reported_as_too_much_memory() {
    let state = tempfile::tempdir().unwrap();
    fixture(state.path())
        .env("FIXTURE_MODE", "allocate")
        .args(["check", "step1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "used more than 256 MiB of memory, the limit for one check",
        ));
}

/// A pipe whose reading end is already closed: every write to it fails, as
/// when `head -1` has exited.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[test]
fn a_closed_stdout_ends_list_quietly() {
    let state = tempfile::tempdir().unwrap();
    let out = StdCommand::cargo_bin("xtask")
        .unwrap()
        .current_dir(crate::common::repo_root())
        .env_remove("COURSE_ROOT")
        .env("COURSE_STATE_DIR", state.path())
        .arg("list")
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.trim().is_empty(), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
    }
    #[cfg(not(unix))]
    assert!(!out.status.success());
}

#[test]
fn a_closed_stdout_during_a_check_leaves_nothing_running() {
    let state = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // With the hanging check too: its time-out and the grandchild it leaves
    // are cleaned up after the output is gone.
    let out = std_fixture(state.path())
        .env_remove("FIXTURE_NO_HANG")
        .env("TMPDIR", tmp.path())
        .args(["check", "step1"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.status.success());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    // The run went on quietly to the end: its result is recorded, then the
    // grader ends as a broken pipe does.
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap_or_default();
    assert!(
        progress.contains("[steps.step1-fixture]") && progress.contains("checks_passed = 1"),
        "a check run whose output was cut off (`| head`) was not recorded:\n{progress}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
    }
}

#[test]
fn a_stamps_folder_that_cannot_be_written_costs_a_rebuild_not_the_verdict() {
    let state = tempfile::tempdir().unwrap();
    // A file where the folder should be: writing into it fails, even as root.
    std::fs::write(state.path().join("build-stamps"), "not a folder").unwrap();
    for _ in 0..2 {
        fixture(state.path())
            .args(["check", "step1"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("1 of 4 checks passed."))
            .stderr(predicate::str::contains("cannot record this build"));
    }
}

#[test]
fn a_damaged_progress_file_is_moved_aside_and_named() {
    let state = tempfile::tempdir().unwrap();
    let damaged = "this is [not toml, but it is somebody's record";
    std::fs::write(state.path().join("progress.toml"), damaged).unwrap();
    let out = fixture(state.path())
        .args(["check", "step1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let aside: Vec<PathBuf> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".damaged.toml"))
        .collect();
    assert_eq!(aside.len(), 1, "{stderr}");
    assert_eq!(std::fs::read_to_string(&aside[0]).unwrap(), damaged);
    let name = aside[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains("is damaged") && stderr.contains(&name),
        "{stderr}"
    );
    // The new file has this check's record.
    let progress = std::fs::read_to_string(state.path().join("progress.toml")).unwrap();
    assert!(progress.contains("[steps.step1-fixture]"), "{progress}");
}

fn attendee_report(name: &str, failing: &[&str]) -> String {
    serde_json::json!({
        "schema": "threads-course/attendee-report",
        "schema_version": 1,
        "tool_version": "0.1.0",
        "name": name,
        "generated_at": "2026-12-03T09:00:00Z",
        "steps": [{
            "id": "step1-fixture",
            "status": "in-progress",
            "checks_passed": 1,
            "checks_total": 4,
            "failing": failing,
            "compile_error": false,
            "first_checked": "2026-12-03T08:00:00Z",
            "last_checked": "2026-12-03T09:00:00Z",
            "passed_at": null
        }]
    })
    .to_string()
}

#[test]
fn class_report_shows_hostile_names_harmlessly_and_counts_each_check_once() {
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let long = "L".repeat(70_000);
    let forged = "Eve\r\nMallory        ✓  \x1b[2J\x1b]0;owned\x07";
    std::fs::write(
        dir.path().join("a.json"),
        attendee_report(&long, &["fails", "fails", "fails"]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        attendee_report(forged, &["aborts"]),
    )
    .unwrap();
    std::fs::write(dir.path().join("c.json"), "{ not a report").unwrap();
    let html = dir.path().join("class.html");
    let out = fixture(state.path())
        .arg("class-report")
        .arg(dir.path())
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // One line per attendee: the CR/LF in a name does not start a row.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.contains("0/1")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows.iter().all(|r| r.chars().count() < 100), "{stdout}");
    assert!(stdout.contains("Eve\\r\\nMallory"), "{stdout}");
    assert!(stdout.contains("LLL…"), "{stdout}");
    // `fails` is listed three times in one report: one attendee, counted
    // once (it ties with `aborts`, and comes first in the course).
    assert!(
        stdout.contains("step1-fixture / fails") && stdout.contains("fails for 1 of 2 attendees"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains('\x1b') && !page.contains(&long),
        "the page shows the names raw"
    );
    assert!(page.contains("Eve\\r\\nMallory"));
}

/// A check that prints 3 GiB: the grader keeps its first and last lines and
/// says how much it cut, and none of it is written to disk (the grader runs
/// with a file-size limit far below 3 GiB here, which a file of captured
/// output would hit).
#[cfg(unix)]
#[test]
fn three_gib_of_output_are_cut_to_head_and_tail_and_never_written_to_disk() {
    use std::os::unix::process::CommandExt;
    let state = tempfile::tempdir().unwrap();
    // Built first, without the limit.
    fixture(state.path())
        .args(["check", "step1"])
        .assert()
        .code(1);
    let mut cmd = std_fixture(state.path());
    cmd.env("FIXTURE_MODE", "flood").args(["check", "step1"]);
    let limit = libc::rlimit {
        rlim_cur: 64 << 20,
        rlim_max: 64 << 20,
    };
    // SAFETY: setrlimit is async-signal-safe and reads only `limit`.
    unsafe {
        cmd.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✗ A check that fails"), "{stdout}");
    let first = stdout.find("FLOOD-FIRST-LINE").expect("the head is kept");
    let cut = stdout.find("bytes cut ...]").expect("the cut is said");
    let last = stdout.find("FLOOD-LAST-LINE").expect("the tail is kept");
    assert!(first < cut && cut < last, "{stdout}");
    assert!(stdout.len() < 64 * 1024, "{} bytes shown", stdout.len());
}

/// Memory that `RLIMIT_DATA` does not see: a shared mapping, and four
/// children each under the limit but together over it. The grader adds up
/// the tree's memory and stops it (Linux).
#[cfg(target_os = "linux")]
#[test]
fn a_shared_mapping_and_a_tree_of_children_are_held_to_the_memory_limit() {
    for mode in ["shared-map", "children"] {
        let state = tempfile::tempdir().unwrap();
        let out = fixture(state.path())
            .env("FIXTURE_MODE", mode)
            .args(["check", "step1", "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{mode}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let passes = &v["steps"][0]["checks"][0];
        assert!(
            passes["message"]
                .as_str()
                .unwrap_or_default()
                .contains("used more than 256 MiB of memory"),
            "{mode}: {passes}"
        );
    }
}
