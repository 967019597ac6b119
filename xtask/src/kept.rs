//! The checks binaries the grader keeps in `.course/build-stamps/`, and the
//! two promises about them:
//!
//! - **The bytes are the ones cargo built.** The stamp records the SHA-1 of
//!   the kept copy and what the file system says about it ([`Identity`]:
//!   size, modification time and, on Unix, device, inode and change time,
//!   which no copy, rename or `touch` keeps). A copy whose identity differs
//!   is hashed again; one whose bytes differ is not used (the grader says
//!   so and builds again). Before each check and after the last the
//!   identity is compared again, so a binary replaced by one check's code
//!   under test is not used for the next check, and no verdict of that run
//!   is kept.
//! - **A copy in use is never deleted.** Each grader that uses a kept copy
//!   holds a shared lock on a file beside it (`<copy>.lock`) from the moment
//!   it picks the copy until its last check ends. A build removes an older
//!   copy only while it holds that copy's lock exclusively, so `watch` and
//!   `check` in two terminals can grade the same step at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What the file system says about a file: equal identities mean (on Unix)
/// the same bytes, short of someone setting the clock back.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    len: u64,
    modified_ns: u128,
    /// Device, inode, change time (s, ns): what a replaced file cannot keep.
    unix: Option<(u64, u64, i64, i64)>,
}

impl Identity {
    pub fn of(path: &Path) -> std::io::Result<Identity> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let unix = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let unix = None;
        Ok(Identity {
            len: meta.len(),
            modified_ns,
            unix,
        })
    }

    /// Whether an equal identity proves equal bytes. Windows has no change
    /// time that std reports, so there the bytes are hashed instead.
    fn proves_bytes(&self) -> bool {
        self.unix.is_some()
    }
}

/// The SHA-1 of a file's bytes.
pub fn sha1_of(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = sha1_smol::Sha1::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.digest().to_string())
}

/// A kept binary this grader is using: while it lives, no other grader
/// deletes the file.
#[derive(Debug)]
pub struct Held {
    pub exe: PathBuf,
    pub sha1: String,
    pub identity: Identity,
    _lock: File,
}

/// Why a kept binary cannot be used.
#[derive(Debug)]
pub enum Unusable {
    /// It is gone (another grader's build removed it): build again.
    Gone,
    /// Its bytes are not the ones that were built.
    Changed,
}

impl Held {
    /// Whether the file is still the one this grader checked. Cheap (one
    /// `stat`): called before each check.
    pub fn unchanged(&self) -> bool {
        Identity::of(&self.exe).is_ok_and(|now| now == self.identity)
    }
}

