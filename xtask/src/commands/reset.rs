//! `cargo xtask reset <step>`: back up, then restore the original exercise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::originals;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::ui::{paint, NOTE, OK};

pub fn run(step: &str) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let step = repo.step(step)?;
    let all = originals::load(&repo)?;
    let files = all
        .get(&step.id)
        .with_context(|| format!("no original files are recorded for {}", step.id))?;
    let cmp = originals::compare(&repo, &all, step)?;
    if cmp.changed.is_empty() && cmp.missing.is_empty() {
        anstream::println!(
            "{} is already in its original state: nothing to do.",
            step.exercise_crate
        );
        return Ok(ExitCode::SUCCESS);
    }
    let dir = repo.path(&step.exercise_crate);
    let backup = backup_dir(&repo, &step.id);
    copy_tree(&dir, &backup)
        .with_context(|| format!("cannot back up {} (nothing was changed)", dir.display()))?;
    let shown = backup
        .strip_prefix(&repo.root)
        .unwrap_or(&backup)
        .display()
        .to_string();
    anstream::println!("{} your files to {shown}", paint(NOTE, "Backed up"));
    for file in cmp.changed.iter().chain(&cmp.missing) {
        originals::restore_file(&repo, &files[file], &dir.join(file)).with_context(|| {
            format!("restoring stopped half-way; your files are safe in {shown}")
        })?;
        anstream::println!("{} {}/{file}", paint(OK, "Restored"), step.exercise_crate);
    }
    if !cmp.added.is_empty() {
        anstream::println!(
            "Kept the files you added (they are in the backup too): {}",
            cmp.added.join(", ")
        );
    }
    Progress::forget(&repo, &step.id);
    anstream::println!(
        "{} is as it was shipped. Start again with `{}`.",
        step.exercise_crate,
        step.check_command()
    );
    Ok(ExitCode::SUCCESS)
}

/// `.course/backups/<step>-<time>`, never an existing directory.
fn backup_dir(repo: &Repo, step_id: &str) -> PathBuf {
    // Colons are not allowed in Windows file names.
    let stamp = crate::progress::now().replace(':', "-");
    let base = repo.state_dir().join("backups");
    let mut dir = base.join(format!("{step_id}-{stamp}"));
    let mut n = 2;
    while dir.exists() {
        dir = base.join(format!("{step_id}-{stamp}-{n}"));
        n += 1;
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    if !from.is_dir() {
        return Ok(());
    }
    for file in originals::crate_files(from)? {
        let dest = to.join(&file);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from.join(&file), &dest).with_context(|| format!("cannot copy {file}"))?;
    }
    Ok(())
}
