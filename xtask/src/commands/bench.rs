//! `cargo xtask bench [--quick] [--format json] [--out DIR]`: runs the
//! benchmarks of the chapter "Measure it yourself", in release mode. They are
//! a package of their own (xtask/bench) so that grading never compiles them.
//! `--demos [NAME...] --out DIR` records the demo runs the book shows instead
//! (xtask/bench/src/demos.rs).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::repo::Repo;
use crate::Format;

pub fn run(
    quick: bool,
    format: Format,
    out: Option<&Path>,
    demos: Option<&[String]>,
) -> Result<ExitCode> {
    let repo = Repo::open()?;
    if !repo.path("xtask/bench/Cargo.toml").is_file() {
        bail!("the benchmarks (xtask/bench) are missing from this clone");
    }
    let mut cmd = repo.cargo_run_release("course-bench");
    if quick {
        cmd.arg("--quick");
    }
    if format == Format::Json {
        cmd.args(["--format", "json"]);
    }
    if let Some(dir) = out {
        // Relative to where the learner typed the command, not to the root.
        let dir = std::env::current_dir()?.join(dir);
        cmd.arg("--out").arg(dir);
    }
    if let Some(names) = demos {
        cmd.arg("--demos").args(names);
    }
    let status = cmd.status().context("cannot run cargo")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
