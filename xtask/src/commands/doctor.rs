//! `cargo xtask doctor`: is this machine ready for the workshop?
//! One line per item, with a fix for each problem.

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Result;

use crate::build::{self, Built, Target};
use crate::repo::Repo;
use crate::ui::{paint, BAD, DIM, OK, WARN};

/// The oldest Rust the course builds with (the grader's tests use File::lock, stable since 1.89).
const MIN_RUST: (u32, u32) = (1, 89);

enum Status {
    Ok,
    Warn,
    Bad,
}

struct Item {
    what: &'static str,
    status: Status,
    detail: String,
    fix: Option<String>,
}

pub fn run() -> Result<ExitCode> {
    let started = Instant::now();
    let repo = Repo::open()?;
    let items = [toolchain(), builds(&repo), child_process(), cores(), git()];
    let mut bad = 0;
    for item in &items {
        let mark = match item.status {
            Status::Ok => paint(OK, "✓"),
            Status::Warn => paint(WARN, "!"),
            Status::Bad => {
                bad += 1;
                paint(BAD, "✗")
            }
        };
        anstream::println!("{mark} {}: {}", item.what, item.detail);
        if let Some(fix) = &item.fix {
            anstream::println!("    {} {fix}", paint(DIM, "fix:"));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!();
    if bad == 0 {
        anstream::println!(
            "{} ready for the workshop ({secs:.1} s). Start with `cargo xtask check step1`.",
            paint(OK, "All good:")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        anstream::println!(
            "{} {bad} problem(s) to fix before the workshop ({secs:.1} s).",
            paint(BAD, "Not ready:")
        );
        Ok(ExitCode::FAILURE)
    }
}

fn toolchain() -> Item {
    let what = "Rust toolchain";
    let Ok(out) = Command::new("rustc").arg("--version").output() else {
        return Item {
            what,
            status: Status::Bad,
            detail: "rustc was not found".into(),
            fix: Some(
                "install Rust with rustup (https://rustup.rs), then open a new terminal".into(),
            ),
        };
    };
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = text.split_whitespace().nth(1).and_then(|v| {
        let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??))
    });
    match version {
        Some(v) if v >= MIN_RUST => Item {
            what,
            status: Status::Ok,
            detail: format!("{text} (needs {}.{} or newer)", MIN_RUST.0, MIN_RUST.1),
            fix: None,
        },
        _ => Item {
            what,
            status: Status::Bad,
            detail: format!(
                "{text}; the course needs {}.{} or newer",
                MIN_RUST.0, MIN_RUST.1
            ),
            fix: Some("run `rustup update stable`".into()),
        },
    }
}

/// Builds every step's checks against its exercise exactly as `check` does
/// (step 5's model-checker build included). This also downloads every crate
/// the grader needs, so the workshop can run offline.
fn builds(repo: &Repo) -> Item {
    let what = "the exercises and their checks build";
    let started = Instant::now();
    let mut problems = Vec::new();
    for step in &repo.course.steps {
        match build::build_checks(repo, step, Target::Exercise, false, &mut |_| {}) {
            Ok(Built::Ok { .. }) => {}
            Ok(Built::Failed { diagnostics }) => problems.push(format!(
                "{} does not compile ({} error(s)); `{}` shows them",
                step.exercise_crate,
                diagnostics.len(),
                step.check_command()
            )),
            Err(e) => problems.push(format!("{}: {}", step.id, first_line(&format!("{e:#}")))),
        }
    }
    if problems.is_empty() {
        Item {
            what,
            status: Status::Ok,
            detail: format!(
                "all {} steps built in {:.1} s (every crate they need is downloaded: the workshop works offline)",
                repo.course.steps.len(),
                started.elapsed().as_secs_f64()
            ),
            fix: None,
        }
    } else {
        Item {
            what,
            status: Status::Bad,
            detail: problems.join("; "),
            fix: Some(
                "if crates cannot be downloaded, connect to the internet once and run `cargo xtask doctor` again; if an exercise of yours does not compile, that is fine before the workshop".into(),
            ),
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| l.contains("error"))
        .or_else(|| text.lines().next())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Starts a child process (this program, asking for its version) and waits for it.
fn child_process() -> Item {
    let what = "child processes can be started";
    let result = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
    });
    match result {
        Ok(out) if out.status.success() => Item {
            what,
            status: Status::Ok,
            detail: "started one, read its output and collected its exit status".into(),
            fix: None,
        },
        Ok(out) => Item {
            what,
            status: Status::Bad,
            detail: format!("the child process ended with {}", out.status),
            fix: Some(
                "an antivirus or a sandbox may block new processes; allow the course folder".into(),
            ),
        },
        Err(e) => Item {
            what,
            status: Status::Bad,
            detail: format!("cannot start one: {e}"),
            fix: Some(
                "an antivirus or a sandbox may block new processes; allow the course folder".into(),
            ),
        },
    }
}

fn cores() -> Item {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    Item {
        what: "CPU cores",
        status: if n >= 2 { Status::Ok } else { Status::Warn },
        detail: if n >= 2 {
            format!("{n} available to this program")
        } else {
            "only 1 available: every check still works, but the speed-up demos will show no speed-up".into()
        },
        fix: None,
    }
}

fn git() -> Item {
    let what = "git";
    match Command::new("git").arg("--version").output() {
        Ok(out) if out.status.success() => Item {
            what,
            status: Status::Ok,
            detail: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            fix: None,
        },
        _ => Item {
            what,
            status: Status::Warn,
            detail: "not found; everything works except `cargo xtask reset`".into(),
            fix: Some("install git (https://git-scm.com)".into()),
        },
    }
}
