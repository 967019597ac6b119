//! The book builds, the course directives and admonitions render, includes
//! expand exactly as mdbook does, and mistakes fail the build.

mod common;

use std::path::Path;
use std::process::Command;

use book_builder::ExtraChapter;

#[test]
fn the_real_book_builds_with_every_chapter() {
    let book = common::build(&[]);
    println!(
        "built the book in {:.2} s into {}",
        book.built.took.as_secs_f64(),
        book.dir().display()
    );
    assert!(book.built.index.is_file());
    for chapter in common::summary_chapters() {
        let html = chapter.replace(".md", ".html");
        assert!(
            book.dir().join(&html).is_file(),
            "SUMMARY.md lists {chapter} but {html} was not built"
        );
    }
    // The admonish stylesheet is copied and linked; search works from file://
    // because the index is a script (searchindex.js), not a fetched JSON file.
    assert!(book.dir().join("mdbook-admonish.css").is_file());
    assert!(book.page("overview.html").contains("mdbook-admonish.css"));
    assert!(book.dir().join("searchindex.js").is_file());
}

#[test]
fn the_fixture_chapter_renders_directives_includes_and_admonitions() {
    let book = common::build(&[common::fixture()]);
    let html = book.page("fixture.html");
    let course = common::course();
    let step1 = course.find_step("step1").unwrap();

    // Admonitions, one of them collapsible.
    assert!(
        html.contains("class=\"admonition admonish-note\""),
        "{html}"
    );
    assert!(
        html.contains("<details"),
        "no collapsible admonition:\n{html}"
    );
    assert!(
        !html.contains("```admonish"),
        "an admonition was not rendered"
    );

    // {{#include file:anchor}}: only the anchored lines, without markers.
    assert!(html.contains("let answer = 6 * 7;"));
    assert!(!html.contains("fn hidden"));
    assert!(!html.contains("ANCHOR"));

    // {{#course-bench}}: figures from the recorded run, and one written as is.
    let runs = book_directives::bench::Bench::load(&common::book_dir().join("src")).unwrap();
    for directive in [
        "{{#course-bench spawn.thread_us.median}}",
        "{{#course-bench spawn.process_us.median / spawn.thread_us.median}}",
    ] {
        let figure = book_directives::bench::render(directive, &runs).unwrap();
        assert!(html.contains(&figure), "{figure} not in:\n{html}");
    }
    assert!(html.contains("<code>{{#course-bench spawn.thread_us.median}}</code>"));

    // {{#course-step}}: the exercise box, from the manifest.
    assert!(html.contains(&step1.exercise));
    assert!(html.contains(&step1.check_command()));
    for check in &step1.checks {
        let title = check.title.replace('\'', "&#39;").replace('"', "&quot;");
        assert!(
            html.contains(&check.title) || html.contains(&title),
            "the exercise box lacks the check `{}`",
            check.title
        );
    }
    assert!(
        html.contains("admonish-example"),
        "the exercise box is not an admonition"
    );
    // {{#course-steps}} and {{#course-minutes}}.
    for step in &course.steps {
        assert!(
            html.contains(&step.title),
            "the steps table lacks {}",
            step.title
        );
    }
    let total = course.steps.iter().map(|s| s.minutes).sum();
    assert!(html.contains(&book_directives::manifest::duration(total)));
    assert_eq!(
        html.matches("{{#course").count(),
        2,
        "only the two escaped directives (minutes, bench) stay as written"
    );
    assert!(html.contains("<code>{{#course-minutes}}</code>"), "{html}");
}

/// book-doctests expands `{{#include}}` without mdbook: it must give the
/// same text as mdbook's own `links` preprocessor, chapter by chapter.
#[test]
fn includes_expand_exactly_as_mdbook_does() {
    use mdbook::book::BookItem;
    use mdbook::config::Config;

    let book_dir = common::book_dir();
    let mut config = Config::from_disk(book_dir.join("book.toml")).unwrap();
    config
        .get_mut("preprocessor")
        .and_then(|p| p.as_table_mut())
        .unwrap()
        .remove("admonish");
    let mut md = mdbook::MDBook::load_with_config(&book_dir, config).unwrap();
    let fixture = common::fixture();
    let content = std::fs::read_to_string(&fixture.file).unwrap();
    md.book
        .push_item(BookItem::Chapter(mdbook::book::Chapter::new(
            &fixture.title,
            content,
            &fixture.name_in_book,
            Vec::new(),
        )));
    let raw: Vec<_> = md
        .iter()
        .filter_map(|item| match item {
            BookItem::Chapter(ch) => Some((ch.path.clone().unwrap(), ch.content.clone())),
            _ => None,
        })
        .collect();
    let (expanded, _) = md
        .preprocess_book(&mdbook::renderer::HtmlHandlebars::new())
        .unwrap();
    let src = book_dir.join("src");
    let mut compared = 0;
    for item in expanded.iter() {
        let BookItem::Chapter(ch) = item else {
            continue;
        };
        let path = ch.path.clone().unwrap();
        let (_, original) = raw.iter().find(|(p, _)| *p == path).unwrap();
        let base = src.join(&path).parent().unwrap().to_path_buf();
        let ours = book_directives::include::expand(original, &base).unwrap();
        assert_eq!(
            ours.text,
            ch.content,
            "{} expands differently",
            path.display()
        );
        compared += 1;
    }
    assert!(compared > 20, "only {compared} chapters compared");
}

fn write_chapter(dir: &Path, text: &str) -> ExtraChapter {
    let file = dir.join("bad.md");
    std::fs::write(&file, text).unwrap();
    ExtraChapter {
        title: "Bad".into(),
        file,
        name_in_book: "bad.md".into(),
    }
}

#[test]
fn mistakes_in_a_chapter_fail_the_build() {
    book_builder::init_logging(false);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    let course = common::course();
    for (text, expected) in [
        (
            "{{#course-step step99-nothing}}",
            "no step `step99-nothing`",
        ),
        ("{{#course-setp step1}}", "not a course directive"),
        (
            "{{#course-bench spawn.thread_ms.median}}",
            "`spawn.thread_ms` is not in",
        ),
        (
            "{{#course-bench communication.results[method=smoke-signals].round_trip_us.median}}",
            "no element of `communication.results[method=smoke-signals]`",
        ),
        (
            "```rust\n{{#include ../../demos/src/bin/missing.rs:main}}\n```",
            "missing.rs",
        ),
    ] {
        let extra = write_chapter(dir.path(), text);
        let err =
            book_builder::build_with_extras(&common::book_dir(), &course, Some(&dest), &[extra])
                .expect_err(text);
        assert!(err.0.contains(expected), "{text}: {err}");
    }
}

#[test]
fn the_command_line_builds_from_anywhere_in_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_book-builder"))
        .args(["--dest".as_ref(), dir.path().join("html").as_os_str()])
        .current_dir(common::root().join("xtask"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("Built the book in "), "{stdout}");
    assert!(dir.path().join("html/index.html").is_file());

    let bad = Command::new(env!("CARGO_BIN_EXE_book-builder"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument `--frobnicate`"));
}
