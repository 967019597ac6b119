//! The number guard: chapter prose may not type a measured number.
//!
//! A figure that a machine measured (a spawn time, a throughput, a count of
//! lost updates) must come from the recorded runs through
//! `{{#course-bench ...}}`, so that a new recording moves the prose with it.
//! This module finds the numbers a chapter types by hand:
//!
//! - a number with a unit or a multiplier: `50 µs`, `1.2 ms`, `3 s`,
//!   `64 KiB`, `2 MiB`, `64 B`, `16 pages`, `30 %`, `25×`, `25 times`,
//!   `10-second`;
//! - a duration, size or multiplier in words: `a few microseconds`,
//!   `tens of microseconds`, `a few hundred milliseconds`, `a millisecond`,
//!   `a second of work` (but not the ordinal `a second thread`),
//!   `several times slower`, `twice as fast`, `an order of magnitude`;
//! - a hedged count: `over a million`, `almost 7`, `about 90`, `~13`.
//!
//! It looks only at prose: code blocks (recorded outputs included) and
//! inline code are skipped, the body of an `admonish` block is prose again,
//! and every `{{#...}}` directive is taken out before the search, so a
//! figure a directive writes is never seen.
//!
//! What remains must be a constant listed in the allowlist
//! (`book/number-allowlist.toml`), each entry with the texts it allows, the
//! chapters it may appear in, its source and why it is a constant and not a
//! measurement. An entry that allows nothing is stale and an error too.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use regex::Regex;
use serde::Deserialize;

/// The allowlist, relative to the book folder (`book/`).
pub const ALLOWLIST: &str = "number-allowlist.toml";

/// A typed number found in a chapter's prose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// 1-based line in the chapter.
    pub line: usize,
    /// The matched words, as written (whitespace folded to one space).
    pub text: String,
}

/// The allowlist file: `[[constant]]` entries.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub constant: Vec<Constant>,
}

/// One allowed constant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    /// The texts as the guard reports them (`16 pages`), compared without
    /// regard to case or spacing: one value, or the numbers of one worked
    /// example.
    pub texts: Vec<String>,
    /// The chapters (file names, `step4-pipe-ipc.md`) it may appear in.
    pub chapters: Vec<String>,
    /// Where the value is documented: a man page, a docs link, a program
    /// of this repository.
    pub source: String,
    /// Why it is a constant (a documented default, a program's parameter)
    /// and not something a machine measured.
    pub why: String,
}

impl Allowlist {
    /// Parses the allowlist; every entry needs a text, a chapter, a source
    /// and a reason.
    pub fn parse(text: &str, origin: &str) -> Result<Allowlist, String> {
        let list: Allowlist = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        for (i, c) in list.constant.iter().enumerate() {
            let what = format!("{origin}: constant {} (`{}`)", i + 1, c.texts.join("`, `"));
            if c.texts.is_empty() || c.texts.iter().any(|t| t.trim().is_empty()) {
                return Err(format!("{what}: `texts` must list the words it allows"));
            }
            if c.chapters.is_empty() {
                return Err(format!("{what}: list the `chapters` it appears in"));
            }
            if c.source.trim().len() < 10 {
                return Err(format!(
                    "{what}: `source` must say where the value is documented"
                ));
            }
            if c.why.trim().len() < 10 {
                return Err(format!(
                    "{what}: `why` must say why it is a constant, not a measurement"
                ));
            }
        }
        Ok(list)
    }