fn lock_path(exe: &Path) -> PathBuf {
    let mut name = exe.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock(exe: &Path, create: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(lock_path(exe))
}

/// Takes hold of the kept binary `exe`, which a stamp says has `sha1` and
/// `identity`: locks it against deletion, then makes sure it is there and
/// holds those bytes.
pub fn hold(exe: &Path, sha1: &str, identity: &Identity) -> Result<Held, Unusable> {
    let lock = open_lock(exe, true).map_err(|_| Unusable::Gone)?;
    lock.lock_shared().map_err(|_| Unusable::Gone)?;
    // Checked after locking: a build may have removed it just before.
    let now = Identity::of(exe).map_err(|_| Unusable::Gone)?;
    if !(now == *identity && now.proves_bytes())
        && sha1_of(exe).map_err(|_| Unusable::Gone)? != sha1
    {
        return Err(Unusable::Changed);
    }
    Ok(Held {
        exe: exe.to_path_buf(),
        sha1: sha1.to_string(),
        identity: now,
        _lock: lock,
    })
}

/// Copies the freshly built binary to a place of the stamp's own and holds
/// it; removes the older copies of `name` that no grader holds.
///
/// Cargo puts the binary of the exercise build and of the solution build at
/// the same path (`target/debug/<step>-checks`), each build overwriting the
/// other's. A stamp must point at a binary nothing else replaces.
///
/// Each build gets a file name no earlier build used (`id`, this process and
/// a count), even when it was built from the same inputs as a copy that is
/// still there: Windows refuses to replace or remove a binary that runs (the
/// previous check's worker, started from the same exe with `current_exe`,
/// may still be exiting) or that a virus scanner holds open.
pub fn keep(dir: &Path, name: &str, id: &str, built: &Path) -> std::io::Result<Held> {
    std::fs::create_dir_all(dir)?;
    let exe = std::env::consts::EXE_SUFFIX;
    static BUILDS: AtomicU64 = AtomicU64::new(0);
    let build = BUILDS.fetch_add(1, Ordering::Relaxed);
    let started = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let kept = dir.join(format!(
        "{name}-{}-{}-{started}-{build}{exe}",
        &id[..12.min(id.len())],
        std::process::id()
    ));
    let tmp = dir.join(format!("{name}.{}-{build}.tmp{exe}", std::process::id()));
    std::fs::copy(built, &tmp)?;
    // Locked before it has its name, so no other build can remove it.
    let lock = open_lock(&kept, true)?;
    lock.lock_shared()?;
    if let Err(e) = std::fs::rename(&tmp, &kept) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let held = Held {
        sha1: sha1_of(&kept)?,
        identity: Identity::of(&kept)?,
        exe: kept,
        _lock: lock,
    };
    remove_unheld(dir, name, &held.exe);
    Ok(held)
}

/// Removes every copy of `name` but `keep` that no grader holds, and the
/// lock files left beside copies that are gone.
fn remove_unheld(dir: &Path, name: &str, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}-");
    let keep_lock = lock_path(keep);
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if !file.starts_with(&prefix) || path == keep || path == keep_lock {
            continue;
        }
        if let Some(exe) = file.strip_suffix(".lock") {
            // A lock whose binary is gone.
            let exe = dir.join(exe);
            if !exe.exists() {
                if let Ok(lock) = open_lock(&exe, false) {
                    if lock.try_lock().is_ok() {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            continue;
        }
        match open_lock(&path, false) {
            Ok(lock) => match lock.try_lock() {
                Ok(()) => {
                    if std::fs::remove_file(&path).is_ok() {
                        let _ = std::fs::remove_file(lock_path(&path));
                    }
                }
                Err(TryLockError::WouldBlock) => {} // in use by another grader
                Err(TryLockError::Error(_)) => {}
            },
            // No lock file: nobody has taken hold of it.
            Err(_) => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens `path` the way Windows holds a running binary: nobody may
    /// delete or replace it meanwhile. (Elsewhere, a plain open.)
    fn open_like_running(path: &Path) -> File {
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(windows)]
        {
            use std::os::windows::fs::OpenOptionsExt;
            options.share_mode(1); // FILE_SHARE_READ only
        }
        options.open(path).unwrap()
    }

    fn binaries(dir: &Path) -> Vec<PathBuf> {
        let mut left: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_none_or(|e| e != "lock"))
            .collect();
        left.sort();
        left
    }

    #[test]
    fn a_new_build_never_goes_where_a_kept_binary_in_use_is() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stamps");
        let built = root.path().join("built");

        std::fs::write(&built, "first").unwrap();
        let first = keep(&dir, "step1-exercise", "1234567890abcdef", &built).unwrap();
        let running = open_like_running(&first.exe);
        let first_path = first.exe.clone();
        drop(first);
        std::fs::write(&built, "second").unwrap();
        let second = keep(&dir, "step1-exercise", "1234567890abcdef", &built)
            .expect("a binary in use must not stop the next build from being kept");
        assert_ne!(first_path, second.exe);
        assert_eq!(std::fs::read(&second.exe).unwrap(), b"second");

        // Once nothing holds them, the older copies go.
        drop(running);
        drop(second);
        let third = keep(&dir, "step1-exercise", "1234567890abcdef", &built).unwrap();
        assert_eq!(binaries(&dir), std::slice::from_ref(&third.exe));
    }

    #[test]
    fn a_copy_another_grader_holds_is_not_deleted_by_a_new_build() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stamps");
        let built = root.path().join("built");
        std::fs::write(&built, "first").unwrap();
        let first = keep(&dir, "step1-exercise", "aaaaaaaaaaaaaaaa", &built).unwrap();
        // The other grader took hold of it through its stamp.
        let other = hold(&first.exe, &first.sha1, &first.identity).unwrap();
        drop(first);
        std::fs::write(&built, "second").unwrap();
        let second = keep(&dir, "step1-exercise", "bbbbbbbbbbbbbbbb", &built).unwrap();
        assert!(other.exe.is_file(), "a held copy was deleted");
        assert!(other.unchanged());
        drop(other);
        drop(second);
        let third = keep(&dir, "step1-exercise", "cccccccccccccccc", &built).unwrap();
        assert_eq!(binaries(&dir), std::slice::from_ref(&third.exe));
    }

    #[test]
    fn a_replaced_copy_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stamps");
        let built = root.path().join("built");
        std::fs::write(&built, "the exercise's checks").unwrap();
        let kept = keep(&dir, "step1-exercise", "aaaaaaaaaaaaaaaa", &built).unwrap();
        let (exe, sha1, identity) = (kept.exe.clone(), kept.sha1.clone(), kept.identity.clone());
        // Same length, other bytes, written in place.
        std::fs::write(&exe, "the solution's checks").unwrap();
        assert!(!kept.unchanged());
        drop(kept);
        assert!(matches!(
            hold(&exe, &sha1, &identity),
            Err(Unusable::Changed)
        ));
        std::fs::remove_file(&exe).unwrap();
        assert!(matches!(hold(&exe, &sha1, &identity), Err(Unusable::Gone)));
    }
}
