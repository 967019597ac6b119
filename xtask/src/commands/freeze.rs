//! `cargo xtask freeze`: record the exercises' original files.

use std::process::ExitCode;

use anyhow::Result;

use crate::originals;
use crate::repo::Repo;

pub fn run() -> Result<ExitCode> {
    let repo = Repo::open()?;
    let snapshot = originals::snapshot(&repo)?;
    let path = originals::write(&repo, &snapshot)?;
    let files: usize = snapshot.values().map(|f| f.len()).sum();
    println!(
        "Recorded {files} files of {} exercises in {}. Commit it together with the exercises.",
        snapshot.len(),
        path.strip_prefix(&repo.root).unwrap_or(&path).display()
    );
    Ok(ExitCode::SUCCESS)
}
