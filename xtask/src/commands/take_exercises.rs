//! `cargo xtask take-exercises --from <fork> [--step S]`: for grading a
//! learner's repository with this checkout's grader. Run in a clean checkout
//! of the course (the upstream, at the commit the instructor pinned), it
//! replaces this checkout's `exercises/<step>/` with the fork's, and takes
//! nothing else: not the fork's checks, harness, grader, manifest or
//! solutions, so whatever the fork changed there cannot change the score.
//!
//! Which steps exist, and so which folders are read, is this checkout's
//! course.toml's to say. Only regular files are copied: a symbolic link
//! (which could point at the checks, or anywhere), a device or a socket is
//! skipped, and so are `target/` and hidden entries. The copy is bounded
//! (files per step, bytes per file and per step, folder depth): past a
//! bound the rest is skipped and said, so a huge or endless tree can neither
//! fill the disk nor stall the grading. A file of the original exercise that
//! the fork lacks is graded as the original (so that a deleted file is a
//! failing exercise, not a grader error).
//!
//! It also empties the reference solutions' sources in this checkout (every
//! file but their Cargo.toml): the exercise is code that runs here, and
//! three lines (`#[path = "../../../solutions/…/src/lib.rs"] mod s;
//! pub use s::*;`) would otherwise borrow the solution and pass every check.
//! Grading the exercise never builds them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use course::Step;

use crate::originals;
use crate::repo::Repo;
use crate::ui;

/// The most files taken from one step's exercise.
pub const MAX_FILES: usize = 500;
/// The most bytes of one file; a larger file is skipped.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most bytes taken from one step's exercise in all.
pub const MAX_STEP_BYTES: u64 = 8 * 1024 * 1024;
/// The deepest folder read below `exercises/<step>/`.
pub const MAX_DEPTH: usize = 12;

#[derive(Default, Debug)]
pub struct Taken {
    pub copied: Vec<String>,
    /// Path and why.
    pub skipped: Vec<(String, String)>,
    /// Files of the original exercise the fork lacks, graded as shipped.
    pub kept_original: Vec<String>,
    bytes: u64,
}

