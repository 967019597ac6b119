//! `cargo xtask bench --demos --out book/src/measure`: runs the demos whose
//! output the book shows and records what they printed and measured, so that
//! no chapter pastes one run's output by hand or retypes its numbers.
//!
//! For each run in [`RUNS`] it writes `DIR/demos/<name>.txt` (what the demo
//! printed, stdout and stderr in the order they came), which the chapter
//! includes inside its output block, and it collects the figures the demo
//! recorded with `demos::figure` into `DIR/demos.json`:
//!
//! ```json
//! { "schema": "course-demos/1", "machine": { ... },
//!   "debug":   { "threads-not-always-faster": { "tiny": { "slower": { "median": 64 } } } },
//!   "release": { ... } }
//! ```
//!
//! which the prose quotes with `{{#course-bench demos:debug.<demo>.<figure>}}`.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::report::Machine;

/// Changes whenever the layout of demos.json changes.
pub const SCHEMA: &str = "course-demos/1";

/// The environment variable the demos append their figures to
/// (`demos::FIGURES_ENV`; the bench does not depend on the demos crate).
const FIGURES_ENV: &str = "COURSE_DEMO_FIGURES";

/// Longer than any demo takes; only there to stop a hung one.
const TIME_LIMIT: Duration = Duration::from_secs(180);

/// One recorded run: a demo binary, built as the book's command builds it.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub bin: &'static str,
    pub release: bool,
}

const fn debug(bin: &'static str) -> Run {
    Run {
        bin,
        release: false,
    }
}

const fn release(bin: &'static str) -> Run {
    Run { bin, release: true }
}

/// Every demo run whose output or figures a chapter shows, built the way
/// the command next to it in the chapter builds it (`--release` or not).
/// The book builder's tests fail on a recording no chapter includes.
pub const RUNS: &[Run] = &[
    debug("same-pid"),
    debug("child-memory"),
    debug("threads-not-always-faster"),
    release("threads-not-always-faster"),
    debug("threads-dont-unblock"),
    debug("safe-rust-races"),
    debug("arc-mutex-not-enough"),
    debug("panicking-thread"),
    debug("stopping-children"),
    debug("pipe-deadlock"),
    debug("zombie-children"),
    debug("pipe-capacity"),
    release("fork-cost"),
    debug("step1-blocking"),
    release("step1-blocking"),
    debug("step2-offloading"),
    release("step3-shared-atomics"),
    release("step4-pipe-ipc"),
    release("step5-race-conditions"),
    debug("step6-isolation"),
    release("step7-pool-limits"),
];

impl Run {
    fn profile(self) -> &'static str {
        if self.release {
            "release"
        } else {
            "debug"
        }
    }

    /// The recording's file stem: `fork-cost.release`, `same-pid`.
    pub fn stem(self) -> String {
        if self.release {
            format!("{}.release", self.bin)
        } else {
            self.bin.to_string()
        }
    }
}

/// Builds the demos in both profiles, runs every one of [`RUNS`] (or those
/// named in `only`), and writes their recordings under `out`. With `only`,
/// the other demos' entries in an existing demos.json are kept.
pub fn record(out: &Path, only: &[String]) -> Result<(), Box<dyn Error>> {
    for name in only {
        if !RUNS.iter().any(|r| r.bin == name || r.stem() == *name) {
            let names: Vec<String> = RUNS.iter().map(|r| r.stem()).collect();
            return Err(format!("no recorded demo `{name}`; known: {}", names.join(", ")).into());
        }
    }
    let runs: Vec<Run> = RUNS
        .iter()
        .copied()
        .filter(|r| only.is_empty() || only.iter().any(|n| r.bin == n || r.stem() == *n))
        .collect();
    let root = repo_root()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for release in [false, true] {
        if !runs.iter().any(|r| r.release == release) {
            continue;
        }
        let mut build = Command::new(&cargo);
        build
            .current_dir(&root)
            .args(["build", "--quiet", "--package", "demos", "--bins"]);
        if release {
            build.arg("--release");
        }
        eprintln!(
            "demos: building ({})",
            if release { "release" } else { "debug" }
        );
        if !build.status()?.success() {
            return Err("the demos did not build".into());
        }
    }
    let target = target_dir(&root);
    let file = out.join("demos.json");
    let mut data = match (only.is_empty(), std::fs::read_to_string(&file)) {
        (false, Ok(text)) => serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("{} is not valid JSON: {e}", file.display()))?,
        _ => Value::Object(Map::new()),
    };
    data["schema"] = SCHEMA.into();
    let mut machine = serde_json::to_value(Machine::describe())?;
    // The profile is per run here (the `debug` and `release` groups).
    machine.as_object_mut().map(|m| m.remove("profile"));
    data["machine"] = machine;
    std::fs::create_dir_all(out.join("demos"))?;
    for run in runs {
        let exe =
            target
                .join(run.profile())
                .join(format!("{}{}", run.bin, std::env::consts::EXE_SUFFIX));
        eprintln!("demos: running {}", run.stem());
        let (text, figures) = run_one(&exe, &root)?;
        let path = out.join("demos").join(format!("{}.txt", run.stem()));
        // No newline at the end: the chapter's `{{#include}}` line has one.
        std::fs::write(&path, text.trim_end())?;
        eprintln!("wrote {}", path.display());
        let group = data
            .as_object_mut()
            .expect("an object")
            .entry(run.profile())
            .or_insert_with(|| Value::Object(Map::new()));
        group[run.bin] = figures;
    }
    std::fs::write(&file, serde_json::to_string_pretty(&data)? + "\n")?;
    eprintln!("wrote {}", file.display());
    Ok(())
}

