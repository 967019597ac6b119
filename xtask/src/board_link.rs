//! The attendee's side of a workshop board (`cargo xtask join`).
//!
//! `.course/board.toml` holds the board's address, the room code, the
//! attendee's name and a random key. After each `check` (and `hint`) the
//! grader writes a [`BoardPost`] into `.course/board/outbox/` and starts a
//! sender (`cargo xtask board-send`, a process of its own, detached), so the
//! verdict never waits for the network: a board that is slow, down or wrong
//! costs the check one file write and one process start. The sender posts
//! the outbox oldest first and deletes each file the board acknowledged; what
//! it could not send waits for the next check. Its last outcome goes to
//! `.course/board/status.toml` for `list` to show.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use course::attendee::{BoardPost, CheckOutcome, CheckRun, BOARD_POST_SCHEMA, BOARD_POST_VERSION};
use serde::{Deserialize, Serialize};

use crate::grade::StepResult;
use crate::http_client::{self, Url};
use crate::progress::{self, Progress};
use crate::repo::Repo;

/// How long one post may take before the sender gives up on the board.
const SEND_LIMIT: Duration = Duration::from_secs(3);

/// [`SEND_LIMIT`], or for the grader's own tests `COURSE_TEST_BOARD_LIMIT_MS`
/// (a silent board held by a test must not be given up on first).
fn send_limit() -> Duration {
    std::env::var("COURSE_TEST_BOARD_LIMIT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(SEND_LIMIT, Duration::from_millis)
}
/// The outbox keeps at most this many posts; beyond it the oldest go (each
/// post holds the whole report, so the newest one says where everyone is).
const OUTBOX_MAX: usize = 500;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Joined {
    /// `http://host:port`.
    pub board: String,
    pub room: String,
    pub name: String,
    /// Random, made by `join`: the board tells attendees apart by it.
    pub attendee: String,
    pub joined_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Status {
    pub at: String,
    pub ok: bool,
    pub said: String,
    /// Posts waiting in the outbox after this send.
    pub waiting: usize,
}

fn config_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("board.toml")
}

fn dir(repo: &Repo) -> PathBuf {
    repo.state_dir().join("board")
}

pub fn outbox(repo: &Repo) -> PathBuf {
    dir(repo).join("outbox")
}

/// Posts the board refused for good (malformed or too large): kept, never
/// resent.
pub fn refused_dir(repo: &Repo) -> PathBuf {
    dir(repo).join("refused")
}

pub fn joined(repo: &Repo) -> Option<Joined> {
    let text = std::fs::read_to_string(config_path(repo)).ok()?;
    toml::from_str(&text).ok()
}

pub fn save(repo: &Repo, joined: &Joined) -> Result<()> {
    let path = config_path(repo);
    std::fs::create_dir_all(repo.state_dir())?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, toml::to_string(joined)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// Forgets the board; returns the posts that were still waiting.
pub fn forget(repo: &Repo) -> Result<usize> {
    let waiting = pending(repo).len();
    match std::fs::remove_file(config_path(repo)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).context("cannot remove .course/board.toml")
        }
        _ => {}
    }
    let _ = std::fs::remove_dir_all(outbox(repo));
    let _ = std::fs::remove_file(dir(repo).join("status.toml"));
    Ok(waiting)
}

pub fn status(repo: &Repo) -> Option<Status> {
    let text = std::fs::read_to_string(dir(repo).join("status.toml")).ok()?;
    toml::from_str(&text).ok()
}

fn write_status(repo: &Repo, status: &Status) {
    let path = dir(repo).join("status.toml");
    let tmp = dir(repo).join(format!("status.{}.tmp", std::process::id()));
    if let Ok(text) = toml::to_string(status) {
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

/// A random key of 16 hex digits from the standard library's own seed.
pub fn random_key() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut key = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos());
        h.write_u32(std::process::id());
        key.push_str(&format!("{:08x}", h.finish() as u32));
    }
    key
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// The check's outcome as the board sees it: statuses, causes, hint tiers
/// and times, nothing the learner's code printed.
fn check_run(step_id: &str, result: &StepResult, progress: &Progress) -> CheckRun {
    let seen = progress.get(step_id);
    let hint = |check: &str| seen.map_or(0, |p| p.hint_seen(check));
    let (status, checks) = match result {
        StepResult::Ran { checks } => (
            if result.passed() { "passed" } else { "failed" },
            checks
                .iter()
                .map(|g| CheckOutcome {
                    id: g.info.id.clone(),
                    status: g.report.verdict.status().to_string(),
                    cause: g.cause().map(String::from),
                    hint: hint(&g.info.id),
                    duration_ms: g.report.duration.as_millis() as u64,
                })
                .collect(),
        ),
        StepResult::CompileError { .. } => ("compile-error", Vec::new()),
    };
    CheckRun {
        step: step_id.to_string(),
        status: status.to_string(),
        checks,
    }
}

