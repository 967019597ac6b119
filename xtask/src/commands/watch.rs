//! `cargo xtask watch [<step>] [--poll | --manual]`: re-check when the
//! exercise's files change.
//!
//! A change means other bytes: every wake-up (a file event, a poll tick) is
//! answered by comparing the SHA-1 of the exercise's files with what they
//! were when the last check started. File systems report much that is not a
//! change (Linux reports every open, and each check opens the exercise's files
//! itself; an editor may save the same bytes again), and none of it re-checks;
//! events that only say a file was read do not even wake `watch` up, or
//! its own comparison would wake it again.
//! Enter always re-checks.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{
    event::{AccessKind, AccessMode},
    EventKind, RecommendedWatcher, RecursiveMode, Watcher,
};

use crate::build::Target;
use crate::commands::check::check_step;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::stamp;
use crate::ui::{self, paint, DIM, NOTE};
use crate::Format;

/// How `watch` learns that it may be time to check again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The operating system's file events (falls back to polling where they
    /// do not work).
    Native,
    /// Look at the files once a second.
    Poll,
    /// Only when Enter is pressed.
    Manual,
}

/// How often `--poll` looks at the files.
const POLL_EVERY: Duration = Duration::from_secs(1);

enum Wake {
    /// Files may have changed: the names of those an event named (none for
    /// a poll tick).
    Files(Vec<String>),
    /// The learner pressed Enter.
    Enter,
    /// Standard input was closed.
    InputClosed,
}

pub fn run(step: Option<&str>, mode: Mode) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let follow = step.is_none();
    let mut current = match step {
        Some(name) => repo.step(name)?.id.clone(),
        None => next_unfinished(&repo).unwrap_or_else(|| repo.course.steps[0].id.clone()),
    };
    let (tx, rx) = mpsc::channel();
    read_enter(tx.clone(), mode == Mode::Manual);
    let first_dir = repo.path(&repo.step(&current)?.exercise_crate);
    let mut source = Source::start(mode, &first_dir, tx);

    let mut check_now = true;
    let mut seen = None;
    loop {
        let step = repo.step(&current)?;
        let dir = repo.path(&step.exercise_crate);
        source.follow(&dir);
        if check_now {
            // Taken before the check: a save during the build counts.
            seen = Some(snapshot(&repo, &dir));
            if ui::stdout_is_terminal() {
                // Clear the screen so the latest result is the only one shown.
                anstream::print!("\x1b[2J\x1b[H");
            }
            let passed = match check_step(&repo, step, Target::Exercise, Format::Human) {
                Ok(result) => result.passed(),
                Err(e) => {
                    ui::error(&format!("{e:#}"));
                    false
                }
            };
            // What changed while the check ran does not start another one:
            // it may be the code under test writing into the crate, which
            // would re-check for ever. Said, so that a save is not lost.
            let after = snapshot(&repo, &dir);
            if seen.as_ref() != Some(&after) {
                let changed = changed_files(seen.as_ref(), &after);
                anstream::println!(
                    "\n{} {} changed while the check ran (by you, or by your code?): press Enter to check again.",
                    paint(NOTE, "Note:"),
                    changed.join(", ")
                );
                seen = Some(after);
            }
            if passed && follow {
                if let Some(next) = repo.course.next_step(&current) {
                    anstream::println!(
                        "\n{} now watching step {} ({}). Edit {} when you are ready.",
                        paint(NOTE, "Moving on:"),
                        next.number(),
                        next.title,
                        next.exercise_crate
                    );
                    // The next step is checked at its first edit, not now:
                    // only a pass that an edit (or the first check) earned
                    // moves on.
                    current = next.id.clone();
                    seen = Some(snapshot(&repo, &repo.path(&next.exercise_crate)));
                    check_now = false;
                    continue;
                }
            }
            anstream::println!(
                "\n{}",
                paint(DIM, source.waiting_line(&step.exercise_crate))
            );
        }
        check_now = match rx.recv().context("the file watcher stopped")? {
            Wake::Files(names) => {
                let changed = seen.as_ref() != Some(&snapshot(&repo, &dir));
                if !changed && trace_wakes() {
                    anstream::println!(
                        "(watch: not checked, same bytes; woken for [{}])",
                        names.join(", ")
                    );
                }
                changed
            }
            Wake::Enter => true,
            Wake::InputClosed if mode == Mode::Manual => {
                anstream::println!("Standard input closed: nothing can ask for a check any more.");
                return Ok(ExitCode::SUCCESS);
            }
            Wake::InputClosed => false,
        };
    }
}

/// The exercise's files that cargo builds from, and their hashes: `src/`,
/// `Cargo.toml` and `build.rs`. A log or a data file the code writes next
/// to them is not a reason to check again.
fn snapshot(repo: &Repo, dir: &Path) -> stamp::Inputs {
    let inputs: Vec<PathBuf> = ["src", "Cargo.toml", "build.rs"]
        .iter()
        .map(|p| dir.join(p))
        .collect();
    stamp::fingerprint(repo, &inputs)
}

