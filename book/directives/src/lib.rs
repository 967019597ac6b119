//! The book's directives, expanded without mdbook, and its code blocks.
//!
//! Two packages need the chapters as mdbook would see them: `book-builder`
//! (which runs mdbook) and `book-doctests` (which compiles every Rust block
//! with rustdoc and must not compile mdbook). This crate holds what both share:
//!
//! - [`include`]: `{{#include file:anchor}}` and friends, expanded the way
//!   mdbook 0.4 does it (book-builder's tests compare the two);
//! - [`manifest`]: the course's own `{{#course-...}}` directives, which render
//!   parts of the manifest (`course.toml`) so that no chapter retypes it;
//! - [`bench`]: `{{#course-bench ...}}`, a figure from the recorded bench run
//!   (`book/src/measure/bench.json`), so that no chapter retypes a number;
//! - [`blocks`]: finds the code blocks of a chapter, classifies them the way
//!   rustdoc does, and rewrites a chapter for rustdoc;
//! - [`numbers`]: the number guard, which refuses a measured number typed
//!   into a chapter's prose instead of taken from a directive.

pub mod bench;
pub mod blocks;
pub mod include;
pub mod manifest;
pub mod numbers;

use std::path::{Path, PathBuf};

/// The repository root: the nearest directory at or above `start` that holds
/// the course manifest (`course.toml`).
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(course::MANIFEST_FILE).is_file())
        .map(Path::to_path_buf)
}

/// A chapter as the tools see it after every directive is expanded.
#[derive(Debug, Clone)]
pub struct Expanded {
    /// The chapter text with `{{#include}}` and `{{#course-...}}` expanded.
    pub text: String,
    /// Every file that was included (for build scripts' `rerun-if-changed`).
    pub included: Vec<PathBuf>,
}

/// Expands the includes of `text` (a chapter whose directory is `base`) and
/// then the course directives (the bench figures first), like the builder's
/// preprocessors do in order.
pub fn expand_chapter(
    text: &str,
    base: &Path,
    course: &course::Course,
    bench: Option<&bench::Bench>,
) -> Result<Expanded, String> {
    let included = include::expand(text, base)?;
    let text = bench::expand(&included.text, bench)?;
    let text = manifest::expand(&text, course)?;
    Ok(Expanded {
        text,
        included: included.files,
    })
}
