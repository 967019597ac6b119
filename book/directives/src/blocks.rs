//! The code blocks of a chapter, seen the way rustdoc sees them.
//!
//! The book's chapters become rustdoc documentation in `book-doctests`, so
//! that `cargo test` compiles every Rust block. Markdown that mdbook and
//! rustdoc read differently is rewritten first by [`for_rustdoc`]:
//!
//! - an untagged fence (```` ``` ````) is plain text in the book but Rust for
//!   rustdoc: it becomes ```` ```text ````;
//! - an `admonish` fence is a box in the book whose body is Markdown, but an
//!   unknown language for rustdoc (which would skip the Rust blocks inside):
//!   its fence lines are blanked so the body is read as Markdown;
//! - an indented code block (four spaces) is Rust for rustdoc and cannot say
//!   its language: it is refused with its line, asking for a fence.
//!
//! Hidden lines (`# ` at the start of a line of a Rust block) need nothing:
//! mdbook folds them away on the page and rustdoc compiles them, the same rule.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// How rustdoc treats a code block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Compiled and run (`rust`, `should_panic`, ...).
    Run,
    /// Compiled, not run (`no_run`).
    NoRun,
    /// Must fail to compile (`compile_fail`).
    CompileFail,
    /// Not compiled at all (`ignore`): the book must have none.
    Ignore,
    /// Not Rust (`text`, `console`, `toml`, ...).
    NotRust,
}

impl Kind {
    /// The name used in reports and in generated code.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "Run",
            Kind::NoRun => "NoRun",
            Kind::CompileFail => "CompileFail",
            Kind::Ignore => "Ignore",
            Kind::NotRust => "NotRust",
        }
    }
}

/// One fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The info string (`rust,no_run`).
    pub info: String,
    pub kind: Kind,
}

/// Classifies a fence's info string like rustdoc does: a block is Rust when
/// it says `rust`, or when it is empty, or when every word is one rustdoc
/// knows (`no_run`, `ignore`, `edition2021`, ...).
pub fn classify(info: &str) -> Kind {
    let words: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let rust_word = |w: &&str| {
        matches!(
            *w,
            "rust"
                | "should_panic"
                | "no_run"
                | "ignore"
                | "test_harness"
                | "compile_fail"
                | "standalone_crate"
        ) || w.starts_with("ignore-")
            || w.starts_with("edition")
            || (w.len() == 5 && w.starts_with('E') && w[1..].parse::<u32>().is_ok())
    };
    let is_rust = words.contains(&"rust") || words.iter().all(rust_word);
    if !is_rust {
        Kind::NotRust
    } else if words
        .iter()
        .any(|w| *w == "ignore" || w.starts_with("ignore-"))
    {
        Kind::Ignore
    } else if words.contains(&"compile_fail") {
        Kind::CompileFail
    } else if words.contains(&"no_run") {
        Kind::NoRun
    } else {
        Kind::Run
    }
}

fn options() -> Options {
    // The extensions mdbook enables.
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The code blocks of `markdown` (top level only: an `admonish` block is one
/// block here; rewrite with [`for_rustdoc`] first to see inside it).
pub fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        if let Event::Start(Tag::CodeBlock(kind)) = event {
            let info = match kind {
                CodeBlockKind::Fenced(info) => info.to_string(),
                CodeBlockKind::Indented => String::new(),
            };
            blocks.push(Block {
                line: line_of(markdown, range.start),
                kind: classify(&info),
                info,
            });
        }
    }
    blocks
}

