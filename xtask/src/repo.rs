//! Finding the course repository and reading its manifest.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use course::{Course, Step, MANIFEST_FILE};

/// The course repository: its root directory and its manifest.
pub struct Repo {
    pub root: PathBuf,
    pub course: Course,
}

impl Repo {
    /// `cargo run --release --quiet --package <package> --` from the root:
    /// the tools that are packages of their own (bench, board), so that
    /// grading never compiles them. Add the tool's arguments.
    pub fn cargo_run_release(&self, package: &str) -> std::process::Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(&self.root).args([
            "run",
            "--release",
            "--quiet",
            "--package",
            package,
            "--",
        ]);
        cmd
    }

    /// Finds the root (the `COURSE_ROOT` variable, or the nearest directory
    /// upwards from here that holds `course.toml`) and reads the manifest.
    pub fn open() -> Result<Repo> {
        let root = find_root()?;
        let course = Course::load(&root).map_err(anyhow::Error::msg)?;
        Ok(Repo { root, course })
    }

    /// Finds a step by any of its names, or explains which names exist.
    pub fn step(&self, name: &str) -> Result<&Step> {
        if let Some(step) = self.course.find_step(name) {
            return Ok(step);
        }
        let names = self.course.step_names();
        let closest = names
            .iter()
            .map(|n| (strsim::jaro_winkler(&name.to_ascii_lowercase(), n), n))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| format!(" Did you mean `{n}`?"))
            .unwrap_or_default();
        let list = self
            .course
            .steps
            .iter()
            .map(|s| s.short_id().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        bail!("there is no step `{name}`.{closest} The steps are: {list} (or their full ids, see `cargo xtask list`).")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The directory for the grader's own state (progress, backups):
    /// `.course` at the root, or `COURSE_STATE_DIR` when set (tests use it).
    pub fn state_dir(&self) -> PathBuf {
        match std::env::var_os("COURSE_STATE_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => self.root.join(".course"),
        }
    }
}

fn find_root() -> Result<PathBuf> {
    if let Some(root) = std::env::var_os("COURSE_ROOT") {
        let root = PathBuf::from(root);
        if !root.join(MANIFEST_FILE).is_file() {
            bail!(
                "COURSE_ROOT is {} but there is no {MANIFEST_FILE} there",
                root.display()
            );
        }
        return Ok(root);
    }
    let here = std::env::current_dir().context("cannot read the current directory")?;
    find_upwards(&here).with_context(|| {
        format!(
            "not inside the course repository: no {MANIFEST_FILE} in {} or any parent. `cd` into your clone of the course and try again.",
            here.display()
        )
    })
}

fn find_upwards(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(MANIFEST_FILE).is_file())
        .map(Path::to_path_buf)
}
