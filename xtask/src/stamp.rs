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
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::build::Diagnostic;
use crate::kept::Identity;
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
    /// The SHA-1 of the kept binary's bytes, and its identity when kept.
    pub exe_sha1: String,
    pub exe_identity: Identity,
    pub warnings: Vec<Diagnostic>,
}

pub fn dir(repo: &Repo) -> PathBuf {
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
    /// Whether this stamp's binary was built from exactly `inputs` with
    /// `key` (whether the binary is still there and unchanged is for
    /// [`crate::kept::hold`] to say).
    pub fn is_fresh(&self, key: &str, inputs: &Inputs) -> bool {
        self.key == key && &self.inputs == inputs
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

/// The id of a build from `inputs`: part of its kept binary's name.
pub fn inputs_id(inputs: &Inputs) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    for (file, hash) in inputs {
        hasher.update(file.as_bytes());
        hasher.update(hash.as_bytes());
    }
    hasher.digest().to_string()
}

/// Forgets the build called `name` (its binary is not to be trusted).
pub fn forget(repo: &Repo, name: &str) {
    let _ = std::fs::remove_file(path(repo, name));
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
