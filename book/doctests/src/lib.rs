//! Every Rust code block of the book, compiled by the test suite.
//!
//! Each chapter of `book/src` is the doc comment of one module below (written
//! by `build.rs` with its directives expanded), so `cargo test -p book-doctests`
//! (and a plain `cargo test` at the root) compiles every ```` ```rust ```` block,
//! runs the complete programs, and checks that `compile_fail` blocks fail.
//! `cargo run -p book-doctests` prints how many blocks there are of each kind;
//! the unit tests below print the same and fail if a block is `ignore`d.

/// How rustdoc treats a code block: the same classification the build
/// script used to find the blocks.
pub use book_directives::blocks::Kind;

/// One fenced code block of a chapter.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    /// `book/src/NAME.md`.
    pub chapter: &'static str,
    /// Line of the opening fence, after the chapter's includes are expanded.
    pub line: usize,
    /// The fence's info string.
    pub info: &'static str,
    pub kind: Kind,
}

include!(concat!(env!("OUT_DIR"), "/blocks.rs"));

/// How many blocks of each kind the book has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every fenced block, Rust or not.
    pub total: usize,
    /// Rust blocks (everything rustdoc looks at).
    pub rust: usize,
    /// Rust blocks that must compile: `run + no_run`.
    pub compiled: usize,
    pub run: usize,
    pub no_run: usize,
    pub compile_fail: usize,
    pub ignored: usize,
    /// Blocks in another language (text, console, toml, ...).
    pub other: usize,
}

impl Counts {
    pub fn of(blocks: &[Block]) -> Counts {
        let mut c = Counts {
            total: blocks.len(),
            ..Counts::default()
        };
        for b in blocks {
            match b.kind {
                Kind::Run => c.run += 1,
                Kind::NoRun => c.no_run += 1,
                Kind::CompileFail => c.compile_fail += 1,
                Kind::Ignore => c.ignored += 1,
                Kind::NotRust => c.other += 1,
            }
        }
        c.compiled = c.run + c.no_run;
        c.rust = c.compiled + c.compile_fail + c.ignored;
        c
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "book code blocks: {} total, {} Rust: {} compiled ({} run, {} no_run), \
             {} compile_fail, {} ignored; {} in other languages",
            self.total,
            self.rust,
            self.compiled,
            self.run,
            self.no_run,
            self.compile_fail,
            self.ignored,
            self.other
        )
    }
}

/// The chapter file of the builder's test fixture, compiled with the book
/// but not counted as part of it.
pub const FIXTURE: &str = "book/builder/tests/fixture/fixture.md";

/// The counts for the whole book (the test fixture not included).
pub fn counts() -> Counts {
    let blocks: Vec<Block> = BLOCKS
        .iter()
        .copied()
        .filter(|b| b.chapter != FIXTURE)
        .collect();
    Counts::of(&blocks)
}

/// The counts of each chapter that has code blocks (the fixture included).
pub fn per_chapter() -> Vec<(&'static str, Counts)> {
    let mut chapters: Vec<&'static str> = BLOCKS.iter().map(|b| b.chapter).collect();
    chapters.dedup();
    chapters
        .into_iter()
        .map(|ch| {
            let blocks: Vec<Block> = BLOCKS.iter().copied().filter(|b| b.chapter == ch).collect();
            (ch, Counts::of(&blocks))
        })
        .collect()
}

include!(concat!(env!("OUT_DIR"), "/chapters.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_block_counts() {
        // Visible with `cargo test -p book-doctests -- --nocapture`.
        println!("{}", counts());
        for (chapter, c) in per_chapter() {
            println!(
                "  {chapter}: {} Rust ({} run, {} no_run, {} compile_fail, {} ignored), {} other",
                c.rust, c.run, c.no_run, c.compile_fail, c.ignored, c.other
            );
        }
    }

    #[test]
    fn no_block_is_ignored() {
        let ignored: Vec<String> = BLOCKS
            .iter()
            .filter(|b| b.kind == Kind::Ignore)
            .map(|b| format!("{}:{} ```{}", b.chapter, b.line, b.info))
            .collect();
        assert!(
            ignored.is_empty(),
            "every Rust block of the book must be compiled: use `no_run` for code that must not \
             run in tests and `compile_fail` for code the compiler must reject, never `ignore`. \
             Ignored blocks (line numbers after includes are expanded):\n  {}",
            ignored.join("\n  ")
        );
    }

    #[test]
    fn the_fixture_has_a_block_of_every_kind() {
        let fixture: Vec<Block> = BLOCKS
            .iter()
            .copied()
            .filter(|b| b.chapter == FIXTURE)
            .collect();
        let c = Counts::of(&fixture);
        assert!(
            c.run > 0 && c.no_run > 0 && c.compile_fail > 0 && c.other > 0 && c.ignored == 0,
            "{c}"
        );
    }

    #[test]
    fn counts_add_up() {
        let c = counts();
        assert_eq!(c.total, c.rust + c.other);
        assert_eq!(c.rust, c.run + c.no_run + c.compile_fail + c.ignored);
    }
}