pub fn run(from: &Path, step: Option<&str>) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let fork = from
        .canonicalize()
        .with_context(|| format!("cannot open the fork at {}", from.display()))?;
    if fork == repo.root.canonicalize()? {
        bail!("--from is this checkout itself; give the learner's repository");
    }
    let steps: Vec<&Step> = match step {
        Some(name) => vec![repo.step(name)?],
        None => repo.course.steps.iter().collect(),
    };
    let hidden = hide_solutions(&repo)?;
    println!("emptied {hidden} file(s) of the reference solutions in this checkout");
    for step in steps {
        let taken = take(&repo, &fork, step)?;
        println!(
            "{}: took {} file(s) from {}",
            step.id,
            taken.copied.len(),
            fork.join(&step.exercise_crate).display()
        );
        for file in &taken.kept_original {
            println!("  {file}: not in the fork; graded as the original");
        }
        for (file, why) in &taken.skipped {
            ui::warning(&format!(
                "{}: {} skipped: {why}",
                step.id,
                ui::printable(file, false)
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Empties every file of every step's reference solution but its
/// Cargo.toml (cargo still reads the manifests of the workspace's members);
/// returns how many.
pub fn hide_solutions(repo: &Repo) -> Result<usize> {
    let mut hidden = 0;
    for step in &repo.course.steps {
        let dir = repo.path(&step.solution_crate());
        if !dir.is_dir() {
            continue;
        }
        for file in originals::crate_files(&dir)? {
            if file == "Cargo.toml" {
                continue;
            }
            std::fs::write(
                dir.join(&file),
                "// Emptied by `cargo xtask take-exercises`: this checkout grades a learner's exercise.\n",
            )
            .with_context(|| format!("cannot empty {}/{file}", step.solution_crate()))?;
            hidden += 1;
        }
    }
    Ok(hidden)
}

/// Replaces this checkout's exercise of `step` with the fork's.
pub fn take(repo: &Repo, fork: &Path, step: &Step) -> Result<Taken> {
    let mine = repo.path(&step.exercise_crate);
    let theirs = fork.join(&step.exercise_crate);
    // The files of the exercise as shipped, to restore the ones the fork lacks.
    let originals: BTreeSet<String> = originals::load(repo)
        .ok()
        .and_then(|o| o.get(&step.id).map(|files| files.keys().cloned().collect()))
        .unwrap_or_default();
    let mut taken = Taken::default();
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    match std::fs::symlink_metadata(&theirs) {
        Ok(meta) if meta.is_dir() => walk(&theirs, "", 0, &mut found, &mut taken)?,
        Ok(_) => taken.skipped.push((
            step.exercise_crate.clone(),
            "not a folder (a link or a file)".into(),
        )),
        Err(_) => taken
            .skipped
            .push((step.exercise_crate.clone(), "not in the fork".into())),
    }
    found.sort();
    // Read everything first (bounded), then replace: a read error leaves
    // this checkout as it was.
    let mut contents: Vec<(String, Vec<u8>)> = Vec::new();
    for (rel, path) in found {
        if contents.len() >= MAX_FILES {
            taken
                .skipped
                .push((rel, format!("more than {MAX_FILES} files")));
            continue;
        }
        let len = std::fs::symlink_metadata(&path)?.len();
        if len > MAX_FILE_BYTES {
            taken
                .skipped
                .push((rel, format!("larger than {MAX_FILE_BYTES} bytes")));
            continue;
        }
        if taken.bytes + len > MAX_STEP_BYTES {
            taken
                .skipped
                .push((rel, format!("past {MAX_STEP_BYTES} bytes in all")));
            continue;
        }
        let bytes = read_at_most(&path, MAX_FILE_BYTES)
            .with_context(|| format!("cannot read {}", path.display()))?;
        taken.bytes += bytes.len() as u64;
        contents.push((rel, bytes));
    }
    // Clear this checkout's exercise (not its build output), then write.
    if mine.is_dir() {
        for file in originals::crate_files(&mine)? {
            std::fs::remove_file(mine.join(&file))
                .with_context(|| format!("cannot remove {}/{file}", step.exercise_crate))?;
        }
    }
    let written: BTreeSet<String> = contents.iter().map(|(rel, _)| rel.clone()).collect();
    for (rel, bytes) in contents {
        let path = mine.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        taken.copied.push(rel);
    }
    // What the fork lacks of the original, from git (this checkout is a
    // clean checkout of the course).
    for file in originals.iter().filter(|f| !written.contains(*f)) {
        let rel = format!("{}/{file}", step.exercise_crate);
        if restore_from_git(repo, &rel)? {
            taken.kept_original.push(file.clone());
        }
    }
    Ok(taken)
}

/// Collects the regular files under `dir` (relative paths with `/`).
fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    found: &mut Vec<(String, PathBuf)>,
    taken: &mut Taken,
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str().map(str::to_string) else {
            taken.skipped.push((
                format!("{prefix}{}", name.to_string_lossy()),
                "a name that is not UTF-8".into(),
            ));
            continue;
        };
        let rel = format!("{prefix}{name}");
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if found.len() > MAX_FILES * 4 {
            taken
                .skipped
                .push((rel, "the folder holds far too many entries".into()));
            return Ok(());
        }
        // Never follows a link: the entry's own type.
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            taken.skipped.push((rel, "a symbolic link".into()));
        } else if kind.is_dir() {
            if depth >= MAX_DEPTH {
                taken
                    .skipped
                    .push((rel, format!("deeper than {MAX_DEPTH} folders")));
            } else {
                walk(&entry.path(), &format!("{rel}/"), depth + 1, found, taken)?;
            }
        } else if kind.is_file() {
            found.push((rel, entry.path()));
        } else {
            taken.skipped.push((rel, "not a regular file".into()));
        }
    }
    Ok(())
}

/// Reads at most `max` bytes (a file that grows while read is cut there).
fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Puts `rel` back as the checkout's commit has it; false when git does not
/// know it.
fn restore_from_git(repo: &Repo, rel: &str) -> Result<bool> {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&repo.root)
        .args(["checkout", "HEAD", "--", rel])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("cannot run git")?;
    Ok(status.success())
}
