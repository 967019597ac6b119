//! The number guard on the real book: no chapter types a measured number
//! into its prose. Every figure a machine measured comes from the recorded
//! runs through `{{#course-bench ...}}`; what remains is a documented
//! constant listed, with its source, in `book/number-allowlist.toml`.
//! The rules themselves are tested in `book_directives::numbers`.

use std::path::Path;

use book_directives::numbers;

fn book() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn no_chapter_types_a_measured_number() {
    if let Err(problems) = numbers::check_book(book()) {
        panic!("\n{problems}");
    }
}

#[test]
fn every_allowlisted_constant_says_where_it_comes_from() {
    let list = numbers::Allowlist::load(book()).unwrap();
    assert!(!list.constant.is_empty());
    for c in &list.constant {
        assert!(
            c.source.contains("://") || c.source.contains('(') || c.source.contains('/'),
            "`{}`: the source should be a link, a man page (pipe(7)) or a file: {}",
            c.texts.join(", "),
            c.source
        );
    }
}

#[test]
fn a_typed_number_placed_in_a_real_chapter_is_refused() {
    let allow = numbers::Allowlist::load(book()).unwrap();
    let path = book().join("src/measure-it-yourself.md");
    let chapter = std::fs::read_to_string(&path).unwrap();
    let mut used = Default::default();
    assert!(
        numbers::check_chapter("measure-it-yourself.md", &chapter, &allow, &mut used).is_empty()
    );
    for typed in [
        "A process cost about 25 times as much as a thread.",
        "A millisecond of start-up disappears in a second of work.",
    ] {
        let spoiled = format!("{chapter}\n{typed}\n");
        let problems =
            numbers::check_chapter("measure-it-yourself.md", &spoiled, &allow, &mut used);
        assert!(!problems.is_empty(), "`{typed}` passed the guard");
    }
}
