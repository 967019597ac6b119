//! Knowing, by content, whether a build is still good. Even a cargo build
//! with nothing to do takes a fifth of a second; a check should answer faster
//! than that, and it must never answer from a build of other bytes.
//!
//! After a successful build the grader writes a stamp: how it built (the
//! cargo arguments and the environment that matters), the SHA-1 of every
//! input file (the graded crate, the checks, the harness, the workspace
//! manifests and lock file), the binary, and the compiler's warnings. The
//! next time, if every input has the same bytes, the stamp's binary is used
//! as it is, whatever the files' modification times say.
//!
//! Cargo itself decides by modification time, so a file restored with
//! `cp -p`, unpacked from an archive or saved on a share with a lagging clock
//! can look older than the last build while holding other bytes. Before it
//! runs cargo, the grader therefore sets the modification time of every input
//! whose bytes differ from the last stamp's to now ([`touch`]), which makes
//! cargo recompile it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::build::Diagnostic;
use crate::repo::Repo;

/// Root-relative path (with `/`) to the SHA-1 of the file's bytes.
pub type Inputs = BTreeMap<String, String>;

#[derive(Serialize, Deserialize)]
pub struct Stamp {
    /// Everything that selects what is built, joined in one string.
    pub key: String,
    /// The inputs the binary was built from.
    pub inputs: Inputs,
    pub exe: PathBuf,
    pub warnings: Vec<Diagnostic>,
}

fn dir(repo: &Repo) -> PathBuf {
    repo.state_dir().join("build-stamps")
}

fn path(repo: &Repo, name: &str) -> PathBuf {
    dir(repo).join(format!("{name}.json"))
}

/// The last stamp of the build called `name`, if there is a readable one.
pub fn load(repo: &Repo, name: &str) -> Option<Stamp> {
    let text = std::fs::read_to_string(path(repo, name)).ok()?;
    serde_json::from_str(&text).ok()
}

impl Stamp {
    /// Whether this stamp's binary was built from exactly `inputs` with `key`.
    pub fn is_fresh(&self, key: &str, inputs: &Inputs) -> bool {
        self.key == key && &self.inputs == inputs && self.exe.is_file()
    }
}

/// The SHA-1 of every file under `roots` (files or directories), skipping
/// build output (`target`) and the grader's state (`.course`).
pub fn fingerprint(repo: &Repo, roots: &[PathBuf]) -> Inputs {
    let mut inputs = Inputs::new();
    for root in roots {
        hash_tree(&repo.root, root, &mut inputs);
    }
    inputs
}

fn hash_tree(base: &Path, path: &Path, inputs: &mut Inputs) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name == "target" || name == ".course" {
                continue;
            }
            hash_tree(base, &entry.path(), inputs);
        }
        return;
    }
    // An unreadable file gets a hash of its own, so it is never "the same".
    let digest = match std::fs::read(path) {
        Ok(bytes) => sha1_smol::Sha1::from(&bytes).digest().to_string(),
        Err(e) => format!("unreadable: {e}"),
    };
    inputs.insert(relative(base, path), digest);
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The inputs cargo might wrongly think it has already built: those whose
/// bytes differ from the last stamp's. Without a stamp nothing is known of
/// the last build, so every file of the graded crate counts.
pub fn changed(previous: Option<&Stamp>, current: &Inputs, graded_dir: &str) -> Vec<String> {
    match previous {
        Some(stamp) => current
            .iter()
            .filter(|(file, hash)| stamp.inputs.get(*file) != Some(*hash))
            .map(|(file, _)| file.clone())
            .collect(),
        None => {
            let prefix = format!("{}/", graded_dir.trim_end_matches('/'));
            current
                .keys()
                .filter(|file| file.starts_with(&prefix))
                .cloned()
                .collect()
        }
    }
}

/// Sets the modification time of each file (root-relative) to now, so that
/// cargo rebuilds what uses it. Returns the files it could not touch.
pub fn touch(repo: &Repo, files: &[String]) -> Vec<(String, std::io::Error)> {
    let now = SystemTime::now();
    files
        .iter()
        .filter_map(|file| {
            let result = open_for_times(&repo.path(file)).and_then(|f| f.set_modified(now));
            result.err().map(|e| (file.clone(), e))
        })
        .collect()
}

