//! Prepares the book's chapters for rustdoc, without mdbook.
//!
//! For every chapter `book/src/NAME.md` (SUMMARY.md excepted) it writes
//! `$OUT_DIR/chapters/NAME.md`: the `{{#include}}` and `{{#course-...}}`
//! directives expanded, then rewritten so that rustdoc tests the same Rust
//! blocks the book shows (see `book_directives::blocks`). It also writes
//! `chapters.rs` (one module per chapter, its doc comment the chapter) and
//! `blocks.rs` (every code block, for the counts report). The builder's test
//! fixture chapter is added as the module `fixture`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use book_directives::blocks;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("book/doctests sits two levels below the root");
    let src = root.join("book").join("src");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let chapters_out = out.join("chapters");
    std::fs::create_dir_all(&chapters_out).unwrap();

    println!("cargo::rerun-if-changed={}", src.display());
    println!(
        "cargo::rerun-if-changed={}",
        root.join(course::MANIFEST_FILE).display()
    );

    let course = match course::Course::load(root) {
        Ok(c) => c,
        Err(e) => fail(&format!("{e}")),
    };
    // Inside `src`, so the rerun-if-changed above covers it.
    let bench = book_directives::bench::Bench::load(&src).unwrap_or_else(|e| fail(&e));

    let mut chapters: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", src.display())))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| p.file_name().is_some_and(|n| n != "SUMMARY.md"))
        .collect();
    chapters.sort();
    // The builder's fixture chapter too (as `fixture`): it holds one block of
    // each kind, so the machinery is tested whatever the chapters hold today.
    // Its includes start at book/src, as if it were a chapter.
    let fixture = root.join("book/builder/tests/fixture/fixture.md");
    println!("cargo::rerun-if-changed={}", fixture.display());
    chapters.push(fixture);

    let mut modules = String::new();
    let mut table = String::from(
        "/// Every code block of the book, as rustdoc sees it.\npub static BLOCKS: &[Block] = &[\n",
    );
    for path in &chapters {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| fail(&format!("cannot read {shown}: {e}")));
        let expanded = book_directives::expand_chapter(&text, &src, &course, Some(&bench))
            .unwrap_or_else(|e| fail(&format!("{shown}: {e}")));
        for file in &expanded.included {
            println!("cargo::rerun-if-changed={}", file.display());
        }
        let for_rustdoc = blocks::for_rustdoc(&expanded.text)
            .unwrap_or_else(|e| fail(&format!("{shown} (after its includes are expanded): {e}")));
        std::fs::write(chapters_out.join(format!("{name}.md")), &for_rustdoc).unwrap();

        // One file per chapter whose first line is the doc attribute: rustdoc
        // then names a failing block `chapters/NAME.rs - NAME (line N)` with N
        // its line in the chapter (counted after includes are expanded).
        let module = name.replace('-', "_");
        std::fs::write(
            chapters_out.join(format!("{name}.rs")),
            format!(
                "#[doc = include_str!(\"{name}.md\")] #[allow(clippy::all, rustdoc::all)] pub mod {module} {{}}\n"
            ),
        )
        .unwrap();
        writeln!(
            modules,
            "include!(concat!(env!(\"OUT_DIR\"), \"/chapters/{name}.rs\"));"
        )
        .unwrap();
        for block in blocks::fenced_blocks(&for_rustdoc) {
            writeln!(
                table,
                "    Block {{ chapter: {shown:?}, line: {}, info: {:?}, kind: Kind::{} }},",
                block.line,
                block.info,
                block.kind.name()
            )
            .unwrap();
        }
    }
    table.push_str("];\n");
    std::fs::write(out.join("chapters.rs"), modules).unwrap();
    std::fs::write(out.join("blocks.rs"), table).unwrap();
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("book-doctests: {message}");
}
