//! The learner's progress: `.course/progress.toml` (git-ignored). A missing
//! or unreadable file is rebuilt with a one-line warning, never a crash.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::repo::Repo;
use crate::ui;

const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    #[serde(default)]
    pub steps: BTreeMap<String, StepProgress>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepProgress {
    /// Every check passed the last time the step was checked.
    pub passed: bool,
    /// The step passed at some point (it stays done when later edits break it).
    #[serde(default)]
    pub ever_passed: bool,
    pub checks_passed: usize,
    pub checks_total: usize,
    /// Ids of the checks that failed last time.
    #[serde(default)]
    pub failing: Vec<String>,
    /// The last run did not compile.
    #[serde(default)]
    pub compile_error: bool,
    pub first_checked: String,
    pub last_checked: String,
    pub passed_at: Option<String>,
}

impl Progress {
    fn path(repo: &Repo) -> PathBuf {
        repo.state_dir().join("progress.toml")
    }

    /// Reads the progress file; rebuilds it (with a warning) when it is
    /// missing a version or cannot be parsed.
    pub fn load(repo: &Repo) -> Progress {
        let path = Progress::path(repo);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Progress::fresh(),
            Err(e) => {
                ui::warning(&format!(
                    "cannot read {}: {e}; starting with empty progress",
                    path.display()
                ));
                return Progress::fresh();
            }
        };
        match toml::from_str::<Progress>(&text) {
            Ok(p) if p.version == VERSION => p,
            Ok(_) | Err(_) => {
                ui::warning(&format!(
                    "{} is damaged or from another version; it will be rebuilt from your next checks",
                    path.display()
                ));
                Progress::fresh()
            }
        }
    }

    fn fresh() -> Progress {
        Progress {
            version: VERSION,
            steps: BTreeMap::new(),
        }
    }

    /// Records a step's result and saves the file (a failure to save is a
    /// warning: grading still counts).
    pub fn record(
        repo: &Repo,
        step_id: &str,
        passed: usize,
        total: usize,
        failing: Vec<String>,
        compile_error: bool,
    ) {
        let mut progress = Progress::load(repo);
        let now = now();
        let entry = progress.steps.entry(step_id.to_string()).or_default();
        if entry.first_checked.is_empty() {
            entry.first_checked = now.clone();
        }
        entry.last_checked = now.clone();
        entry.checks_passed = passed;
        entry.checks_total = total;
        entry.compile_error = compile_error;
        entry.passed = !compile_error && passed == total && failing.is_empty();
        entry.failing = failing;
        if entry.passed {
            entry.ever_passed = true;
            entry.passed_at.get_or_insert(now);
        }
        progress.save(repo);
    }

    /// Forgets a step (after `reset`).
    pub fn forget(repo: &Repo, step_id: &str) {
        let mut progress = Progress::load(repo);
        if progress.steps.remove(step_id).is_some() {
            progress.save(repo);
        }
    }

    fn save(&self, repo: &Repo) {
        let path = Progress::path(repo);
        let result = std::fs::create_dir_all(repo.state_dir())
            .and_then(|()| {
                let text = toml::to_string_pretty(self).map_err(std::io::Error::other)?;
                let header = "# Your progress in the course, written by `cargo xtask check`.\n# Safe to delete: it is rebuilt from your next checks.\n";
                // Write to a temporary file first so a crash never leaves half a file.
                let tmp = path.with_extension("toml.tmp");
                std::fs::write(&tmp, format!("{header}{text}"))?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(e) = result {
            ui::warning(&format!("cannot save progress to {}: {e}", path.display()));
        }
    }

    pub fn get(&self, step_id: &str) -> Option<&StepProgress> {
        self.steps.get(step_id)
    }
}

/// Now, as an RFC 3339 timestamp (UTC, seconds).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
