//! Broken-link check of a built book: every `href` and `src` of every HTML
//! page that points inside the book must name a file that exists, and its
//! `#fragment`, if any, an `id` on that page.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// One broken link: the page it is on, the link as written, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub page: PathBuf,
    pub link: String,
    pub problem: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}`: {}",
            self.page.display(),
            self.link,
            self.problem
        )
    }
}

/// What was checked.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub pages: usize,
    pub links: usize,
    pub broken: Vec<Broken>,
}

/// Checks every `.html` file under `dir` (the built book). The 404 page is
/// skipped: its links are written for a web server's root, not for a file.
pub fn check(dir: &Path) -> std::io::Result<Report> {
    let mut pages = Vec::new();
    collect_html(dir, &mut pages)?;
    pages.sort();
    let mut ids: HashMap<PathBuf, HashSet<String>> = HashMap::new();
    let mut report = Report::default();
    for page in &pages {
        if page.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        report.pages += 1;
        let html = std::fs::read_to_string(page)?;
        for link in attribute_values(&html, &["href", "src"]) {
            let link = decode_entities(&link);
            if is_external(&link) {
                continue;
            }
            report.links += 1;
            let (path_part, fragment) = match link.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (link.as_str(), None),
            };
            let path_part = path_part.split('?').next().unwrap_or("");
            let target = if path_part.is_empty() {
                page.clone()
            } else {
                normalize(&page.parent().unwrap_or(dir).join(percent_decode(path_part)))
            };
            let problem = if !target.starts_with(dir) {
                Some("points outside the book".to_string())
            } else if !target.exists() {
                Some(format!("no file {}", target.display()))
            } else {
                match fragment.filter(|f| !f.is_empty()) {
                    Some(f) if target.extension().is_some_and(|e| e == "html") => {
                        let known = match ids.get(&target) {
                            Some(known) => known,
                            None => {
                                let text = std::fs::read_to_string(&target)?;
                                let found = attribute_values(&text, &["id", "name"])
                                    .into_iter()
                                    .map(|v| decode_entities(&v))
                                    .collect();
                                ids.entry(target.clone()).or_insert(found)
                            }
                        };
                        let f = percent_decode(f);
                        (!known.contains(&f))
                            .then(|| format!("no element with id `{f}` in {}", target.display()))
                    }
                    _ => None,
                }
            };
            if let Some(problem) = problem {
                report.broken.push(Broken {
                    page: page.strip_prefix(dir).unwrap_or(page).to_path_buf(),
                    link: link.clone(),
                    problem,
                });
            }
        }
    }
    Ok(report)
}

fn collect_html(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_html(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    Ok(())
}

fn is_external(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    link.starts_with("//")
        || ["http:", "https:", "mailto:", "javascript:", "data:", "tel:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
}

/// The values of the given attributes (double- or single-quoted) in `html`.
fn attribute_values(html: &str, names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let bytes = html.as_bytes();
    for name in names {
        let mut from = 0;
        while let Some(at) = html[from..].find(name) {
            let start = from + at;
            from = start + name.len();
            // A whole attribute name: preceded by whitespace, followed by `=`.
            let before_ok = start > 0 && bytes[start - 1].is_ascii_whitespace();
            let rest = html[from..].trim_start();
            let Some(rest) = rest.strip_prefix('=').map(str::trim_start) else {
                continue;
            };
            if !before_ok {
                continue;
            }
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            if let Some(end) = rest[1..].find(quote) {
                values.push(rest[1..1 + end].to_string());
            }
        }
    }
    values
}

fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_attribute_values() {
        let html = r#"<a href="a.html#x" data-href="no">x</a><img src='b.png'><h2 id="x">"#;
        assert_eq!(attribute_values(html, &["href"]), ["a.html#x"]);
        assert_eq!(attribute_values(html, &["src"]), ["b.png"]);
        assert_eq!(attribute_values(html, &["id"]), ["x"]);
    }

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%20b.html"), "a b.html");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(decode_entities("a&amp;b"), "a&b");
        assert_eq!(
            normalize(Path::new("/x/y/../z/./w.html")),
            PathBuf::from("/x/z/w.html")
        );
    }

    #[test]
    fn reports_missing_pages_and_anchors() {
        let dir = std::env::temp_dir().join(format!("book-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("index.html"),
            r##"<a href="b.html#here">ok</a> <a href="b.html#gone">no</a> <a href="c.html">no</a> <a href="#top">ok</a> <a href="https://x.org/">ext</a><div id="top"></div>"##,
        )
        .unwrap();
        std::fs::write(dir.join("b.html"), r#"<h1 id="here">B</h1>"#).unwrap();
        let report = check(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(report.pages, 2);
        assert_eq!(report.links, 4);
        let links: Vec<&str> = report.broken.iter().map(|b| b.link.as_str()).collect();
        assert_eq!(links, ["b.html#gone", "c.html"]);
    }
}
