//! What grades, as shipped: `xtask/shipped.toml` lists every file of the
//! checks, the check harness and the manifest (`course.toml`) with its git
//! blob id. Code under test runs with the learner's rights and could rewrite
//! a check so that it passes; the grader refuses to grade with files that
//! differ from the list, and names them.
//!
//! Maintainers change checks on purpose: `cargo xtask freeze` records the
//! new files, and `COURSE_MAINTAINER=1` grades with unrecorded changes while
//! they work on them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};
use course::Step;

use crate::originals::{blob_id, crate_files};
use crate::repo::Repo;

const FILE: &str = "xtask/shipped.toml";
const HARNESS: &str = "xtask/harness";
const MANIFEST: &str = "course.toml";

/// Root-relative path (with `/`) -> git blob id.
pub type Shipped = BTreeMap<String, String>;

/// The environment variable that lets a maintainer grade with changed
/// checks.
pub const MAINTAINER: &str = "COURSE_MAINTAINER";

/// The roots whose files grade `step`.
fn roots(step: &Step) -> [String; 3] {
    [
        MANIFEST.to_string(),
        step.checks_crate(),
        HARNESS.to_string(),
    ]
}

/// The files under `root` (a file or a directory, root-relative) as they
/// are on disk.
fn files_under(repo: &Repo, root: &str) -> Result<Shipped> {
    let path = repo.path(root);
    let mut files = Shipped::new();
    if path.is_file() {
        files.insert(root.to_string(), blob_id(&std::fs::read(&path)?));
    } else if path.is_dir() {
        for file in crate_files(&path)? {
            let content = std::fs::read(path.join(&file))
                .with_context(|| format!("cannot read {root}/{file}"))?;
            files.insert(format!("{root}/{file}"), blob_id(&content));
        }
    }
    Ok(files)
}

fn under(file: &str, root: &str) -> bool {
    file == root || file.starts_with(&format!("{root}/"))
}

/// Every file that grades any step, from the disk.
pub fn snapshot(repo: &Repo) -> Result<Shipped> {
    let mut all = Shipped::new();
    for step in &repo.course.steps {
        for root in roots(step) {
            all.extend(files_under(repo, &root)?);
        }
    }
    Ok(all)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ShippedFile {
    /// `name@version` of every crates.io package in the lock file.
    #[serde(default)]
    registry: BTreeSet<String>,
    files: Shipped,
}

/// The crates.io packages the workspace's `Cargo.lock` lists now, as
/// `name@version`.
fn locked_registry_crates(repo: &Repo) -> Result<BTreeSet<String>> {
    // The course's root, or (for the tests' fixture course) a folder above.
    let Some(path) = repo
        .root
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|p| p.is_file())
    else {
        return Ok(BTreeSet::new());
    };
    let text = std::fs::read_to_string(&path)?;
    let lock: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?;
    let mut crates = BTreeSet::new();
    let packages = lock.get("package").and_then(|p| p.as_array());
    for package in packages.into_iter().flatten() {
        let field = |k: &str| package.get(k).and_then(|v| v.as_str());
        if field("source").is_some_and(|s| s.starts_with("registry+")) {
            if let (Some(name), Some(version)) = (field("name"), field("version")) {
                crates.insert(format!("{name}@{version}"));
            }
        }
    }
    Ok(crates)
}

pub fn write(repo: &Repo, shipped: &Shipped) -> Result<std::path::PathBuf> {
    let header = "# What grades, as shipped: the checks, the check harness and course.toml,\n# each file with its git blob id (the grader refuses to grade with files that\n# differ), and the crates.io packages of Cargo.lock (the grader trusts their\n# object files; a crate added later is searched for code that runs before\n# main). Maintainers: regenerate with `cargo xtask freeze`.\n\n";
    let file = ShippedFile {
        registry: locked_registry_crates(repo)?,
        files: shipped.clone(),
    };
    let path = repo.path(FILE);
    std::fs::write(&path, format!("{header}{}", toml::to_string_pretty(&file)?))?;
    Ok(path)
}

fn load_file(repo: &Repo) -> Result<ShippedFile> {
    let path = repo.path(FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (is your clone complete?)", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

pub fn load(repo: &Repo) -> Result<Shipped> {
    Ok(load_file(repo)?.files)
}

/// The crates.io packages the course shipped (none if the list cannot be
/// read: then every crate is searched as if the learner had added it).
pub fn registry_crates(repo: &Repo) -> BTreeSet<String> {
    load_file(repo).map(|f| f.registry).unwrap_or_default()
}

/// The files that grade `step` and differ from what was shipped: changed,
/// missing or added, each with what happened to it.
pub fn differences(repo: &Repo, shipped: &Shipped, step: &Step) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for root in roots(step) {
        let present = files_under(repo, &root)?;
        for (file, id) in shipped.iter().filter(|(f, _)| under(f, &root)) {
            match present.get(file) {
                Some(now) if now == id => {}
                Some(_) => found.push(format!("{file} (changed)")),
                None => found.push(format!("{file} (missing)")),
            }
        }
        for file in present.keys().filter(|f| !shipped.contains_key(*f)) {
            found.push(format!("{file} (added)"));
        }
    }
    Ok(found)
}

/// Whether a maintainer asked to grade what is on disk (`COURSE_MAINTAINER`
/// set, and not to `0`).
pub fn maintainer() -> bool {
    std::env::var_os(MAINTAINER).is_some_and(|v| !v.is_empty() && v != "0")
}

static REPORTED_ELSEWHERE: AtomicBool = AtomicBool::new(false);

/// For `verify`, which lists the differences as problems of its own and
/// grades anyway.
pub fn report_differences_elsewhere() {
    REPORTED_ELSEWHERE.store(true, Ordering::Relaxed);
}

/// Refuses to grade `step` when a file that grades it is not as shipped,
/// unless a maintainer asked for that.
pub fn ensure_as_shipped(repo: &Repo, step: &Step) -> Result<()> {
    if REPORTED_ELSEWHERE.load(Ordering::Relaxed) || maintainer() {
        return Ok(());
    }
    let shipped = load(repo)?;
    let found = differences(repo, &shipped, step)?;
    if found.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = found.iter().take(5).map(String::as_str).collect();
    let more = match found.len().saturating_sub(shown.len()) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    bail!(
        "not grading {}: the files that grade it are not as shipped: {}{more}. \
         Code you ran (or an edit) changed them, and a check that was changed can no longer tell right from wrong. \
         Put them back with `git checkout -- {}` (your exercise is not touched), then check again. \
         Maintainers: `cargo xtask freeze` records a change that is meant; {MAINTAINER}=1 grades without this test",
        step.id,
        shown.join(", "),
        roots(step).join(" ")
    )
}