/// Rewrites a chapter (directives already expanded) so that rustdoc tests
/// exactly the Rust blocks the book shows. Line numbers do not change.
pub fn for_rustdoc(markdown: &str) -> Result<String, String> {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(kind)) = event else {
            continue;
        };
        let line = line_of(markdown, range.start);
        let info = match kind {
            CodeBlockKind::Indented => {
                return Err(format!(
                    "line {line}: an indented code block; use a fence with a language \
                     (```text, ```rust) so the book and the doctests agree on what it is"
                ))
            }
            CodeBlockKind::Fenced(info) => info.to_string(),
        };
        let block = &markdown[range.clone()];
        let opening_len = block.find('\n').unwrap_or(block.len());
        let fence: String = block
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        if info.split_whitespace().next() == Some("admonish") {
            let body_and_close = &block[(opening_len + 1).min(block.len())..];
            let trimmed = body_and_close.trim_end_matches(['\n', '\r']);
            let (body, close_len) = match trimmed.rfind('\n') {
                Some(nl) if is_closing(&trimmed[nl + 1..], &fence) => {
                    (&trimmed[..nl + 1], trimmed.len() - nl - 1)
                }
                None if is_closing(trimmed, &fence) => ("", trimmed.len()),
                _ => (body_and_close, 0), // unclosed: runs to the end
            };
            let inner = for_rustdoc(body)
                .map_err(|e| format!("in the admonition that starts on line {line}: {e}"))?;
            let start = range.start;
            let body_start = start + opening_len + 1;
            // Blank the fences, keep the body (rewritten) on its own lines.
            edits.push((start..start + opening_len, String::new()));
            if body_start <= markdown.len() && body_start + body.len() <= range.end {
                edits.push((body_start..body_start + body.len(), inner));
                let close_start = body_start + body.len();
                edits.push((close_start..close_start + close_len, String::new()));
            }
        } else if info.trim().is_empty() {
            edits.push((
                range.start..range.start + opening_len,
                format!("{fence}text"),
            ));
        }
    }
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&markdown[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    Ok(out)
}

fn is_closing(line: &str, fence: &str) -> bool {
    let line = line.trim();
    let Some(c) = fence.chars().next() else {
        return false;
    };
    !line.is_empty() && line.chars().all(|x| x == c) && line.len() >= fence.len()
}

/// Every code block rustdoc will see in `markdown` (a chapter with its
/// directives expanded), inside admonitions too.
pub fn rustdoc_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    Ok(fenced_blocks(&for_rustdoc(markdown)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_rustdoc() {
        assert_eq!(classify("rust"), Kind::Run);
        assert_eq!(classify(""), Kind::Run);
        assert_eq!(classify("rust,editable"), Kind::Run);
        assert_eq!(classify("should_panic"), Kind::Run);
        assert_eq!(classify("rust,no_run"), Kind::NoRun);
        assert_eq!(classify("compile_fail,E0277"), Kind::CompileFail);
        assert_eq!(classify("rust ignore"), Kind::Ignore);
        assert_eq!(classify("ignore"), Kind::Ignore);
        assert_eq!(classify("text"), Kind::NotRust);
        assert_eq!(classify("console"), Kind::NotRust);
        assert_eq!(classify("admonish tip"), Kind::NotRust);
    }

    #[test]
    fn untagged_fences_become_text() {
        let md = "Intro\n\n```\nls -l\n```\n\n```rust\nfn main() {}\n```\n";
        let out = for_rustdoc(md).unwrap();
        assert_eq!(
            out,
            "Intro\n\n```text\nls -l\n```\n\n```rust\nfn main() {}\n```\n"
        );
        let kinds: Vec<Kind> = fenced_blocks(&out).iter().map(|b| b.kind).collect();
        assert_eq!(kinds, [Kind::NotRust, Kind::Run]);
    }

    #[test]
    fn admonition_bodies_are_opened_and_lines_kept() {
        let md = "Top\n\n````admonish question title=\"Q\" collapsible=true\nWhat does it print?\n\n```rust,no_run\nfn main() {}\n```\n\n```\nplain\n```\n````\n\nEnd\n";
        let out = for_rustdoc(md).unwrap();
        assert_eq!(out.lines().count(), md.lines().count(), "{out}");
        assert!(!out.contains("admonish"), "{out}");
        let blocks = fenced_blocks(&out);
        assert_eq!(
            blocks,
            [
                Block {
                    line: 6,
                    info: "rust,no_run".into(),
                    kind: Kind::NoRun
                },
                Block {
                    line: 10,
                    info: "text".into(),
                    kind: Kind::NotRust
                },
            ]
        );
        assert!(out.ends_with("\n\nEnd\n"), "{out:?}");
    }

    #[test]
    fn indented_blocks_are_refused() {
        let err = for_rustdoc("Text\n\n    let x = 1;\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }
}
