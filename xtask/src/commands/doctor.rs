//! `cargo xtask doctor`: is this machine ready for the workshop?
//! One line per item, with a fix for each problem.

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Result;

use crate::repo::Repo;
use crate::ui::{paint, BAD, DIM, OK, WARN};

/// The oldest Rust the course builds with (the demos use std::io::pipe, stable since 1.87).
const MIN_RUST: (u32, u32) = (1, 87);

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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let items = [
        toolchain(),
        builds(&repo, &cargo),
        child_process(),
        cores(),
        git(),
    ];
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

/// Builds the grading path: every step's checks against its exercise.
/// This also downloads every crate the workshop needs, so it can run offline.
fn builds(repo: &Repo, cargo: &std::ffi::OsStr) -> Item {
    let what = "the exercises and their checks build";
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&repo.root).args(["build", "--quiet"]);
    let mut count = 0;
    for step in &repo.course.steps {
        if repo.path(&step.checks_crate()).join("Cargo.toml").is_file() {
            cmd.args(["--package", &step.checks_package()]);
            count += 1;
        }
    }
    let started = Instant::now();
    match cmd.stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => Item {
            what,
            status: Status::Ok,
            detail: format!(
                "the checks of all {count} steps built in {:.1} s (every crate they need is downloaded: the workshop works offline)",
                started.elapsed().as_secs_f64()
            ),
            fix: None,
        },
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or("cargo build failed")
                .trim()
                .to_string();
            Item {
                what,
                status: Status::Bad,
                detail: first,
                fix: Some(
                    "if it cannot download crates, connect to the internet once and run `cargo fetch`; if an exercise does not compile, `cargo xtask check <step>` shows where".into(),
                ),
            }
        }
        Err(e) => Item {
            what,
            status: Status::Bad,
            detail: format!("cannot run cargo: {e}"),
            fix: Some("make sure cargo is on your PATH".into()),
        },
    }
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
