//! The given API, pinned: each checks crate has `src/signatures.rs`, which
//! compiles only against the signatures the exercise gives (each line ends
//! with a `// given: …` comment). When the checks stop compiling there, the
//! learner changed a signature; this module turns the compiler's error in a
//! file the learner must not edit into a message about the item they
//! changed.

use std::path::Path;

use course::Step;

use crate::build::Diagnostic;

/// The file that pins the given API of `step`, relative to the root.
pub fn signatures_file(step: &Step) -> String {
    format!("{}/src/signatures.rs", step.checks_crate())
}

/// A given signature the learner's code no longer has.
#[derive(Debug, PartialEq, Eq)]
pub struct Changed {
    /// The item: `count_in_background`, `Histogram::add`.
    pub item: String,
    /// The signature (or the bounds) to keep, as the exercise gives it.
    pub given: String,
}

/// The changed signature the first error points at, when the first error
/// is in the step's `signatures.rs`.
pub fn changed_signature(root: &Path, step: &Step, diagnostics: &[Diagnostic]) -> Option<Changed> {
    let pinned = signatures_file(step);
    let (file, line) = diagnostics.iter().find(|d| d.is_error)?.file.as_ref()?;
    if !file.replace('\\', "/").ends_with(&pinned) {
        return None;
    }
    let text = std::fs::read_to_string(root.join(&pinned)).ok()?;
    explain(&text, *line)
}

/// The item and given signature for an error at `line` (1-based) of a
/// `signatures.rs` whose text is `text`.
fn explain(text: &str, line: usize) -> Option<Changed> {
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1).filter(|&i| i < lines.len())?;
    // The comment is on the line of the error, or the error is elsewhere in
    // a helper whose body has it (a bound in a `where` clause).
    let own = given_of(lines[at]);
    let helper_start = (0..=at).rev().find(|&i| is_fn_line(lines[i]));
    let given = own.or_else(|| {
        let start = helper_start?;
        lines[start..]
            .iter()
            .take_while(|l| !l.starts_with('}'))
            .find_map(|l| given_of(l))
    })?;
    // A helper's bounds are shown with the helper's signature, which is
    // the given one.
    let given = match helper_start {
        Some(start) if !given.contains("fn ") => {
            let signature: Vec<&str> = lines[start..]
                .iter()
                .take_while(|l| !l.starts_with('{'))
                .map(|l| l.trim_end())
                .collect();
            signature.join("\n")
        }
        _ => given,
    };
    let item = lines[at]
        .split("= ")
        .nth(1)
        .and_then(path_of)
        .or_else(|| item_of(&given))
        .or_else(|| helper_start.and_then(|i| item_of(lines[i].trim())))?;
    Some(Changed { item, given })
}

fn given_of(line: &str) -> Option<String> {
    if line.trim_start().starts_with("//") {
        return None; // prose about the pins
    }
    let (_, given) = line.split_once("// given:")?;
    Some(given.trim().to_string())
}

fn is_fn_line(line: &str) -> bool {
    line.starts_with("pub fn ") || line.starts_with("fn ")
}

/// `count_in_background` from `pub fn count_in_background<F>(…`.
fn item_of(signature: &str) -> Option<String> {
    let rest = signature.split_once("fn ")?.1;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// `Histogram::add` from `Histogram::add; // given: …`, dropping a
/// leading `subject::`.
fn path_of(expression: &str) -> Option<String> {
    let path: String = expression
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let path = path.strip_prefix("subject::").unwrap_or(&path);
    (!path.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: &str = r#"//! THE GIVEN API, PINNED.

fn plain_items() {
    let _: fn() -> Histogram = Histogram::new; // given: pub fn new() -> Histogram
    let _: fn(&Histogram, u8, u64) = Histogram::add; // given: pub fn add(&self, byte: u8, n: u64)
}

/// `count_in_background` with exactly the bounds the exercise gives.
pub fn count_in_background<F>(data: Arc<[u8]>, threads: usize, on_item: F) -> Background
where
    F: Fn(u8) + Send + Sync + 'static,
{
    subject::count_in_background(data, threads, on_item) // given: F: Fn(u8) + Send + Sync + 'static
}
"#;

    #[test]
    fn a_coercion_line_names_its_item_and_signature() {
        assert_eq!(
            explain(PINNED, 5),
            Some(Changed {
                item: "Histogram::add".into(),
                given: "pub fn add(&self, byte: u8, n: u64)".into()
            })
        );
    }

    #[test]
    fn an_error_in_a_helper_names_the_helper_and_its_bounds() {
        for line in [9, 13] {
            assert_eq!(
                explain(PINNED, line),
                Some(Changed {
                    item: "count_in_background".into(),
                    given: "pub fn count_in_background<F>(data: Arc<[u8]>, threads: usize, on_item: F) -> Background\nwhere\n    F: Fn(u8) + Send + Sync + 'static,".into()
                }),
                "line {line}"
            );
        }
    }

    #[test]
    fn a_line_outside_any_pin_is_not_explained() {
        assert_eq!(explain(PINNED, 1), None);
        assert_eq!(explain(PINNED, 99), None);
    }

    #[test]
    fn every_pin_of_the_course_is_explained() {
        let checks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checks");
        let mut pins = 0;
        for entry in std::fs::read_dir(&checks).unwrap() {
            let file = entry.unwrap().path().join("src/signatures.rs");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                if given_of(line).is_some() {
                    let changed = explain(&text, i + 1)
                        .unwrap_or_else(|| panic!("{}:{} is not explained", file.display(), i + 1));
                    assert!(!changed.item.is_empty() && !changed.given.is_empty());
                    pins += 1;
                }
            }
        }
        assert!(pins >= 7, "only {pins} pins found");
    }
}
