//! Builds the course book: mdBook 0.4 and mdbook-admonish used as libraries,
//! with the course's own preprocessor ([`CoursePreprocessor`]) in between.
//!
//! The preprocessors run in this order: mdbook's `links` (`{{#include}}`) and
//! `index`, then `course` (the `{{#course-...}}` directives, documented in
//! `book_directives::manifest` and book/README.md), then `admonish` (the
//! ```` ```admonish ```` boxes, including the ones `course` produced).
//!
//! This package is kept out of the grader's way: nothing the grader builds
//! depends on it, so a learner's first `cargo xtask check` never compiles mdbook.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use course::Course;
use mdbook::book::{Book, BookItem, Chapter};
use mdbook::config::Config;
use mdbook::preprocess::{Preprocessor, PreprocessorContext};
use mdbook::MDBook;

/// The book's directory inside the repository.
pub const BOOK_DIR: &str = "book";

/// What went wrong, in one line a person can act on.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<mdbook::errors::Error> for Error {
    fn from(e: mdbook::errors::Error) -> Error {
        // mdbook's errors carry their causes in a chain: show all of them.
        Error(
            e.chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
        )
    }
}

/// The repository root: from `start` upwards, the first directory with a
/// `course.toml`; failing that, the repository this program was built from.
pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
    if let Some(root) = book_directives::find_root(start) {
        return Ok(root);
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    book_directives::find_root(built_from).ok_or_else(|| {
        Error(format!(
            "no {} in {} or any folder above it: run this inside the course repository",
            course::MANIFEST_FILE,
            start.display()
        ))
    })
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The output directory.
    pub dest: PathBuf,
    /// `dest/index.html`, the page to open.
    pub index: PathBuf,
    pub took: Duration,
}

/// Builds the book of the repository at `root` into `dest` (default:
/// `book/book`), reading the course manifest at the root.
pub fn build_repo_book(root: &Path, dest: Option<&Path>) -> Result<Built, Error> {
    let course = Course::load(root).map_err(|e| Error(e.to_string()))?;
    // A measured number typed into a chapter fails the build, like a claim
    // the recorded run contradicts (book/number-allowlist.toml lists the
    // constants a chapter may type).
    book_directives::numbers::check_book(&root.join(BOOK_DIR)).map_err(Error)?;
    build(&root.join(BOOK_DIR), &course, dest)
}

/// Builds the book in `book_dir` (the folder of its `book.toml`) with the
/// given course manifest, into `dest` (default: the `build-dir` of book.toml).
pub fn build(book_dir: &Path, course: &Course, dest: Option<&Path>) -> Result<Built, Error> {
    build_with_extras(book_dir, course, dest, &[])
}

/// A chapter added to the book for one build only (the tests add a fixture
/// chapter this way). Its relative includes start at the book's `src` folder.
#[derive(Debug, Clone)]
pub struct ExtraChapter {
    pub title: String,
    /// The Markdown file to read.
    pub file: PathBuf,
    /// Its name in the book, e.g. `fixture.md` (becomes `fixture.html`).
    pub name_in_book: String,
}

