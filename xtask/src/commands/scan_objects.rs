//! `cargo xtask scan-objects FILE...` (hidden, for CI): the search the
//! grader runs after each build for code that runs before `main` (see
//! `before_main`), on libraries named by hand. `.ci/wine` runs it on the
//! exercises built for Windows, so that the COFF side is tried on real
//! object files: an untouched exercise must have no finding.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::before_main::{self, Library};

pub fn run(files: Vec<PathBuf>) -> Result<ExitCode> {
    let libraries: Vec<Library> = files
        .into_iter()
        .map(|file| Library {
            package: file.display().to_string(),
            shipped: false,
            files: vec![file],
        })
        .collect();
    let findings = before_main::scan(&libraries);
    for f in &findings {
        println!("{}: {}", f.package, f.what);
    }
    println!("{} libraries, {} findings", libraries.len(), findings.len());
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
