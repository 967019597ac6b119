//! The learner's progress: `.course/progress.toml` (git-ignored). A missing
//! file is started afresh; a damaged or unreadable one is moved aside (the
//! warning names the new name), never overwritten and never a crash. Every
//! read-modify-write holds `.course/progress.lock`, so graders running at the
//! same time never lose each other's records.

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
    /// A damaged file that could not be moved aside: never write over it.
    #[serde(skip)]
    read_only: bool,
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
    /// The deepest hint tier shown for each check (check id -> tier, 1 = the
    /// first): a failing check shows the deepest one seen, `cargo xtask hint`
    /// the next. Kept when the check passes, so reports can tell how much
    /// help the step took.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hints_seen: BTreeMap<String, usize>,
}

impl StepProgress {
    fn see_hints(&mut self, shown: &[(String, usize)]) {
        for (check, tier) in shown {
            let seen = self.hints_seen.entry(check.clone()).or_insert(0);
            *seen = (*seen).max(*tier);
        }
    }

    /// The deepest hint tier of `check` shown so far (0: none).
    pub fn hint_seen(&self, check: &str) -> usize {
        self.hints_seen.get(check).copied().unwrap_or(0)
    }

    /// The deepest hint tier shown for any check of the step (0: none).
    pub fn deepest_hint(&self) -> usize {
        self.hints_seen.values().copied().max().unwrap_or(0)
    }
}

impl Progress {
    fn path(repo: &Repo) -> PathBuf {
        repo.state_dir().join("progress.toml")
    }

    /// Reads the progress file. A damaged one (or one from another version)
    /// is moved aside, never overwritten, and the warning says where to.
    pub fn load(repo: &Repo) -> Progress {
        let _lock = Lock::take(repo);
        Progress::load_locked(repo)
    }

    fn load_locked(repo: &Repo) -> Progress {
        let path = Progress::path(repo);
        let problem = match std::fs::read_to_string(&path) {
            Ok(text) => match toml::from_str::<Progress>(&text) {
                Ok(p) if p.version == VERSION => return p,
                Ok(p) => format!("is from another version of the grader ({})", p.version),
                Err(_) => "is damaged".to_string(),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Progress::fresh(),
            Err(e) => format!("cannot be read ({e})"),
        };
        let stamp = now().replace(':', "-");
        let aside = (1..)
            .map(|n| {
                let suffix = if n == 1 {
                    String::new()
                } else {
                    format!("-{n}")
                };
                path.with_file_name(format!("progress.{stamp}{suffix}.damaged.toml"))
            })
            .find(|p| !p.exists())
            .expect("some name is free");
        let moved = std::fs::rename(&path, &aside);
        match &moved {
            Ok(()) => ui::warning(&format!(
                "{} {problem}: moved it to {} and started a new one (your next checks fill it in again)",
                path.display(),
                aside.display()
            )),
            Err(e) => ui::warning(&format!(
                "{} {problem}, and it cannot be moved aside ({e}); it is left as it is and progress is not saved",
                path.display()
            )),
        }
        Progress {
            version: VERSION,
            steps: BTreeMap::new(),
            read_only: moved.is_err(),
        }
    }

    fn fresh() -> Progress {
        Progress {
            version: VERSION,
            steps: BTreeMap::new(),
            read_only: false,
        }
    }

    /// Records a step's result and saves the file (a failure to save is a
    /// warning: grading still counts). Two graders running at once (two
    /// terminals, `watch` beside `check`) take turns, so neither loses the
    /// other's record.
    pub fn record(
        repo: &Repo,
        step_id: &str,
        passed: usize,
        total: usize,
        failing: Vec<String>,
        compile_error: bool,
        hints_shown: &[(String, usize)],
    ) {
        let _lock = Lock::take(repo);
        let mut progress = Progress::load_locked(repo);
        let now = now();
        let entry = progress.steps.entry(step_id.to_string()).or_default();
        entry.see_hints(hints_shown);
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

    /// Remembers that these hints (check id, tier) were shown, keeping the
    /// deepest tier of each check. Graders running at once take turns.
    pub fn saw_hints(repo: &Repo, step_id: &str, shown: &[(String, usize)]) {
        if shown.is_empty() {
            return;
        }
        let _lock = Lock::take(repo);
        let mut progress = Progress::load_locked(repo);
        let entry = progress.steps.entry(step_id.to_string()).or_default();
        entry.see_hints(shown);
        progress.save(repo);
    }

    /// Forgets a step (after `reset`).
    pub fn forget(repo: &Repo, step_id: &str) {
        let _lock = Lock::take(repo);
        let mut progress = Progress::load_locked(repo);
        if progress.steps.remove(step_id).is_some() {
            progress.save(repo);
        }
    }

    /// Writes the file atomically: a temporary file of this process's own,
    /// then a rename over the old one. Call with the lock held.
    fn save(&self, repo: &Repo) {
        if self.read_only {
            return;
        }
        let path = Progress::path(repo);
        let tmp = path.with_file_name(format!("progress.toml.{}.tmp", std::process::id()));
        let _listed = check_harness::cleanup::temp_path(tmp.clone());
        let result = std::fs::create_dir_all(repo.state_dir()).and_then(|()| {
            let text = toml::to_string_pretty(self).map_err(std::io::Error::other)?;
            let header = "# Your progress in the course, written by `cargo xtask check`.\n# Safe to delete: it is rebuilt from your next checks.\n";
            std::fs::write(&tmp, format!("{header}{text}"))?;
            std::fs::rename(&tmp, &path)
        });
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            ui::warning(&format!("cannot save progress to {}: {e}", path.display()));
        }
    }

    pub fn get(&self, step_id: &str) -> Option<&StepProgress> {
        self.steps.get(step_id)
    }
}

/// An exclusive lock on `progress.lock` in the state directory, held until
/// dropped. Where no lock can be had (a read-only folder) grading goes on
/// without one: nothing could be saved there anyway.
struct Lock(Option<std::fs::File>);

impl Lock {
    fn take(repo: &Repo) -> Lock {
        let dir = repo.state_dir();
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(dir.join("progress.lock"))
            })
            .and_then(|f| f.lock().map(|()| f));
        Lock(file.ok())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = file.unlock();
        }
    }
}

