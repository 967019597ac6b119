//! Every `{{#course-bench ...}}` figure and `{{#course-claim ...}}` of the
//! real chapters holds against the recorded runs, checked without building
//! the book (the builder checks the same, later and slower).

use std::path::Path;

use book_directives::{bench, include};

#[test]
fn every_figure_and_claim_of_the_book_holds() {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../src"));
    let runs = bench::Bench::load(src).unwrap();
    let mut chapters: Vec<_> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    chapters.sort();
    let mut problems = Vec::new();
    for path in &chapters {
        let text = std::fs::read_to_string(path).unwrap();
        let expanded = include::expand(&text, src).map(|e| e.text);
        if let Err(e) = expanded.and_then(|t| bench::expand(&t, Some(&runs))) {
            problems.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
