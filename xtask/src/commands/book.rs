//! `cargo xtask book [--open]`: builds the book with the book builder, a
//! package of its own so that grading never compiles mdBook.

use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

use crate::repo::Repo;

pub fn run(open: bool) -> Result<ExitCode> {
    let repo = Repo::open()?;
    if !repo.path("book/builder/Cargo.toml").is_file() {
        bail!("the book builder (book/builder) is missing from this clone");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&repo.root)
        .args(["run", "--quiet", "--package", "book-builder", "--"]);
    if open {
        cmd.arg("--open");
    }
    let status = cmd.status().context("cannot run cargo")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