/// Now, as an RFC 3339 timestamp (UTC, seconds).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(root: &std::path::Path) -> Repo {
        let manifest = "[course]\ntitle = \"T\"\ntimeout_secs = 5\n";
        Repo {
            root: root.to_path_buf(),
            course: course::Course::parse(manifest, std::path::Path::new("course.toml")).unwrap(),
        }
    }

    #[test]
    fn records_made_at_the_same_moment_are_all_kept() {
        if std::env::var_os("COURSE_STATE_DIR").is_some() {
            return; // the state would not be this test's own
        }
        let root = tempfile::tempdir().unwrap();
        let repo = repo(root.path());
        for round in 0..100 {
            let steps = [format!("step1-r{round}"), format!("step2-r{round}")];
            std::thread::scope(|s| {
                for step in &steps {
                    let repo = &repo;
                    s.spawn(move || Progress::record(repo, step, 1, 1, Vec::new(), false, &[]));
                }
            });
            let progress = Progress::load(&repo);
            for step in &steps {
                assert!(
                    progress.get(step).is_some_and(|p| p.passed),
                    "round {round}: the record of {step} was lost"
                );
            }
        }
    }

    #[test]
    fn hints_seen_keep_the_deepest_tier_and_survive_later_checks() {
        if std::env::var_os("COURSE_STATE_DIR").is_some() {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let repo = repo(root.path());
        let shown = |id: &str, tier| vec![(id.to_string(), tier)];
        Progress::record(
            &repo,
            "step1-a",
            0,
            2,
            vec!["x".into()],
            false,
            &shown("x", 1),
        );
        Progress::saw_hints(&repo, "step1-a", &shown("x", 3));
        Progress::saw_hints(&repo, "step1-a", &shown("x", 2));
        Progress::saw_hints(&repo, "step1-a", &shown("y", 1));
        Progress::record(&repo, "step1-a", 2, 2, Vec::new(), false, &[]);
        let progress = Progress::load(&repo);
        let step = progress.get("step1-a").unwrap();
        assert!(step.passed);
        assert_eq!(step.hint_seen("x"), 3);
        assert_eq!(step.hint_seen("y"), 1);
        assert_eq!(step.hint_seen("z"), 0);
        assert_eq!(step.deepest_hint(), 3);
        // Two graders showing hints at once: neither loses the other's.
        std::thread::scope(|s| {
            for id in ["p", "q"] {
                let repo = &repo;
                s.spawn(move || Progress::saw_hints(repo, "step1-a", &shown(id, 2)));
            }
        });
        let progress = Progress::load(&repo);
        let step = progress.get("step1-a").unwrap();
        assert_eq!((step.hint_seen("p"), step.hint_seen("q")), (2, 2));
    }
}