/// Runs one demo from the repository root with nothing on stdin; returns
/// what it printed (both streams, interleaved as written) and its figures.
fn run_one(exe: &Path, root: &Path) -> Result<(String, Value), Box<dyn Error>> {
    let figures_file = std::env::temp_dir().join(format!(
        "course-demo-figures-{}-{}.txt",
        std::process::id(),
        exe.file_stem().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&figures_file);
    let (mut reader, writer) = std::io::pipe()?;
    let mut child = Command::new(exe)
        .current_dir(root)
        .env(FIGURES_ENV, &figures_file)
        // As a reader runs it: no backtraces under a panic message.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    // Read while it runs, so that a full pipe never stops the demo; the
    // reader ends when the demo and every child holding the pipe are gone.
    let output = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} ran for over {TIME_LIMIT:?}", exe.display()).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let bytes = output.join().map_err(|_| "the output reader panicked")??;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} printed something that is not UTF-8", exe.display()))?;
    if !status.success() {
        return Err(format!("{} failed ({status}):\n{text}", exe.display()).into());
    }
    let recorded = std::fs::read_to_string(&figures_file).unwrap_or_default();
    let _ = std::fs::remove_file(&figures_file);
    let figures = nest(&recorded).map_err(|e| format!("{}: {e}", exe.display()))?;
    // Paths of this checkout say nothing to a reader.
    let text = text.replace(
        &format!("{}{}", root.display(), std::path::MAIN_SEPARATOR),
        "",
    );
    Ok((text, figures))
}

/// `a.b 1` lines as `{"a": {"b": 1}}`; the same name twice is an error.
pub fn nest(lines: &str) -> Result<Value, String> {
    let mut flat = BTreeMap::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(' ')
            .ok_or_else(|| format!("figure line `{line}` is not `NAME VALUE`"))?;
        let value: f64 = value
            .parse()
            .map_err(|_| format!("figure `{name}`: `{value}` is not a number"))?;
        if flat.insert(name.to_string(), value).is_some() {
            return Err(format!("figure `{name}` was recorded twice"));
        }
    }
    let mut root = Map::new();
    for (name, value) in flat {
        let words: Vec<&str> = name.split('.').collect();
        insert(&mut root, &words, value).map_err(|e| format!("figure `{name}`: {e}"))?;
    }
    Ok(Value::Object(root))
}

/// Puts `value` at the path `words` under `object`.
fn insert(object: &mut Map<String, Value>, words: &[&str], value: f64) -> Result<(), String> {
    match words {
        [] => Err("an empty name".into()),
        [last] => match object.insert(last.to_string(), value.into()) {
            None => Ok(()),
            Some(_) => Err("it is also a prefix of another".into()),
        },
        [first, rest @ ..] => match object
            .entry(first.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            Value::Object(inner) => insert(inner, rest, value),
            _ => Err("a prefix of it is a number too".into()),
        },
    }
}

/// The repository root: where the workspace's Cargo.toml and course.toml are.
fn repo_root() -> Result<PathBuf, Box<dyn Error>> {
    let start = std::env::current_dir()?;
    start
        .ancestors()
        .find(|d| d.join("course.toml").is_file() && d.join("demos/Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| "run this inside the course's repository".into())
}

/// Cargo's target folder (`CARGO_TARGET_DIR` or `<root>/target`).
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_nest_by_their_dots() {
        let v = nest("a.b_ms 1.5\na.c 2\nd 3\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": {"b_ms": 1.5, "c": 2.0}, "d": 3.0})
        );
    }

    #[test]
    fn a_figure_twice_or_a_prefix_clash_is_refused() {
        assert!(nest("a 1\na 2\n").unwrap_err().contains("twice"));
        assert!(nest("a 1\na.b 2\n").is_err());
        assert!(nest("a x\n").unwrap_err().contains("not a number"));
    }

    #[test]
    fn every_run_has_its_recording_in_the_book() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src/measure/demos");
        for run in RUNS {
            let file = dir.join(format!("{}.txt", run.stem()));
            assert!(
                file.is_file(),
                "{} is missing: run `cargo xtask bench --demos {} --out book/src/measure`",
                file.display(),
                run.stem()
            );
        }
    }

    #[test]
    fn every_run_is_named_once() {
        let mut stems: Vec<String> = RUNS.iter().map(|r| r.stem()).collect();
        stems.sort();
        let n = stems.len();
        stems.dedup();
        assert_eq!(stems.len(), n);
    }
}
