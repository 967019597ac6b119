//! No broken internal link or anchor in the built book.

mod common;

#[test]
fn no_broken_internal_links_or_anchors() {
    let book = common::build(&[common::fixture()]);
    let report = book_builder::links::check(book.dir()).unwrap();
    println!("checked {} links on {} pages", report.links, report.pages);
    assert!(report.pages > 20, "only {} pages", report.pages);
    assert!(
        report.broken.is_empty(),
        "{} broken link(s) in the book:\n  {}",
        report.broken.len(),
        report
            .broken
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}