/// The files (root-relative) whose hash differs between two snapshots.
fn changed_files(before: Option<&stamp::Inputs>, after: &stamp::Inputs) -> Vec<String> {
    let empty = stamp::Inputs::new();
    let before = before.unwrap_or(&empty);
    let mut files: Vec<String> = after
        .iter()
        .filter(|(f, h)| before.get(*f) != Some(*h))
        .map(|(f, _)| f.clone())
        .chain(before.keys().filter(|f| !after.contains_key(*f)).cloned())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// For the grader's own tests (`COURSE_TEST_WATCH_WAKES` set): each wake-up
/// that checks nothing says so, with the files it was woken for, so that a
/// test can tell "this event was looked at and not checked" from a line
/// instead of from seconds of quiet.
fn trace_wakes() -> bool {
    std::env::var_os("COURSE_TEST_WATCH_WAKES").is_some()
}

/// Sends [`Wake::Enter`] for every line on stdin: when stdin is a terminal,
/// and in manual mode whatever it is.
fn read_enter(tx: Sender<Wake>, manual: bool) {
    if !manual && !std::io::stdin().is_terminal() {
        return;
    }
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() || tx.send(Wake::Enter).is_err() {
                break;
            }
        }
        let _ = tx.send(Wake::InputClosed);
    });
}

/// How long the files must be quiet before a burst of events is one
/// wake-up: a save arrives as several events.
const QUIET: Duration = Duration::from_millis(300);

/// Whether an event only says that a file was read (opened, closed after
/// reading, listed). A close after writing says that a write finished.
fn is_only_a_read(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Access(access) if *access != AccessKind::Close(AccessMode::Write))
}

/// Turns bursts of file events into one [`Wake::Files`] each, once the files
/// have been quiet for [`QUIET`]: it sleeps until the first event of a
/// burst, then until none has come for that long.
fn debounce(bursts: mpsc::Receiver<Vec<String>>, tx: Sender<Wake>) {
    std::thread::spawn(move || {
        while let Ok(mut names) = bursts.recv() {
            loop {
                match bursts.recv_timeout(QUIET) {
                    Ok(more) => names.extend(more),
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            names.sort();
            names.dedup();
            if tx.send(Wake::Files(names)).is_err() {
                return;
            }
        }
    });
}

/// Where file wake-ups come from.
enum Source {
    Native {
        watcher: RecommendedWatcher,
        watched: Option<PathBuf>,
        tx: Sender<Wake>,
    },
    Poll,
    Manual,
}

impl Source {
    fn start(mode: Mode, dir: &Path, tx: Sender<Wake>) -> Source {
        match mode {
            Mode::Manual => Source::Manual,
            Mode::Poll => Source::poll(tx),
            Mode::Native => {
                if let Some(why) = native_unreliable(dir) {
                    ui::warning(&format!("{why}: watching by looking at the files every second instead (as with --poll)"));
                    return Source::poll(tx);
                }
                let (events, bursts) = mpsc::channel::<Vec<String>>();
                // Reading a file is an event too on Linux (an open, a
                // close): the checks read the exercise, and so does the
                // comparison each wake-up makes. Were they wake-ups, an idle
                // watch would wake itself every debounce interval for ever.
                let handler = move |result: notify::Result<notify::Event>| {
                    let Ok(event) = result else { return };
                    if is_only_a_read(&event.kind) {
                        return;
                    }
                    let names: Vec<String> = event
                        .paths
                        .iter()
                        .filter(|p| !p.components().any(|c| c.as_os_str() == "target"))
                        .filter_map(|p| p.file_name())
                        .map(|name| name.to_string_lossy().into_owned())
                        .collect();
                    if !names.is_empty() {
                        let _ = events.send(names);
                    }
                };
                match notify::recommended_watcher(handler) {
                    Ok(watcher) => {
                        debounce(bursts, tx.clone());
                        Source::Native {
                            watcher,
                            watched: None,
                            tx,
                        }
                    }
                    Err(e) => {
                        ui::warning(&format!("cannot watch files on this system ({e}): looking at them every second instead"));
                        Source::poll(tx)
                    }
                }
            }
        }
    }

    fn poll(tx: Sender<Wake>) -> Source {
        std::thread::spawn(move || loop {
            std::thread::sleep(POLL_EVERY);
            if tx.send(Wake::Files(Vec::new())).is_err() {
                break;
            }
        });
        Source::Poll
    }

    /// Watches `dir` (and stops watching the previous one).
    fn follow(&mut self, dir: &Path) {
        let Source::Native {
            watcher,
            watched,
            tx,
        } = self
        else {
            return;
        };
        if watched.as_deref() == Some(dir) {
            return;
        }
        if let Some(old) = watched.take() {
            let _ = watcher.unwatch(&old);
        }
        match watcher.watch(dir, RecursiveMode::Recursive) {
            Ok(()) => *watched = Some(dir.to_path_buf()),
            Err(e) => {
                ui::warning(&format!(
                    "cannot watch {} ({e}): looking at the files every second instead (as with --poll)",
                    dir.display()
                ));
                *self = Source::poll(tx.clone());
            }
        }
    }

    fn waiting_line(&self, crate_dir: &str) -> String {
        match self {
            Source::Manual => {
                format!("Press Enter to check {crate_dir} again. Ctrl+C to stop.")
            }
            _ => format!("Watching {crate_dir} for changes (Enter checks again). Ctrl+C to stop."),
        }
    }
}

/// Why native file events cannot be trusted for `dir`, if they cannot: on
/// WSL, files under /mnt live on Windows and Linux gets no events for them.
fn native_unreliable(dir: &Path) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let wsl = release.to_ascii_lowercase().contains("microsoft");
    (wsl && dir.starts_with("/mnt/")).then(|| {
        format!(
            "{} is on a Windows drive seen from WSL, where Linux gets no file events",
            dir.display()
        )
    })
}

fn next_unfinished(repo: &Repo) -> Option<String> {
    let progress = Progress::load(repo);
    repo.course
        .steps
        .iter()
        .find(|s| !progress.get(&s.id).is_some_and(|p| p.passed))
        .map(|s| s.id.clone())
}
