//! mdbook's link directives, expanded as mdbook 0.4 does it:
//!
//! - `{{#include path}}`, `{{#include path:anchor}}`, `{{#include path:3}}`,
//!   `{{#include path:3:10}}`, `{{#include path::10}}`, `{{#include path:3:}}`;
//!   lines holding `ANCHOR:` / `ANCHOR_END:` markers are dropped;
//! - `{{#rustdoc_include ...}}`: the whole file, the lines outside the range or
//!   anchor hidden with `# ` (rustdoc compiles them, the page folds them away);
//! - `{{#playground path attrs}}`: the file in a ```` ```rust,attrs ```` fence;
//! - `{{#title ...}}`: removed (it only changes the page title);
//! - `\{{#...}}`: an escaped directive, printed without the backslash.
//!
//! Included text is expanded again (relative to the included file), up to
//! ten levels deep. Unlike mdbook, which logs a missing file and carries on,
//! a file that cannot be read is an error.

use std::path::{Path, PathBuf};

const MAX_DEPTH: usize = 10;

/// Text with its includes expanded, and the files that were read.
#[derive(Debug, Clone, Default)]
pub struct Included {
    pub text: String,
    pub files: Vec<PathBuf>,
}

/// Expands the link directives of `text`, whose relative paths start at `base`
/// (the directory of the chapter).
pub fn expand(text: &str, base: &Path) -> Result<Included, String> {
    let mut files = Vec::new();
    let text = expand_at(text, base, 0, &mut files)?;
    Ok(Included { text, files })
}

