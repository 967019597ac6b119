//! Skipping cargo when nothing changed. Even a cargo build with nothing to
//! do takes a fifth of a second; a check should answer faster than that.
//!
//! After a successful build the grader writes a stamp: how it built (the
//! cargo arguments and the environment that matters), when the build
//! started, the binary, and the compiler's warnings. The next time, if no
//! input file (the graded crate, the checks, the harness, the workspace
//! manifests and lock file) was modified since that start, the stamp's
//! binary is used as it is. Times are compared in whole seconds, and an
//! input from the same second as the build counts as newer, so a coarse
//! file-system clock can only cause a rebuild, never a stale binary.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::build::Diagnostic;
use crate::repo::Repo;

#[derive(Serialize, Deserialize)]
pub struct Stamp {
    /// Everything that selects what is built, joined in one string.
    pub key: String,
    /// When the build that produced `exe` started (seconds since 1970).
    pub started: u64,
    pub exe: PathBuf,
    pub warnings: Vec<Diagnostic>,
}

fn path(repo: &Repo, name: &str) -> PathBuf {
    repo.state_dir()
        .join("build-stamps")
        .join(format!("{name}.json"))
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The stamp's binary and warnings, if the stamp is still good.
pub fn fresh(
    repo: &Repo,
    name: &str,
    key: &str,
    inputs: &[PathBuf],
) -> Option<(PathBuf, Vec<Diagnostic>)> {
    let text = std::fs::read_to_string(path(repo, name)).ok()?;
    let stamp: Stamp = serde_json::from_str(&text).ok()?;
    if stamp.key != key || !stamp.exe.is_file() {
        return None;
    }
    let newest = inputs.iter().filter_map(|p| newest_mtime(p)).max()?;
    (newest < stamp.started).then_some((stamp.exe, stamp.warnings))
}

/// Copies the freshly built binary to a place of the stamp's own.
///
/// Cargo puts the binary of the exercise build and of the solution build at
/// the same path (`target/debug/<step>-checks`), each build overwriting the
/// other's. A stamp must point at a binary nothing else replaces.
pub fn keep_binary(repo: &Repo, name: &str, built: &Path) -> std::io::Result<PathBuf> {
    let dir = repo.state_dir().join("build-stamps");
    std::fs::create_dir_all(&dir)?;
    let kept = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let tmp = dir.join(format!("{name}.tmp{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(built, &tmp)?;
    std::fs::rename(&tmp, &kept)?;
    Ok(kept)
}

/// Records a successful build (a failure to record only costs a rebuild).
pub fn save(repo: &Repo, name: &str, stamp: &Stamp) {
    let file = path(repo, name);
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(json) = serde_json::to_string(stamp) {
        let _ = std::fs::write(file, json);
    }
}

/// The newest modification time (whole seconds) of a file, or of any file
/// under a directory, skipping build output.
fn newest_mtime(path: &Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok()?;
    let own = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs();
    if !meta.is_dir() {
        return Some(own);
    }
    let mut newest = own;
    for entry in std::fs::read_dir(path).ok()?.flatten() {
        if entry.file_name() == "target" {
            continue;
        }
        newest = newest.max(newest_mtime(&entry.path())?);
    }
    Some(newest)
}