/// [`build`], with chapters added at the end of the book.
pub fn build_with_extras(
    book_dir: &Path,
    course: &Course,
    dest: Option<&Path>,
    extras: &[ExtraChapter],
) -> Result<Built, Error> {
    let started = Instant::now();
    let errors_before = logged_errors();
    let config_file = book_dir.join("book.toml");
    let full_config = Config::from_disk(&config_file)
        .map_err(|e| Error(format!("{}: {}", config_file.display(), Error::from(e))))?;

    // mdbook turns every `[preprocessor.NAME]` table into a call of an
    // external `mdbook-NAME` program. Admonish runs here as a library, so load
    // the book without that table, then give the full config back: the
    // library reads its settings (assets_version, ...) from it.
    let mut load_config = full_config.clone();
    if let Some(table) = load_config
        .get_mut("preprocessor")
        .and_then(|v| v.as_table_mut())
    {
        table.remove("admonish");
        table.remove(CoursePreprocessor::NAME);
    }
    let mut book = MDBook::load_with_config(book_dir, load_config)?;
    book.config = full_config;
    book.config.update_from_env();
    if let Some(dest) = dest {
        book.config.build.build_dir = dest.to_path_buf();
    }

    for extra in extras {
        let content = std::fs::read_to_string(&extra.file)
            .map_err(|e| Error(format!("cannot read {}: {e}", extra.file.display())))?;
        let name = PathBuf::from(&extra.name_in_book);
        let chapter = Chapter::new(&extra.title, content, &name, Vec::new());
        book.book.push_item(BookItem::Chapter(chapter));
    }

    // mdbook only logs a missing include and carries on; here it is an error.
    check_includes(&book)?;

    book.with_preprocessor(CoursePreprocessor::new(course.clone()));
    book.with_preprocessor(mdbook_admonish::Admonish);
    book.build()?;

    let errors = logged_errors() - errors_before;
    if errors > 0 {
        return Err(Error(format!(
            "mdbook reported {errors} error(s) while building (see above)"
        )));
    }
    let dest = book.build_dir_for("html");
    Ok(Built {
        index: dest.join("index.html"),
        dest,
        took: started.elapsed(),
    })
}

fn check_includes(book: &MDBook) -> Result<(), Error> {
    let src = book.root.join(&book.config.book.src);
    let mut problems = Vec::new();
    for item in book.iter() {
        if let BookItem::Chapter(chapter) = item {
            let Some(path) = &chapter.path else { continue };
            let base = src
                .join(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            if let Err(e) = book_directives::include::expand(&chapter.content, &base) {
                problems.push(format!("{}: {e}", src.join(path).display()));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error(problems.join("\n")))
    }
}

/// The `{{#course-...}}` directives (see `book_directives::manifest`), the
/// bench figures `{{#course-bench ...}}` first (`book_directives::bench`).
pub struct CoursePreprocessor {
    course: Course,
}

impl CoursePreprocessor {
    pub const NAME: &'static str = "course";

    pub fn new(course: Course) -> Self {
        CoursePreprocessor { course }
    }
}

impl Preprocessor for CoursePreprocessor {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook::errors::Result<Book> {
        // The recorded bench run, if this book has one: a chapter that quotes
        // a figure without it fails below, with the reason.
        let src = ctx.root.join(&ctx.config.book.src);
        let bench = if src.join(book_directives::bench::FILE).is_file() {
            Some(book_directives::bench::Bench::load(&src).map_err(mdbook::errors::Error::msg)?)
        } else {
            None
        };
        let mut problems = Vec::new();
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item {
                let expanded = book_directives::bench::expand(&chapter.content, bench.as_ref())
                    .and_then(|text| book_directives::manifest::expand(&text, &self.course));
                match expanded {
                    Ok(text) => chapter.content = text,
                    Err(e) => {
                        let at = chapter
                            .source_path
                            .as_ref()
                            .map_or(chapter.name.clone(), |p| p.display().to_string());
                        problems.push(format!("{at}: {e}"));
                    }
                }
            }
        });
        if problems.is_empty() {
            Ok(book)
        } else {
            Err(mdbook::errors::Error::msg(problems.join("\n")))
        }
    }

    fn supports_renderer(&self, _renderer: &str) -> bool {
        true
    }
}

pub mod links;

static LOGGED_ERRORS: AtomicUsize = AtomicUsize::new(0);

fn logged_errors() -> usize {
    LOGGED_ERRORS.load(Ordering::SeqCst)
}

/// Prints mdbook's warnings and errors (and its progress with `verbose`), and
/// counts the errors so that a build that logged one fails.
struct Logger {
    verbose: bool,
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn || self.verbose && metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Error {
            LOGGED_ERRORS.fetch_add(1, Ordering::SeqCst);
        }
        if self.enabled(record.metadata()) {
            eprintln!("[{}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (once; later calls do nothing). Without it mdbook's
/// messages are dropped and its errors not counted.
pub fn init_logging(verbose: bool) {
    let logger: &'static Logger = Box::leak(Box::new(Logger { verbose }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(if verbose {
            log::LevelFilter::Info
        } else {
            log::LevelFilter::Warn
        });
    }
}
