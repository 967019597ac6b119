//! `cargo xtask leave`: stop telling a workshop board about checks.

use std::process::ExitCode;

use anyhow::Result;

use crate::board_link;
use crate::repo::Repo;
use crate::ui::{paint, NOTE};

pub fn run() -> Result<ExitCode> {
    let repo = Repo::open()?;
    let Some(joined) = board_link::joined(&repo) else {
        anstream::println!("You have not joined a workshop board: nothing to leave.");
        return Ok(ExitCode::SUCCESS);
    };
    let waiting = board_link::forget(&repo)?;
    anstream::println!(
        "{} the board at {} (room {}). Checks no longer tell it anything.",
        paint(NOTE, "Left"),
        joined.board,
        joined.room
    );
    if waiting > 0 {
        anstream::println!("{waiting} post(s) that had not reached it yet were dropped.");
    }
    Ok(ExitCode::SUCCESS)
}
