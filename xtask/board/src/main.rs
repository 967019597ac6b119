//! `cargo xtask board`: the instructor's live workshop board. A web page on
//! the LAN shows each attendee's steps, the check and cause they are on and
//! for how long, and who is stuck; attendees' graders post to it after each
//! check (`cargo xtask join`). The room's posts live in a SQLite file, so a
//! board stopped (or killed) and reopened with `--room` continues the room.
//!
//! Arguments (passed by `cargo xtask board`): `--root DIR` (the course),
//! `--data DIR` (where rooms are kept), `--bind ADDR`, `--room CODE`,
//! `--export DIR`.

mod export;
mod http;
mod lan;
mod room;
mod serve;
mod store;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use room::Room;
use serve::Board;
use store::Store;

/// Room codes: no 0/O, 1/I/L, so that a code read off a projector is typed right.
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 6;
const DEFAULT_BIND: &str = "0.0.0.0:7878";

struct Args {
    root: PathBuf,
    data: PathBuf,
    bind: String,
    room: Option<String>,
    export: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args_os().skip(1);
    let mut root = None;
    let mut data = None;
    let mut bind = DEFAULT_BIND.to_string();
    let mut room = None;
    let mut export = None;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value"))
                .map(PathBuf::from)
        };
        match arg.as_str() {
            "--root" => root = Some(value()?),
            "--data" => data = Some(value()?),
            "--bind" => bind = value()?.to_string_lossy().into_owned(),
            "--room" => room = Some(value()?.to_string_lossy().to_ascii_uppercase()),
            "--export" => export = Some(value()?),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    let root = match root {
        Some(root) => root,
        None => std::env::current_dir().map_err(|e| e.to_string())?,
    };
    let data = data.unwrap_or_else(|| root.join(".course/boards"));
    Ok(Args {
        root,
        data,
        bind,
        room,
        export,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let args = parse_args()?;
    let course = course::Course::load(&args.root).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.data)
        .map_err(|e| format!("cannot create {}: {e}", args.data.display()))?;
    let (code, reopened) = match &args.room {
        Some(code) => {
            if !args.data.join(format!("{code}.sqlite")).is_file() {
                return Err(format!(
                    "there is no room {code} in {}{}",
                    args.data.display(),
                    known_rooms(&args.data)
                ));
            }
            (code.clone(), true)
        }
        None => (new_code(&args.data), false),
    };
    let path = args.data.join(format!("{code}.sqlite"));
    let store = Store::open(&path, &code)?;
    let mut room = Room::new(course);
    let posts = store
        .all()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let replayed = posts.len();
    for stored in posts {
        if let Ok(post) = room::parse(&stored.body) {
            let _ = room.apply(post, stored.received_ms);
        }
    }
    if let Some(dir) = &args.export {
        let n = export::write(&room, dir)?;
        println!(
            "Wrote the reports of {n} attendee(s) of room {code} into {}",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let title = room.course.course.title.clone();
    let attendees = room.attendees.len();
    println!("Workshop board: {title}");
    if reopened {
        println!(
            "Room {code}, reopened: {replayed} post(s) of {attendees} attendee(s) from {}",
            path.display()
        );
    } else {
        println!("Room {code}, new: its posts are kept in {}", path.display());
    }
    println!("Listening on {local}");
    let host = lan::shown_host(local);
    let page = format!("http://{host}/");
    println!();
    println!("The page (read-only; for the projector, or a phone): {page}");
    println!("Attendees join with:");
    println!("    cargo xtask join http://{host}/{code} --name <your-handle>");
    if local.ip().is_unspecified() {
        println!(
            "(Every interface of this machine; if {host} is not the one the room can reach, \
             use another of its addresses. --bind ADDR listens on one only.)"
        );
    }
    println!();
    print!("{}", lan::qr(&page));
    println!();
    println!(
        "Stop with Ctrl+C. `cargo xtask board --room {code}` reopens this room and continues it; \
         `cargo xtask board --room {code} --export DIR` writes its reports and the class-report page."
    );
    let board = Arc::new(Board::new(code, store, room));
    board.serve(listener);
    Ok(ExitCode::SUCCESS)
}

/// A code that names no room kept in `data` yet.
fn new_code(data: &std::path::Path) -> String {
    loop {
        let code: String = (0..CODE_LEN)
            .map(|i| {
                let n = random_u64(i as u64) as usize % CODE_LETTERS.len();
                CODE_LETTERS[n] as char
            })
            .collect();
        if !data.join(format!("{code}.sqlite")).exists() {
            return code;
        }
    }
}

fn random_u64(salt: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(salt);
    h.write_i64(serve::now_ms());
    h.finish()
}

fn known_rooms(data: &std::path::Path) -> String {
    let mut codes: Vec<String> = std::fs::read_dir(data)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".sqlite").map(String::from)
        })
        .collect();
    codes.sort();
    if codes.is_empty() {
        " (none is kept there yet: without --room the board opens a new one)".to_string()
    } else {
        format!(" (rooms kept there: {})", codes.join(", "))
    }
}
