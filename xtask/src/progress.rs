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

/// Version 2: every step's record carries the grader's seal.
const VERSION: u32 = 2;

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
    /// The cause each failing check named last time (check id -> cause id),
    /// for the checks that named one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failing_causes: BTreeMap<String, String>,
    /// The last run did not compile.
    #[serde(default)]
    pub compile_error: bool,
    /// Which of rustc's errors in that run the chapter teaches the way out
    /// of (`course::RustcHelp::key`), for `hint` to repeat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compile_help: Vec<String>,
    pub first_checked: String,
    pub last_checked: String,
    pub passed_at: Option<String>,
    /// The deepest hint tier shown for each check (check id -> tier, 1 = the
    /// first), and for each cause whose own hints were shown (`cause:<id>`
    /// -> tier, see `course::Ladder::key`): a failing check shows the
    /// deepest one seen, `cargo xtask hint` the next. Kept when the check
    /// passes, so reports can tell how much help the step took.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hints_seen: BTreeMap<String, usize>,
    /// The grader's seal over this record (see [`Seal`]).
    #[serde(default)]
    seal: String,
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

    /// The cause `check` named when it last failed, if it named one.
    pub fn cause_of(&self, check: &str) -> Option<&str> {
        self.failing_causes.get(check).map(String::as_str)
    }

    /// The deepest tier shown of each cause's own hints (cause id -> tier).
    pub fn cause_hints(&self) -> BTreeMap<String, usize> {
        self.hints_seen
            .iter()
            .filter_map(|(key, tier)| Some((key.strip_prefix("cause:")?.to_string(), *tier)))
            .collect()
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
                Ok(mut p) if p.version == VERSION => {
                    p.drop_unsealed(repo, &path);
                    return p;
                }
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
    /// other's record. `compile_error` is `None` when the checks ran, and
    /// otherwise the keys of the compile errors the chapter explains.
    pub fn record(
        repo: &Repo,
        step_id: &str,
        passed: usize,
        total: usize,
        failing: Vec<(String, Option<String>)>,
        compile_error: Option<&[String]>,
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
        entry.compile_error = compile_error.is_some();
        entry.compile_help = compile_error.unwrap_or_default().to_vec();
        entry.passed = compile_error.is_none() && passed == total && failing.is_empty();
        entry.failing_causes = failing
            .iter()
            .filter_map(|(check, cause)| Some((check.clone(), cause.clone()?)))
            .collect();
        entry.failing = failing.into_iter().map(|(check, _)| check).collect();
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

    /// Leaves out the records whose seal is not the grader's (written by
    /// code under test, or by hand), and says which.
    fn drop_unsealed(&mut self, repo: &Repo, path: &std::path::Path) {
        let seal = Seal::open(repo);
        let forged: Vec<String> = self
            .steps
            .iter()
            .filter(|(id, record)| !seal.as_ref().is_some_and(|s| s.verifies(id, record)))
            .map(|(id, _)| id.clone())
            .collect();
        if forged.is_empty() {
            return;
        }
        for id in &forged {
            self.steps.remove(id);
        }
        ui::warning(&format!(
            "{} holds records the grader did not write (for {}): code you ran, or an edit, changed it. They are ignored; `cargo xtask check --all` records those steps again",
            path.display(),
            forged.join(", ")
        ));
    }

    /// Writes the file atomically: a temporary file of this process's own,
    /// then a rename over the old one. Call with the lock held.
    fn save(&mut self, repo: &Repo) {
        if self.read_only {
            return;
        }
        match Seal::open_or_create(repo) {
            Ok(seal) => {
                for (id, record) in self.steps.iter_mut() {
                    record.seal = seal.of(id, record);
                }
            }
            Err(e) => {
                let key = Seal::path(repo);
                ui::warning(&format!(
                    "cannot save progress: the key that seals it ({}) cannot be made: {e}",
                    key.display()
                ));
                return;
            }
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

/// The grader's seal over a step's record: a keyed SHA-1 of the record
/// with a key of this state folder's own (`.course/key`, made on the first
/// save). A record that code under test or an edit wrote (steps marked done
/// that were never checked, "5 of 4 checks") does not carry it and is
/// ignored. The key is readable by the learner's own programs, so this
/// stops writing the file, not a program that reads the key and re-seals:
/// see "what the grader protects" in the book.
struct Seal {
    key: String,
}

impl Seal {
    fn path(repo: &Repo) -> PathBuf {
        repo.state_dir().join("key")
    }

    fn open(repo: &Repo) -> Option<Seal> {
        let key = std::fs::read_to_string(Seal::path(repo)).ok()?;
        let key = key.trim().to_string();
        (key.len() >= 32).then_some(Seal { key })
    }

    fn open_or_create(repo: &Repo) -> std::io::Result<Seal> {
        if let Some(seal) = Seal::open(repo) {
            return Ok(seal);
        }
        let key = check_harness::seal::new_token();
        let path = Seal::path(repo);
        std::fs::create_dir_all(repo.state_dir())?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(mut file) => {
                use std::io::Write;
                file.write_all(key.as_bytes())?;
                Ok(Seal { key })
            }
            // Another grader made it first (we hold the progress lock, but
            // a damaged key is replaced only by hand).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Seal::open(repo).ok_or_else(|| {
                    std::io::Error::other(format!(
                        "{} is damaged; delete it (your progress is then checked again)",
                        path.display()
                    ))
                })
            }
            Err(e) => Err(e),
        }
    }

    fn of(&self, step_id: &str, record: &StepProgress) -> String {
        let mut unsealed = record.clone();
        unsealed.seal.clear();
        let json = serde_json::to_string(&unsealed).expect("a record serializes");
        let mut inner = sha1_smol::Sha1::new();
        inner.update(self.key.as_bytes());
        inner.update(b"\n");
        inner.update(step_id.as_bytes());
        inner.update(b"\n");
        inner.update(json.as_bytes());
        let mut outer = sha1_smol::Sha1::new();
        outer.update(self.key.as_bytes());
        outer.update(&inner.digest().bytes());
        outer.digest().to_string()
    }

    fn verifies(&self, step_id: &str, record: &StepProgress) -> bool {
        !record.seal.is_empty() && self.of(step_id, record) == record.seal
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
                    s.spawn(move || Progress::record(repo, step, 1, 1, Vec::new(), None, &[]));
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
            vec![("x".into(), Some("x-closed".into())), ("w".into(), None)],
            None,
            &shown("x", 1),
        );
        let progress = Progress::load(&repo);
        let step = progress.get("step1-a").unwrap();
        assert_eq!(step.failing, ["x", "w"]);
        assert_eq!(
            (step.cause_of("x"), step.cause_of("w")),
            (Some("x-closed"), None)
        );
        Progress::saw_hints(&repo, "step1-a", &shown("cause:x-closed", 2));
        Progress::saw_hints(&repo, "step1-a", &shown("x", 3));
        Progress::saw_hints(&repo, "step1-a", &shown("x", 2));
        Progress::saw_hints(&repo, "step1-a", &shown("y", 1));
        Progress::record(&repo, "step1-a", 2, 2, Vec::new(), None, &[]);
        let progress = Progress::load(&repo);
        let step = progress.get("step1-a").unwrap();
        assert!(step.passed);
        assert_eq!(step.hint_seen("x"), 3);
        assert_eq!(step.hint_seen("y"), 1);
        assert_eq!(step.hint_seen("z"), 0);
        assert_eq!(step.deepest_hint(), 3);
        assert_eq!(step.cause_hints().get("x-closed"), Some(&2));
        // A pass forgets the causes of the last failures, not the hints seen.
        assert!(step.failing_causes.is_empty());
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
