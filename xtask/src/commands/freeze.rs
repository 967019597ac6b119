//! `cargo xtask freeze`: record the exercises' original files, and the files
//! that grade (checks, harness, course.toml).

use std::process::ExitCode;

use anyhow::Result;

use crate::originals;
use crate::repo::Repo;
use crate::shipped;

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
    let grading = shipped::snapshot(&repo)?;
    let path = shipped::write(&repo, &grading)?;
    println!(
        "Recorded {} files of the checks, the harness and course.toml in {}. Commit it together with them.",
        grading.len(),
        path.strip_prefix(&repo.root).unwrap_or(&path).display()
    );
    Ok(ExitCode::SUCCESS)
}
