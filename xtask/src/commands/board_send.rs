//! `cargo xtask board-send` (hidden): the background sender that `check`
//! starts after queueing a post for a joined board (see `board_link`).

use std::process::ExitCode;

use anyhow::Result;

use crate::board_link;
use crate::repo::Repo;

pub fn run() -> Result<ExitCode> {
    let repo = Repo::open()?;
    board_link::send_all(&repo);
    Ok(ExitCode::SUCCESS)
}
