//! The book shows what its demos printed only as recorded runs: the output
//! block after a `cargo run -p demos --bin NAME` is
//! `{{#include measure/demos/NAME.txt}}` (`NAME.release.txt` for
//! `--release`), written by `cargo xtask bench --demos`, never a pasted run
//! that nobody can reproduce or check. And every recording is shown
//! somewhere, so none goes stale unseen.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

/// What the rule looks at, in the order the chapter has it.
#[derive(Debug)]
enum Item {
    /// A `## ` heading: a section boundary.
    Section,
    /// A command that runs a demo, in a code block or inline code: the
    /// recording its output must be (`fork-cost.release`).
    Command { line: usize, recording: String },
    /// A ```text block, with its content.
    Text { line: usize, body: String },
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")
}

/// `cargo run [--release] -p demos --bin NAME` in `text` as `NAME[.release]`.
fn demo_command(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("cargo run ")?;
    let (release, rest) = match rest.strip_prefix("--release ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let name = rest.strip_prefix("-p demos --bin ")?.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some(if release {
        format!("{name}.release")
    } else {
        name.to_string()
    })
}

/// The items of `markdown`, looking inside admonitions (which are code
/// blocks whose body is Markdown again). `first_line` is where it starts.
fn items(markdown: &str, first_line: usize, out: &mut Vec<Item>) {
    let line_of = |offset: usize| first_line + markdown[..offset].matches('\n').count();
    let mut block: Option<(String, usize, String)> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => out.push(Item::Section),
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                // The body starts on the line after the fence.
                let body_line = line_of(range.start) + 1;
                block = Some((info, body_line, String::new()));
            }
            Event::Text(text) if block.is_some() => {
                block.as_mut().expect("in a block").2.push_str(&text);
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((info, line, body)) = block.take() else {
                    continue;
                };
                let lang = info.split([' ', ',']).next().unwrap_or("");
                if lang == "admonish" {
                    items(&body, line, out);
                } else if let Some(recording) = demo_command(&body) {
                    out.push(Item::Command {
                        line: line - 1,
                        recording,
                    });
                } else if lang == "text" {
                    out.push(Item::Text {
                        line: line - 1,
                        body,
                    });
                }
            }
            Event::Code(code) if block.is_none() => {
                if let Some(recording) = demo_command(&code) {
                    out.push(Item::Command {
                        line: line_of(range.start),
                        recording,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Problems with the output blocks of one chapter, and the recordings it
/// includes.
fn check_chapter(name: &str, markdown: &str, included: &mut BTreeSet<String>) -> Vec<String> {
    let mut list = Vec::new();
    items(markdown, 1, &mut list);
    let mut problems = Vec::new();
    for (i, item) in list.iter().enumerate() {
        if let Item::Text { body, .. } = item {
            for rest in body.split("{{#include measure/demos/").skip(1) {
                if let Some(stem) = rest.split(".txt}}").next() {
                    included.insert(stem.to_string());
                }
            }
        }
        let Item::Command { line, recording } = item else {
            continue;
        };
        // The output shown for this command: the first text block after it,
        // unless another command or a new section comes first.
        let shown = list[i + 1..]
            .iter()
            .take_while(|next| matches!(next, Item::Text { .. }))
            .next();
        if let Some(Item::Text { line: at, body }) = shown {
            let want = format!("{{{{#include measure/demos/{recording}.txt}}}}");
            if body.trim() != want {
                problems.push(format!(
                    "{name}:{at}: the output of `{recording}` (run at line {line}) is pasted; \
                     write `{want}` instead and record it with `cargo xtask bench --demos \
                     {recording} --out book/src/measure`"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_demo_output_is_a_recorded_run_and_every_recording_is_shown() {
    let src = src();
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    chapters.sort();
    let mut included = BTreeSet::new();
    let mut problems = Vec::new();
    for path in &chapters {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        problems.extend(check_chapter(&name, &text, &mut included));
    }
    let recorded: BTreeSet<String> = std::fs::read_dir(src.join("measure/demos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for stale in recorded.difference(&included) {
        problems.push(format!(
            "measure/demos/{stale}.txt is recorded but no chapter shows it: include it or \
             take it out of RUNS in xtask/bench/src/demos.rs"
        ));
    }
    assert!(
        included.len() >= 20,
        "only {} recordings shown",
        included.len()
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn a_pasted_output_is_found_in_a_block_inline_and_inside_an_admonition() {
    let mut seen = BTreeSet::new();
    let pasted =
        "## A\n\n```console\ncargo run -p demos --bin same-pid\n```\n\n```text\npid 1\n```\n";
    let problems = check_chapter("a.md", pasted, &mut seen);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("a.md:7:"), "{problems:?}");
    assert!(problems[0].contains("same-pid.txt"), "{problems:?}");

    let inline = "Run `cargo run --release -p demos --bin fork-cost`:\n\n```text\n1 µs\n```\n";
    let problems = check_chapter("b.md", inline, &mut seen);
    assert!(
        problems[0].contains("fork-cost.release.txt"),
        "{problems:?}"
    );

    let admonition = "````admonish question\nText.\n\n```text\ncargo run -p demos --bin x\n```\n\n```text\nout\n```\n````\n";
    assert_eq!(check_chapter("c.md", admonition, &mut seen).len(), 1);

    let recorded = "```text\ncargo run -p demos --bin x\n```\n\n```text\n{{#include measure/demos/x.txt}}\n```\n";
    assert!(check_chapter("d.md", recorded, &mut seen).is_empty());
    assert!(seen.contains("x"));

    // A release command shown with the debug recording is wrong too.
    let wrong = "```text\ncargo run --release -p demos --bin x\n```\n\n```text\n{{#include measure/demos/x.txt}}\n```\n";
    assert_eq!(check_chapter("e.md", wrong, &mut seen).len(), 1);

    // Output after a new section belongs to something else.
    let later = "```text\ncargo run -p demos --bin x\n```\n\n## Next\n\n```text\nother\n```\n";
    assert!(check_chapter("f.md", later, &mut seen).is_empty());
}
