//! `cargo xtask board [--bind ADDR] [--room CODE]`: the instructor's live
//! workshop board, and `--export DIR` to write its attendees' reports and
//! the `class-report` table and page from them. The server is a package of
//! its own (xtask/board) so that grading never compiles it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::repo::Repo;

pub fn run(
    bind: Option<&str>,
    room: Option<&str>,
    export: Option<&Path>,
    html: &Path,
) -> Result<ExitCode> {
    let repo = Repo::open()?;
    if !repo.path("xtask/board/Cargo.toml").is_file() {
        bail!("the workshop board (xtask/board) is missing from this clone");
    }
    let mut cmd = repo.cargo_run_release("course-board");
    cmd.arg("--root").arg(&repo.root);
    cmd.arg("--data").arg(repo.state_dir().join("boards"));
    if let Some(bind) = bind {
        cmd.args(["--bind", bind]);
    }
    if let Some(room) = room {
        cmd.args(["--room", room]);
    }
    let export: Option<PathBuf> = match export {
        // Relative to where the instructor typed the command.
        Some(dir) => Some(std::env::current_dir()?.join(dir)),
        None => None,
    };
    if let Some(dir) = &export {
        cmd.arg("--export").arg(dir);
    }
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        return Ok(ExitCode::FAILURE);
    }
    match export {
        Some(dir) => super::class_report::run(&[dir], html),
        None => Ok(ExitCode::SUCCESS),
    }
}
