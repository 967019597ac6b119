//! The exercises as shipped: `xtask/originals.toml` lists each exercise
//! file with its git blob id. That is enough to tell whether a learner has
//! changed a file, and (with `git cat-file`) to restore it, without keeping
//! a second copy of every exercise in the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use course::Step;

use crate::repo::Repo;

const FILE: &str = "xtask/originals.toml";

/// step id -> (path inside the exercise crate -> git blob id)
pub type Originals = BTreeMap<String, BTreeMap<String, String>>;

pub fn load(repo: &Repo) -> Result<Originals> {
    let path = repo.path(FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

/// The git blob id of a file's content, with CRLF line ends read as LF (a
/// Windows checkout may have converted them).
pub fn blob_id(content: &[u8]) -> String {
    let text = normalise(content);
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(format!("blob {}\0", text.len()).as_bytes());
    hasher.update(&text);
    hasher.digest().to_string()
}

fn normalise(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while i < content.len() {
        if content[i] == b'\r' && content.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(content[i]);
        i += 1;
    }
    out
}

/// Every file of a crate directory, relative to it, skipping build output.
pub fn crate_files(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(base, &path, out)?;
        } else {
            let rel = path.strip_prefix(base).expect("inside base");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// How a learner's exercise compares with the original.
#[derive(Debug, Default)]
pub struct Comparison {
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub added: Vec<String>,
}

impl Comparison {
    pub fn pristine(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.added.is_empty()
    }
}

pub fn compare(repo: &Repo, originals: &Originals, step: &Step) -> Result<Comparison> {
    let Some(files) = originals.get(&step.id) else {
        bail!(
            "{FILE} has no entry for {}; maintainers: run `cargo xtask freeze`",
            step.id
        );
    };
    let dir = repo.path(&step.exercise_crate);
    let present = if dir.is_dir() {
        crate_files(&dir)?
    } else {
        Vec::new()
    };
    let mut cmp = Comparison::default();
    for (file, id) in files {
        match std::fs::read(dir.join(file)) {
            Ok(content) if blob_id(&content) == *id => {}
            Ok(_) => cmp.changed.push(file.clone()),
            Err(_) => cmp.missing.push(file.clone()),
        }
    }
    cmp.added = present
        .into_iter()
        .filter(|f| !files.contains_key(f))
        .collect();
    Ok(cmp)
}

/// Writes the original content of `file` (of `step`'s exercise) back, as
/// a checkout writes it: with the line endings and filters git applies to
/// that path here (a Windows checkout with `core.autocrlf` has CRLF), so
/// that `git status` sees the file unchanged.
pub fn restore_file(repo: &Repo, blob: &str, dest: &Path) -> Result<()> {
    let path = dest
        .strip_prefix(&repo.root)
        .unwrap_or(dest)
        .to_string_lossy()
        .replace('\\', "/");
    let output = Command::new("git")
        .current_dir(&repo.root)
        .args(["cat-file", "--filters", &format!("--path={path}"), blob])
        .output()
        .context("cannot run git (reset needs git, which you used to clone the course)")?;
    if !output.status.success() {
        bail!(
            "git does not have the original of {} (blob {blob}): {}",
            dest.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(dest, output.stdout).with_context(|| format!("cannot write {}", dest.display()))
}

/// Computes the table for every step from the files on disk.
pub fn snapshot(repo: &Repo) -> Result<Originals> {
    let mut all = Originals::new();
    for step in &repo.course.steps {
        let dir = repo.path(&step.exercise_crate);
        if !dir.is_dir() {
            crate::ui::warning(&format!("{} does not exist; skipped", step.exercise_crate));
            continue;
        }
        let mut files = BTreeMap::new();
        for file in crate_files(&dir)? {
            let content = std::fs::read(dir.join(&file))?;
            files.insert(file, blob_id(&content));
        }
        all.insert(step.id.clone(), files);
    }
    Ok(all)
}

pub fn write(repo: &Repo, originals: &Originals) -> Result<PathBuf> {
    let header = "# The exercises as shipped: each file's git blob id, so that `cargo xtask reset`\n# can restore it with `git cat-file` and `list` can tell what you changed.\n# Maintainers: regenerate with `cargo xtask freeze` after changing an exercise.\n\n";
    let path = repo.path(FILE);
    std::fs::write(
        &path,
        format!("{header}{}", toml::to_string_pretty(originals)?),
    )?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout that converts line endings (as `core.autocrlf` does on
    /// Windows): a reset file has the bytes a checkout would write.
    #[test]
    fn a_restored_file_has_the_line_endings_of_the_checkout() {
        if Command::new("git").arg("--version").output().is_err() {
            // (Wine's Windows has no git; reset needs it, and says so.)
            eprintln!("skipped: git cannot be run here");
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .current_dir(root.path())
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
            out.stdout
        };
        git(&["init", "-q"]);
        std::fs::write(root.path().join(".gitattributes"), "*.rs text eol=crlf\n").unwrap();
        std::fs::create_dir_all(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/lib.rs"), "fn a() {}\r\nfn b() {}\r\n").unwrap();
        git(&["add", "."]);
        let blob = String::from_utf8(git(&["hash-object", "src/lib.rs"])).unwrap();
        std::fs::write(root.path().join("src/lib.rs"), "edited").unwrap();
        let manifest = "[course]\ntitle = \"T\"\ntimeout_secs = 5\n";
        let repo = Repo {
            root: root.path().to_path_buf(),
            course: course::Course::parse(manifest, Path::new("course.toml")).unwrap(),
        };
        restore_file(&repo, blob.trim(), &root.path().join("src/lib.rs")).unwrap();
        assert_eq!(
            std::fs::read(root.path().join("src/lib.rs")).unwrap(),
            b"fn a() {}\r\nfn b() {}\r\n"
        );
        assert_eq!(blob_id(b"fn a() {}\nfn b() {}\n"), blob.trim());
    }

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b"hello\r\n"), blob_id(b"hello\n"));
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