/// After a check (the step and its result) or a hint (`None`): queues the
/// post and starts the sender. Never fails the caller; a problem is only
/// remembered for `list`.
pub fn after(repo: &Repo, check: Option<(&str, &StepResult)>) {
    let Some(joined) = joined(repo) else {
        return;
    };
    let progress = Progress::load(repo);
    let check = check.map(|(step, result)| check_run(step, result, &progress));
    let stamp = nanos();
    let post = BoardPost {
        schema: BOARD_POST_SCHEMA.to_string(),
        schema_version: BOARD_POST_VERSION,
        id: format!("{}-{stamp:x}-{:x}", joined.attendee, std::process::id()),
        attendee: joined.attendee.clone(),
        sent_at: progress::now(),
        check,
        report: crate::commands::report::build(repo, &progress, &joined.name),
    };
    if let Err(e) = queue(repo, &post, stamp) {
        write_status(
            repo,
            &Status {
                at: progress::now(),
                ok: false,
                said: format!("could not queue the post: {e}"),
                waiting: pending(repo).len(),
            },
        );
        return;
    }
    start_sender(repo);
}

fn queue(repo: &Repo, post: &BoardPost, stamp: u128) -> Result<()> {
    let dir = outbox(repo);
    std::fs::create_dir_all(&dir)?;
    let name = format!("{stamp:032}-{}.json", std::process::id());
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec(post)?)?;
    std::fs::rename(&tmp, dir.join(name))?;
    let mut waiting = pending(repo);
    while waiting.len() > OUTBOX_MAX {
        let _ = std::fs::remove_file(waiting.remove(0));
    }
    Ok(())
}

/// The posts waiting, oldest first.
pub fn pending(repo: &Repo) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(outbox(repo))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Starts `board-send` detached: its own process, no terminal streams, so
/// neither the verdict nor whoever reads the grader's output waits for it.
/// A thread reaps it, so a long `watch` collects no zombies.
fn start_sender(repo: &Repo) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("board-send")
        .env("COURSE_ROOT", &repo.root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(state) = std::env::var_os("COURSE_STATE_DIR") {
        cmd.env("COURSE_STATE_DIR", state);
    }
    if let Ok(mut child) = cmd.spawn() {
        std::thread::spawn(move || child.wait());
    }
}

/// The sender: one at a time per clone (a lock file), posting until the
/// outbox is empty or the board fails to take a post. A sender that finds
/// the lock taken leaves its post to the one holding it, which lists the
/// outbox once more after letting go of the lock: a post queued while it
/// was finishing is never left behind.
pub fn send_all(repo: &Repo) {
    let Some(joined) = joined(repo) else {
        return;
    };
    let _ = std::fs::create_dir_all(dir(repo));
    let Ok(lock) = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir(repo).join("send.lock"))
    else {
        return;
    };
    while lock.try_lock().is_ok() {
        let outcome = send_locked(repo, &joined);
        let waiting = pending(repo).len();
        let (ok, said) = match outcome {
            Ok(sent) => (true, format!("sent {sent} post(s)")),
            Err(e) => (false, e),
        };
        write_status(
            repo,
            &Status {
                at: progress::now(),
                ok,
                said,
                waiting,
            },
        );
        let _ = lock.unlock();
        if !ok || pending(repo).is_empty() {
            break;
        }
    }
}

fn send_locked(repo: &Repo, joined: &Joined) -> Result<usize, String> {
    let url = Url::parse(&joined.board)
        .map_err(|e| format!(".course/board.toml has a bad address: {e}"))?;
    let path = format!("api/room/{}/posts", joined.room);
    let mut sent = 0usize;
    while let Some(file) = pending(repo).into_iter().next() {
        let Ok(body) = std::fs::read(&file) else {
            let _ = std::fs::remove_file(&file);
            continue;
        };
        match http_client::request(&url, "POST", &path, Some(&body), send_limit()) {
            Ok(r) if (200..300).contains(&r.status) => {
                let _ = std::fs::remove_file(&file);
                sent += 1;
            }
            Ok(r) if r.status == 400 || r.status == 413 => {
                let refused = refused_dir(repo);
                let _ = std::fs::create_dir_all(&refused);
                if let Some(name) = file.file_name() {
                    let _ = std::fs::rename(&file, refused.join(name));
                }
                return Err(format!("the board refused a post: {}", answer(&r)));
            }
            Ok(r) if r.status == 404 => {
                return Err(format!(
                    "the board at {} has no room {} (did the instructor open a new room? \
                     join again with the address it shows)",
                    joined.board, joined.room
                ))
            }
            Ok(r) => return Err(format!("the board answered {}", answer(&r))),
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

fn answer(r: &http_client::Response) -> String {
    let body = crate::ui::shorten(&crate::ui::printable(r.body.trim(), false), 120);
    if body.is_empty() {
        r.status.to_string()
    } else {
        format!("{} ({body})", r.status)
    }
}
