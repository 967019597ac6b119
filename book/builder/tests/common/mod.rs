//! Shared by the builder's integration tests: the repository, its manifest,
//! and a test build of the real book plus the fixture chapter
//! (tests/fixture/fixture.md) in a temporary folder.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

use book_builder::{Built, ExtraChapter};
use course::Course;

pub fn root() -> PathBuf {
    book_builder::find_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub fn course() -> Course {
    Course::load(&root()).unwrap()
}

pub fn book_dir() -> PathBuf {
    root().join(book_builder::BOOK_DIR)
}

/// The fixture chapter, added as `fixture.md`.
pub fn fixture() -> ExtraChapter {
    ExtraChapter {
        title: "Test fixture".into(),
        file: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/fixture.md"),
        name_in_book: "fixture.md".into(),
    }
}

/// A built book in a temporary folder, removed on drop.
pub struct TestBook {
    pub built: Built,
    _dir: tempfile::TempDir,
}

impl TestBook {
    pub fn dir(&self) -> &Path {
        &self.built.dest
    }

    pub fn page(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir().join(name))
            .unwrap_or_else(|e| panic!("{name} was not built: {e}"))
    }
}

/// Builds the real book, plus `extras`, into a fresh temporary folder.
pub fn build(extras: &[ExtraChapter]) -> TestBook {
    book_builder::init_logging(false);
    let dir = tempfile::Builder::new()
        .prefix("course-book-test")
        .tempdir()
        .unwrap();
    let dest = dir.path().join("html");
    let built = book_builder::build_with_extras(&book_dir(), &course(), Some(&dest), extras)
        .unwrap_or_else(|e| panic!("the book did not build: {e}"));
    TestBook { built, _dir: dir }
}

/// The chapter files SUMMARY.md links to, in order (`overview.md`, ...).
pub fn summary_chapters() -> Vec<String> {
    let summary = std::fs::read_to_string(book_dir().join("src/SUMMARY.md")).unwrap();
    summary
        .lines()
        .filter_map(|line| {
            let start = line.find("](")? + 2;
            let end = start + line[start..].find(')')?;
            Some(line[start..end].to_string())
        })
        .filter(|target| target.ends_with(".md"))
        .collect()
}