fn expand_at(
    text: &str,
    base: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = next_directive(rest) {
        out.push_str(&rest[..found.start]);
        match found.kind {
            Kind::Escaped => out.push_str(&rest[found.start + 1..found.end]),
            Kind::Title => {}
            Kind::Include {
                path,
                selection,
                rustdoc,
            } => {
                let target = base.join(&path);
                let content = read(&target, &rest[found.start..found.end])?;
                files.push(target.clone());
                let content = match (&selection, rustdoc) {
                    (Selection::Lines(from, to), false) => take_lines(&content, *from, *to),
                    (Selection::Anchor(anchor), false) => take_anchored(&content, anchor),
                    (Selection::Lines(from, to), true) => {
                        take_lines_hiding_rest(&content, *from, *to)
                    }
                    (Selection::Anchor(anchor), true) => {
                        take_anchored_hiding_rest(&content, anchor)
                    }
                };
                out.push_str(&expand_nested(&content, &target, depth, files)?);
            }
            Kind::Playground { path, attrs } => {
                let target = base.join(&path);
                let mut content = read(&target, &rest[found.start..found.end])?;
                files.push(target.clone());
                if !content.ends_with('\n') {
                    content.push('\n');
                }
                let info = if attrs.is_empty() {
                    "rust".to_string()
                } else {
                    format!("rust,{}", attrs.join(","))
                };
                let block = format!("```{info}\n{content}```\n");
                out.push_str(&expand_nested(&block, &target, depth, files)?);
            }
        }
        rest = &rest[found.end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Included text is expanded relative to the included file's directory.
fn expand_nested(
    content: &str,
    target: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
) -> Result<String, String> {
    if depth + 1 > MAX_DEPTH {
        return Err(format!(
            "includes nested more than {MAX_DEPTH} levels deep at {}: a file includes itself?",
            target.display()
        ));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    expand_at(content, dir, depth + 1, files)
}

fn read(target: &Path, directive: &str) -> Result<String, String> {
    std::fs::read_to_string(target)
        .map_err(|e| format!("{directive}: cannot read {}: {e}", target.display()))
}

#[derive(Debug, PartialEq)]
enum Selection {
    /// 0-based start (inclusive) and end (exclusive); `None` is open.
    Lines(Option<usize>, Option<usize>),
    Anchor(String),
}

#[derive(Debug, PartialEq)]
enum Kind {
    Escaped,
    Title,
    Include {
        path: String,
        selection: Selection,
        rustdoc: bool,
    },
    Playground {
        path: String,
        attrs: Vec<String>,
    },
}

#[derive(Debug)]
struct Found {
    start: usize,
    end: usize,
    kind: Kind,
}

/// The next directive in `s`, mirroring mdbook's expression
/// `\\\{\{\#.*\}\}|\{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}`.
fn next_directive(s: &str) -> Option<Found> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(offset) = s[from..].find("{{") {
        let open = from + offset;
        // An escaped directive: `\{{#` up to the last `}}` on the line.
        if open > 0 && bytes[open - 1] == b'\\' && s[open + 2..].starts_with('#') {
            let line_end = s[open..].find('\n').map_or(s.len(), |n| open + n);
            if let Some(close) = s[open..line_end].rfind("}}") {
                return Some(Found {
                    start: open - 1,
                    end: open + close + 2,
                    kind: Kind::Escaped,
                });
            }
        }
        match parse_directive(s, open) {
            Some((end, Some(kind))) => {
                return Some(Found {
                    start: open,
                    end,
                    kind,
                })
            }
            // A well-formed directive that is not a link (mdbook skips it).
            Some((end, None)) => from = end,
            None => from = open + 1,
        }
    }
    None
}

/// Parses `{{ #name rest}}` at `open`: the end offset and the link, if it is one.
fn parse_directive(s: &str, open: usize) -> Option<(usize, Option<Kind>)> {
    let after = &s[open + 2..];
    let trimmed = after.trim_start();
    let mut pos = open + 2 + (after.len() - trimmed.len());
    let name_part = trimmed.strip_prefix('#')?;
    pos += 1;
    let name_len = name_part
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(name_part.len());
    if name_len == 0 {
        return None;
    }
    let name = &name_part[..name_len];
    pos += name_len;
    let after_name = &s[pos..];
    let rest_start = after_name.trim_start();
    if rest_start.len() == after_name.len() {
        return None; // no whitespace after the name
    }
    pos += after_name.len() - rest_start.len();
    let rest_len = rest_start.find('}').unwrap_or(rest_start.len());
    if rest_len == 0 || !rest_start[rest_len..].starts_with("}}") {
        return None;
    }
    let rest = &rest_start[..rest_len];
    let end = pos + rest_len + 2;
    let mut words = rest.split_whitespace();
    let kind = match (name, words.next()) {
        ("title", _) => Some(Kind::Title),
        ("include", Some(arg)) => Some(parse_include(arg, false)),
        ("rustdoc_include", Some(arg)) => Some(parse_include(arg, true)),
        ("playground" | "playpen", Some(path)) => Some(Kind::Playground {
            path: path.to_string(),
            attrs: words.map(str::to_string).collect(),
        }),
        _ => None,
    };
    Some((end, kind))
}

fn parse_include(arg: &str, rustdoc: bool) -> Kind {
    let (path, selection) = match arg.split_once(':') {
        Some((path, sel)) => (path, parse_selection(sel)),
        None => (arg, Selection::Lines(None, None)),
    };
    Kind::Include {
        path: path.to_string(),
        selection,
        rustdoc,
    }
}

/// `anchor`, `3`, `3:10`, `:10`, `3:` (lines are 1-based and inclusive).
fn parse_selection(sel: &str) -> Selection {
    let mut parts = sel.splitn(2, ':');
    let first = parts.next().unwrap_or("");
    let start = if let Ok(n) = first.parse::<usize>() {
        Some(n.saturating_sub(1))
    } else if first.is_empty() {
        None
    } else {
        return Selection::Anchor(first.to_string());
    };
    let end = parts.next().map(|s| s.parse::<usize>());
    match (start, end) {
        (Some(start), Some(Ok(end))) => Selection::Lines(Some(start), Some(end)),
        (Some(start), Some(Err(_))) => Selection::Lines(Some(start), None),
        (Some(start), None) => Selection::Lines(Some(start), Some(start + 1)),
        (None, Some(Ok(end))) => Selection::Lines(None, Some(end)),
        (None, _) => Selection::Lines(None, None),
    }
}

fn in_range(index: usize, from: Option<usize>, to: Option<usize>) -> bool {
    from.is_none_or(|f| index >= f) && to.is_none_or(|t| index < t)
}

fn take_lines(s: &str, from: Option<usize>, to: Option<usize>) -> String {
    s.lines()
        .enumerate()
        .filter(|(i, _)| in_range(*i, from, to))
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

fn take_lines_hiding_rest(s: &str, from: Option<usize>, to: Option<usize>) -> String {
    s.lines()
        .enumerate()
        .map(|(i, l)| {
            if in_range(i, from, to) {
                l.to_string()
            } else {
                format!("# {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The anchor named in a line after `marker` (`ANCHOR:` or `ANCHOR_END:`).
fn anchor_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let mut search = line;
    while let Some(at) = search.find(marker) {
        let after = search[at + marker.len()..].trim_start();
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        if len > 0 {
            return Some(&after[..len]);
        }
        search = &search[at + marker.len()..];
    }
    None
}

fn anchor_start(line: &str) -> Option<&str> {
    anchor_after(line, "ANCHOR:")
}

fn anchor_end(line: &str) -> Option<&str> {
    anchor_after(line, "ANCHOR_END:")
}

fn take_anchored(s: &str, anchor: &str) -> String {
    let mut kept = Vec::new();
    let mut inside = false;
    for line in s.lines() {
        if inside {
            match anchor_end(line) {
                Some(name) if name == anchor => break,
                Some(_) => {}
                None if anchor_start(line).is_none() => kept.push(line),
                None => {}
            }
        } else if anchor_start(line) == Some(anchor) {
            inside = true;
        }
    }
    kept.join("\n")
}

fn take_anchored_hiding_rest(s: &str, anchor: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in s.lines() {
        if inside {
            match anchor_end(line) {
                Some(name) if name == anchor => inside = false,
                Some(_) => {}
                None if anchor_start(line).is_none() => out.push(line.to_string()),
                None => {}
            }
        } else if let Some(name) = anchor_start(line) {
            inside = name == anchor;
        } else if anchor_end(line).is_none() {
            out.push(format!("# {line}"));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "fn hidden() {}\n// ANCHOR: main\nfn main() {\n    // ANCHOR: inner\n    work();\n    // ANCHOR_END: inner\n}\n// ANCHOR_END: main\nfn after() {}\n";

    fn fixture(test: &str) -> (tempdir::Dir, PathBuf) {
        let dir = tempdir::Dir::new(test);
        let file = dir.path().join("demo.rs");
        std::fs::write(&file, FILE).unwrap();
        let path = dir.path().to_path_buf();
        (dir, path)
    }

    mod tempdir {
        use std::path::{Path, PathBuf};
        pub struct Dir(PathBuf);
        impl Dir {
            pub fn new(name: &str) -> Dir {
                let path = std::env::temp_dir()
                    .join(format!("book-directives-{name}-{}", std::process::id()));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn anchors_drop_their_marker_lines() {
        let (_dir, base) = fixture("anchors_drop_their_marker_lines");
        let out = expand("```rust\n{{#include demo.rs:main}}\n```", &base).unwrap();
        assert_eq!(
            out.text, "```rust\nfn main() {\n    work();\n}\n```",
            "{}",
            out.text
        );
        assert_eq!(out.files, vec![base.join("demo.rs")]);
    }

    #[test]
    fn line_ranges_are_one_based_and_inclusive() {
        let (_dir, base) = fixture("line_ranges_are_one_based_and_inclusive");
        let text = |d: &str| expand(d, &base).unwrap().text;
        assert_eq!(text("{{#include demo.rs:1}}"), "fn hidden() {}");
        assert_eq!(
            text("{{#include demo.rs:1:2}}"),
            "fn hidden() {}\n// ANCHOR: main"
        );
        assert_eq!(text("{{#include demo.rs::1}}"), "fn hidden() {}");
        assert_eq!(text("{{#include demo.rs:9:}}"), "fn after() {}");
        assert_eq!(text("{{#include demo.rs}}"), FILE.trim_end());
    }

    #[test]
    fn rustdoc_include_hides_the_rest() {
        let (_dir, base) = fixture("rustdoc_include_hides_the_rest");
        let out = expand("{{#rustdoc_include demo.rs:inner}}", &base).unwrap();
        assert_eq!(
            out.text,
            "# fn hidden() {}\n# fn main() {\n    work();\n# }\n# fn after() {}"
        );
    }

    #[test]
    fn escaped_and_unknown_directives_stay() {
        let (_dir, base) = fixture("escaped_and_unknown_directives_stay");
        let text = |d: &str| expand(d, &base).unwrap().text;
        assert_eq!(text(r"\{{#include demo.rs}}"), "{{#include demo.rs}}");
        assert_eq!(text("{{#course-step step1}}"), "{{#course-step step1}}");
        assert_eq!(text("{{#other x}} {{#title T}}!"), "{{#other x}} !");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let (_dir, base) = fixture("a_missing_file_is_an_error");
        let err = expand("{{#include nope.rs:main}}", &base).unwrap_err();
        assert!(err.contains("nope.rs"), "{err}");
    }
}