/// Opens a file so that its times can be set, even when it is read-only.
fn open_for_times(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_WRITE_ATTRIBUTES: enough to set times, allowed on read-only files.
        options.access_mode(0x100);
    }
    #[cfg(not(windows))]
    options.read(true);
    options.open(path)
}

/// Copies the freshly built binary to a place of the stamp's own.
///
/// Cargo puts the binary of the exercise build and of the solution build at
/// the same path (`target/debug/<step>-checks`), each build overwriting the
/// other's. A stamp must point at a binary nothing else replaces.
///
/// Each build gets a file name no earlier build used (the inputs' hash, this
/// process and a count), even when it was built from the same inputs as a
/// copy that is still there: Windows refuses to replace or remove a binary
/// that runs (the previous check's worker, started from the same exe with
/// `current_exe`, may still be exiting) or that a virus scanner holds open.
/// Older copies are removed when they can be, the others on a later build.
pub fn keep_binary(
    repo: &Repo,
    name: &str,
    built: &Path,
    inputs: &Inputs,
) -> std::io::Result<PathBuf> {
    let dir = dir(repo);
    std::fs::create_dir_all(&dir)?;
    let mut hasher = sha1_smol::Sha1::new();
    for (file, hash) in inputs {
        hasher.update(file.as_bytes());
        hasher.update(hash.as_bytes());
    }
    let id = hasher.digest().to_string();
    let exe = std::env::consts::EXE_SUFFIX;
    static BUILDS: AtomicU64 = AtomicU64::new(0);
    let build = BUILDS.fetch_add(1, Ordering::Relaxed);
    let started = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let kept = dir.join(format!(
        "{name}-{}-{}-{started}-{build}{exe}",
        &id[..12],
        std::process::id()
    ));
    let tmp = dir.join(format!("{name}.{}-{build}.tmp{exe}", std::process::id()));
    std::fs::copy(built, &tmp)?;
    if let Err(e) = std::fs::rename(&tmp, &kept) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let prefix = format!("{name}-");
        for entry in entries.flatten() {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            if file.starts_with(&prefix) && entry.path() != kept {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(kept)
}

/// Records a successful build.
pub fn save(repo: &Repo, name: &str, stamp: &Stamp) -> std::io::Result<()> {
    let file = path(repo, name);
    std::fs::create_dir_all(dir(repo))?;
    let json = serde_json::to_string(stamp).map_err(std::io::Error::other)?;
    let tmp = file.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, &file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(root: &Path) -> Repo {
        let manifest = "[course]\ntitle = \"T\"\ntimeout_secs = 5\n";
        Repo {
            root: root.to_path_buf(),
            course: course::Course::parse(manifest, Path::new("course.toml")).unwrap(),
        }
    }

    /// Opens `path` the way Windows holds a running binary: nobody may
    /// delete or replace it meanwhile. (Elsewhere, a plain open.)
    fn hold(path: &Path) -> std::fs::File {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(windows)]
        {
            use std::os::windows::fs::OpenOptionsExt;
            options.share_mode(1); // FILE_SHARE_READ only
        }
        options.open(path).unwrap()
    }

    #[test]
    fn a_new_build_never_goes_where_a_kept_binary_in_use_is() {
        if std::env::var_os("COURSE_STATE_DIR").is_some() {
            return; // the state would not be this test's own
        }
        let root = tempfile::tempdir().unwrap();
        let repo = repo(root.path());
        let built = root.path().join("built");
        // The same inputs each time, as when only the build's key changed.
        let inputs = Inputs::from([("exercises/a.rs".to_string(), "1".to_string())]);

        std::fs::write(&built, "first").unwrap();
        let first = keep_binary(&repo, "step1-exercise", &built, &inputs).unwrap();
        let held = hold(&first);
        std::fs::write(&built, "second").unwrap();
        let second = keep_binary(&repo, "step1-exercise", &built, &inputs)
            .expect("a binary in use must not stop the next build from being kept");
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&second).unwrap(), b"second");

        // Once nothing holds them, the older copies go.
        drop(held);
        let third = keep_binary(&repo, "step1-exercise", &built, &inputs).unwrap();
        let left: Vec<PathBuf> = std::fs::read_dir(dir(&repo))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(left, [third]);
    }
}