    /// Reads `book/number-allowlist.toml` (`book` is the book folder).
    pub fn load(book: &Path) -> Result<Allowlist, String> {
        let path = book.join(ALLOWLIST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Allowlist::parse(&text, &path.display().to_string())
    }

    /// The entry that allows `text` in `chapter`, by index.
    fn allows(&self, chapter: &str, text: &str) -> Option<usize> {
        let want = fold(text);
        self.constant.iter().position(|c| {
            c.texts.iter().any(|t| fold(t) == want) && c.chapters.iter().any(|ch| ch == chapter)
        })
    }
}

fn fold(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The prose of a chapter: pieces of running text (a paragraph, a heading,
/// a list item, a table cell, an admonition's title), each with the source
/// offset of every text run in it.
struct Piece {
    text: String,
    /// (offset in `text`, line in the chapter) at the start of each run.
    lines: Vec<(usize, usize)>,
}

impl Piece {
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .iter()
            .take_while(|(at, _)| *at <= offset)
            .last()
            .or(self.lines.first())
            .map_or(1, |(_, line)| *line)
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Splits `markdown` (starting on line `first_line`) into prose pieces,
/// opening admonitions and skipping every other code block.
fn pieces(markdown: &str, first_line: usize, out: &mut Vec<Piece>) {
    let line_of = |offset: usize| first_line + markdown[..offset].matches('\n').count();
    let mut current = Piece {
        text: String::new(),
        lines: Vec::new(),
    };
    let flush = |current: &mut Piece, out: &mut Vec<Piece>| {
        if !current.text.trim().is_empty() {
            out.push(std::mem::replace(
                current,
                Piece {
                    text: String::new(),
                    lines: Vec::new(),
                },
            ));
        } else {
            current.text.clear();
            current.lines.clear();
        }
    };
    let mut block: Option<(String, usize, String)> = None;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        if let Some((_, _, body)) = block.as_mut() {
            match event {
                Event::Text(text) => body.push_str(&text),
                Event::End(TagEnd::CodeBlock) => {
                    let (info, line, body) = block.take().expect("in a block");
                    if info.split_whitespace().next() == Some("admonish") {
                        if let Some(title) = title_of(&info) {
                            out.push(Piece {
                                text: title,
                                lines: vec![(0, line - 1)],
                            });
                        }
                        pieces(&body, line, out);
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                flush(&mut current, out);
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                block = Some((info, line_of(range.start) + 1, String::new()));
            }
            Event::Text(text) => {
                current
                    .lines
                    .push((current.text.len(), line_of(range.start)));
                current.text.push_str(&text);
            }
            // Inline code is code; a footnote mark or a rule is nothing.
            Event::Code(_) | Event::InlineHtml(_) | Event::Html(_) => current.text.push_str(" ‹› "),
            Event::SoftBreak | Event::HardBreak => current.text.push(' '),
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. },
            )
            | Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            // Any other start or end is a block boundary.
            Event::Start(_) | Event::End(_) | Event::Rule | Event::TaskListMarker(_) => {
                flush(&mut current, out)
            }
            Event::FootnoteReference(_) => current.text.push_str(" ‹› "),
        }
    }
    flush(&mut current, out);
}

/// `title="..."` of an admonition's info string.
fn title_of(info: &str) -> Option<String> {
    let start = info.find("title=\"")? + "title=\"".len();
    let len = info[start..].find('"')?;
    Some(info[start..start + len].to_string())
}

/// Every `{{#...}}` directive, replaced by a mark that no rule matches.
fn without_directives(text: &str) -> String {
    static DIRECTIVE: OnceLock<Regex> = OnceLock::new();
    let re = DIRECTIVE.get_or_init(|| Regex::new(r"\\*\{\{#[^}]*\}\}").expect("valid"));
    // The same length in bytes, so offsets (and so lines) stay right.
    re.replace_all(text, |c: &regex::Captures| "#".repeat(c[0].len()))
        .into_owned()
}

/// Spelled-out numbers, for the rules below.
const WORDS: &str = "a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\
    fifteen|twenty|thirty|forty|fifty|sixty|a\\s+hundred|a\\s+thousand|hundreds\\s+of|\
    thousands\\s+of|millions\\s+of|tens\\s+of|dozens\\s+of|a\\s+few|few|several|many|\
    a\\s+couple\\s+of|half\\s+a|a\\s+fraction\\s+of\\s+a";

/// The rules: what a typed number looks like.
fn rules() -> &'static [Regex] {
    static RULES: OnceLock<Vec<Regex>> = OnceLock::new();
    RULES.get_or_init(|| {
        let num = r"\d+(?:[.,]\d+)*";
        let units = r"ns|µs|μs|us|ms|s|secs?|seconds?|minutes?|mins?|hours?|h|B|bytes?|kB|KB|KiB|MB|MiB|GB|GiB|TB|TiB|MB/s|GB/s|pages?|percent|per\s+cent|times|fold";
        let time_words = r"ns|µs|ms|KiB|MiB|GiB|KB|MB|GB|nanoseconds?|microseconds?|milliseconds?|seconds|minutes?|hours?|kilobytes?|megabytes?|gigabytes?|kibibytes?|mebibytes?|gibibytes?|bytes|pages";
        let comparative = r"slower|faster|more|less|fewer|as|the|larger|bigger|smaller|cheaper|dearer|longer|shorter|higher|lower|what|that|over";
        let hedge = r"over|about|around|almost|nearly|roughly|approximately|more\s+than|less\s+than|fewer\s+than|well\s+under|under|up\s+to|close\s+to|some";
        [
            // 50 µs, 1.2 ms, 64 KiB, 16 pages, 25 times, 10-second
            format!(r"\b{num}(?:[\s\u{{a0}}\u{{202f}}]|-)?(?:{units})\b"),
            // 30 %, 25×, 25x
            format!(r"\b{num}[\s\u{{a0}}\u{{202f}}]?(?:%|×|x\b)"),
            // a few microseconds, tens of microseconds, a few hundred milliseconds
            format!(r"(?i)\b(?:{WORDS})(?:\s+(?:hundred|thousand))?[\s-]+(?:{time_words})\b"),
            // a millisecond, a microsecond, a minute
            r"(?i)\b(?:a|an|one|half\s+a)\s+(?:nanosecond|microsecond|millisecond|minute|hour)\b"
                .to_string(),
            // a second of work (the ordinal "a second thread" is filtered out below)
            r"(?i)\b(?:a|one|half\s+a)\s+second\b(?:\s+(?:of|or|later|long|per|apart|each)\b|\s*[.,;:)!?]|\s*$)"
                .to_string(),
            // several times slower, ten times the cost
            format!(r"(?i)\b(?:{WORDS})\s+times\s+(?:{comparative})\b"),
            // twice as fast, half as much, an order of magnitude
            r"(?i)\b(?:twice|half|thrice)\s+(?:as|the)\b".to_string(),
            r"(?i)\b(?:an|one|two|three|several|many)\s+orders?\s+of\s+magnitude\b".to_string(),
            // over a million, almost 7, about 90
            format!(
                r"(?i)\b(?:{hedge})\s+(?:(?:{WORDS}|{num})\s+(?:hundred|thousand|million|billion)|{num})\b"
            ),
            // ~13
            format!(r"~\s?{num}"),
        ]
        .iter()
        .map(|r| Regex::new(r).expect("a valid rule"))
        .collect()
    })
}

/// The typed numbers in the prose of `markdown`, in order.
pub fn typed_numbers(markdown: &str) -> Vec<Typed> {
    let mut list = Vec::new();
    pieces(markdown, 1, &mut list);
    let mut found = Vec::new();
    for piece in &list {
        let text = without_directives(&piece.text);
        let mut spans: Vec<(usize, usize)> = rules()
            .iter()
            .flat_map(|re| re.find_iter(&text).map(|m| (m.start(), m.end())))
            .collect();
        spans.sort_unstable();
        // Overlapping matches are one number: `about 25` and `25 times`.
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        for (start, end) in merged {
            let words = text[start..end]
                .trim_end_matches(|c: char| ".,;:)!?".contains(c) || c.is_whitespace());
            found.push(Typed {
                line: piece.line_at(start),
                text: fold_spaces(words),
            });
        }
    }
    found
}

fn fold_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The typed numbers of one chapter that the allowlist does not allow, as
/// messages; the entries used are added to `used`.
pub fn check_chapter(
    name: &str,
    markdown: &str,
    allow: &Allowlist,
    used: &mut BTreeSet<usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for typed in typed_numbers(markdown) {
        match allow.allows(name, &typed.text) {
            Some(i) => {
                used.insert(i);
            }
            None => problems.push(format!(
                "{name}:{}: `{}` is a number typed into the prose; take it from the \
                 recorded run with {{{{#course-bench ...}}}}, say it without a number, or, \
                 if it is a documented constant, add it to book/{ALLOWLIST} with its source",
                typed.line, typed.text
            )),
        }
    }
    problems
}

/// Checks every chapter of the book folder `book` (its `src/*.md`) against
/// its allowlist: the problems, and the entries that allowed nothing.
pub fn check_book(book: &Path) -> Result<(), String> {
    let allow = Allowlist::load(book)?;
    let src = book.join("src");
    let mut chapters: Vec<_> = std::fs::read_dir(&src)
        .map_err(|e| format!("cannot read {}: {e}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    chapters.sort();
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for path in &chapters {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        problems.extend(check_chapter(&name, &text, &allow, &mut used));
    }
    for (i, c) in allow.constant.iter().enumerate() {
        if !used.contains(&i) {
            problems.push(format!(
                "book/{ALLOWLIST}: `{}` (in {}) allows nothing any more; take it out",
                c.texts.join("`, `"),
                c.chapters.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(markdown: &str) -> Vec<String> {
        typed_numbers(markdown)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn a_typed_multiplier_is_found() {
        assert_eq!(
            typed("A process costs about 25 times as much as a thread.\n"),
            ["about 25 times"]
        );
        assert_eq!(typed("It is 25× slower, or 25x.\n"), ["25×", "25x"]);
        assert_eq!(
            typed("Pipes are several times slower than channels.\n"),
            ["several times slower"]
        );
        assert_eq!(typed("Twice as fast.\n"), ["Twice as"]);
    }

    #[test]
    fn a_spelled_out_duration_is_found_but_not_an_ordinal() {
        assert_eq!(
            typed("A millisecond of start-up disappears in a second of work.\n"),
            ["A millisecond", "a second of"]
        );
        assert_eq!(typed("It waits for a second.\n"), ["a second"]);
        assert!(typed("Start a second thread, then a second process.\n").is_empty());
        assert_eq!(
            typed("A thread is over in a few microseconds; this takes tens of microseconds, that a few hundred milliseconds.\n"),
            ["a few microseconds", "tens of microseconds", "a few hundred milliseconds"]
        );
    }

    #[test]
    fn numbers_with_units_and_hedged_counts_are_found() {
        assert_eq!(
            typed("It took 50.9 µs, 1.2 ms or 3 s, used 64 KiB and 16 pages, 30 % of it.\n"),
            ["50.9 µs", "1.2 ms", "3 s", "64 KiB", "16 pages", "30 %"]
        );
        assert_eq!(
            typed("It loses over a million of them, built from almost 7 MB, ~13 of them.\n"),
            ["over a million", "almost 7 MB", "~13"]
        );
        assert_eq!(typed("A 10-second job.\n"), ["10-second"]);
    }

    #[test]
    fn directives_code_and_plain_counts_are_not_numbers() {
        let md = "\
It took {{#course-bench spawn.thread_us.median}}, \
{{#course-bench spawn.process_us.median / spawn.thread_us.median}} times as much{{#course-claim a > 1}}.

Run `sleep 5s` and see error E0277 in step 5 with four threads and a million increments, rustc 1.95.

```text
took 50.9 µs, 25 times
```

````admonish question title=\"Predict\"
Inside the box it is 3 ms.

```rust
let d = Duration::from_millis(500); // 500 ms
```
````
";
        let found = typed_numbers(md);
        assert_eq!(
            found,
            [Typed {
                line: 10,
                text: "3 ms".into()
            }]
        );
    }

    #[test]
    fn lines_are_those_of_the_chapter() {
        let md = "# Title\n\nFirst line\nsecond line took 5 ms\n\n- item with 2 MiB\n";
        let found = typed_numbers(md);
        assert_eq!(found[0].line, 4);
        assert_eq!(found[1].line, 6);
    }

    fn allowlist() -> Allowlist {
        Allowlist::parse(
            r#"
[[constant]]
texts = ["16 pages"]
chapters = ["step4.md"]
source = "pipe(7): the pipe capacity is 16 pages since Linux 2.6.11"
why = "a kernel default, the same on every Linux machine"
"#,
            "test.toml",
        )
        .unwrap()
    }

    #[test]
    fn an_allowlisted_constant_passes_in_its_chapters_only() {
        let allow = allowlist();
        let mut used = BTreeSet::new();
        let md = "A pipe holds 16 pages by default on Linux.\n";
        assert!(check_chapter("step4.md", md, &allow, &mut used).is_empty());
        assert!(used.contains(&0));
        let problems = check_chapter("other.md", md, &allow, &mut BTreeSet::new());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("other.md:1: `16 pages`"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_guard_refuses_about_25_times_and_a_second_of_work_in_a_chapter() {
        let allow = allowlist();
        let md = "# Spawn cost\n\nA process costs about 25 times as much.\n\n\
                  A millisecond of start-up is nothing next to a second of work.\n";
        let problems = check_chapter("measure.md", md, &allow, &mut BTreeSet::new());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("measure.md:3: `about 25 times`"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("measure.md:5: `A millisecond`"),
            "{problems:?}"
        );
        assert!(
            problems[2].starts_with("measure.md:5: `a second of`"),
            "{problems:?}"
        );
    }

    #[test]
    fn an_entry_without_a_source_or_a_reason_is_refused() {
        let e = Allowlist::parse(
            "[[constant]]\ntexts = [\"2 MiB\"]\nchapters = [\"a.md\"]\nsource = \"\"\nwhy = \"the default stack size\"\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("`source`"), "{e}");
        let e = Allowlist::parse(
            "[[constant]]\ntexts = [\"2 MiB\"]\nchapters = [\"a.md\"]\nsource = \"std::thread docs\"\nwhy = \"\"\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("`why`"), "{e}");
        assert!(Allowlist::parse("[[constant]]\ntexts = [\"x\"]\n", "t.toml").is_err());
    }
}
