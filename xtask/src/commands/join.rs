//! `cargo xtask join <URL> --name <handle>`: follow the instructor's live
//! workshop board. From then on every `check` (and `hint`) tells the board
//! the step's results, causes, hint tiers and times, in the background (see
//! `board_link`); `leave` stops it, `list` shows it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::board_link::{self, Joined};
use crate::http_client::{self, Url};
use crate::progress;
use crate::repo::Repo;
use crate::ui::{self, paint, NOTE};

pub fn run(url: &str, name: &str) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let url = Url::parse(url).map_err(|e| {
        anyhow::anyhow!(
            "{e}: give the address the board shows, like http://192.168.1.5:7878/KQ7P2M"
        )
    })?;
    let room = url.path.clone();
    if room.is_empty() {
        bail!(
            "the address has no room code: the board shows it at the end of the address, \
             like {}/KQ7P2M",
            url.base()
        );
    }
    if room.len() > 16 || !room.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!(
            "{room:?} is not a room code: the board shows one of letters and digits, like KQ7P2M"
        );
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        bail!("give a name or handle of 1 to 64 characters with --name");
    }
    let room = room.to_ascii_uppercase();
    let attendee = match board_link::joined(&repo) {
        // Joining the same room again (a new name, a typo fixed) keeps the
        // attendee's key, so the board shows one row, not two.
        Some(old) if old.board == url.base() && old.room == room => old.attendee,
        _ => board_link::random_key(),
    };
    let reached = http_client::request(
        &url,
        "GET",
        &format!("api/room/{room}"),
        None,
        Duration::from_secs(3),
    );
    match &reached {
        Ok(r) if r.status == 200 => {}
        Ok(r) if r.status == 404 => bail!(
            "the board at {} has no room {room}: check the code with your instructor",
            url.base()
        ),
        Ok(r) => bail!(
            "{} is not a workshop board (it answered {})",
            url.base(),
            r.status
        ),
        Err(_) => {}
    }
    board_link::forget(&repo)?;
    board_link::save(
        &repo,
        &Joined {
            board: url.base(),
            room: room.clone(),
            name: name.to_string(),
            attendee,
            joined_at: progress::now(),
        },
    )?;
    match reached {
        Ok(_) => anstream::println!(
            "{} the board at {} (room {room}) as {}.",
            paint(NOTE, "Joined"),
            url.base(),
            ui::printable(name, false)
        ),
        Err(why) => ui::warning(&format!(
            "joined the board at {} (room {room}), but it cannot be reached now: {why}. \
             Your checks wait in .course/board/ and reach it once it answers; \
             if it never does, check the address with your instructor",
            url.base()
        )),
    }
    anstream::println!(
        "Each check now tells the board its step, each check's result, cause and hint tier, \
         and how long it took: never your code or what it prints. \
         Checks never wait for the board. `cargo xtask leave` stops it."
    );
    // Appear on the board now, with whatever progress there is.
    board_link::after(&repo, None);
    Ok(ExitCode::SUCCESS)
}
