//! What a compile error means in the step's exercise: rustc's error codes
//! that the step's chapter teaches the way out of (`[[step.rustc]]` in
//! `course.toml`), found in a build's diagnostics, said by `check` under
//! rustc's output and again by `hint`.

use course::{RustcHelp, Step};

use crate::build::Diagnostic;
use crate::report::wrap;
use crate::ui::{indent, paint, NOTE};

/// The step's help for the errors among `diagnostics`, each once, in the
/// order rustc reported them.
pub fn for_errors<'a>(step: &'a Step, diagnostics: &[Diagnostic]) -> Vec<&'a RustcHelp> {
    let mut found: Vec<&RustcHelp> = Vec::new();
    for d in diagnostics.iter().filter(|d| d.is_error) {
        let Some(code) = &d.code else { continue };
        if let Some(help) = step.rustc_help_for(code, &d.message) {
            if !found.contains(&help) {
                found.push(help);
            }
        }
    }
    found
}

/// The step's help kept in progress under `key` ([`RustcHelp::key`]).
pub fn by_key<'a>(step: &'a Step, key: &str) -> Option<&'a RustcHelp> {
    step.rustc_help.iter().find(|h| h.key() == key)
}

/// The paragraph shown for one help: what the error means here, and the
/// section of the chapter to read.
pub fn explain(step: &Step, help: &RustcHelp) -> String {
    let label = format!("rustc's {}:", help.code);
    let text = format!(
        "{label} {} Read \"{}\" in the chapter ({}).",
        help.says, help.section, step.chapter
    );
    // Wrapped before it is painted: colour codes take no room on screen.
    indent(&wrap(&text, 82), 6).replacen(&label, &paint(NOTE, &label), 1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn diagnostic(code: &str, message: &str) -> Diagnostic {
        Diagnostic {
            rendered: format!("error[{code}]: {message}"),
            is_error: true,
            file: None,
            code: Some(code.to_string()),
            message: message.to_string(),
        }
    }

    fn course() -> course::Course {
        course::Course::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).unwrap()
    }

    /// Every section a help names is a heading of its step's chapter, so
    /// the pointer never leads nowhere.
    #[test]
    fn every_section_named_is_a_heading_of_the_chapter() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let course = course();
        let mut named = 0;
        for step in &course.steps {
            let chapter = std::fs::read_to_string(root.join(&step.chapter)).unwrap();
            let headings: Vec<&str> = chapter
                .lines()
                .filter(|l| l.starts_with("## ") || l.starts_with("### "))
                .map(|l| l.trim_start_matches('#').trim())
                .collect();
            for help in &step.rustc_help {
                assert!(
                    headings.contains(&help.section.as_str()),
                    "[[step.rustc]] {} of {} names section {:?}, which {} does not have; its headings: {headings:?}",
                    help.key(),
                    step.id,
                    help.section,
                    step.chapter
                );
                named += 1;
            }
        }
        assert!(named >= 8, "only {named} compile errors have help");
    }

    /// The errors a learner meets (rustc's messages as rustc 1.95 words
    /// them) find their help, each once; others find none.
    #[test]
    fn an_error_finds_the_help_of_its_code_and_message() {
        let course = course();
        let step2 = course.find_step("step2").unwrap();
        let unwind = diagnostic(
            "E0277",
            "the type `dyn FnOnce() -> u64 + Send` may not be safely transferred across an unwind boundary",
        );
        let borrows = diagnostic(
            "E0373",
            "closure may outlive the current function, but it borrows `done`, which is owned by the current function",
        );
        let found = for_errors(step2, &[unwind.clone(), borrows.clone(), unwind.clone()]);
        let sections: Vec<&str> = found.iter().map(|h| h.section.as_str()).collect();
        assert_eq!(
            sections,
            [
                "Catching a panic: `catch_unwind` and `AssertUnwindSafe`",
                "Offloading to a thread"
            ]
        );
        // Another E0277 is not about unwinding.
        let not_send = diagnostic("E0277", "`Rc<u64>` cannot be sent between threads safely");
        assert!(for_errors(step2, std::slice::from_ref(&not_send))
            .iter()
            .all(|h| h.when.as_deref() != Some("unwind boundary")));
        // A warning with a code is not an error to explain.
        let mut warning = borrows;
        warning.is_error = false;
        assert!(for_errors(step2, &[warning]).is_empty());
        // Step 5 explains the same E0277 its own way.
        let step5 = course.find_step("step5").unwrap();
        let not_sync = diagnostic(
            "E0277",
            "`RefCell<[u64; 2]>` cannot be shared between threads safely",
        );
        let help = for_errors(step5, &[not_sync]);
        assert_eq!(help.len(), 1);
        assert_eq!(help[0].section, "Data races are a compile error");
        assert_eq!(by_key(step5, &help[0].key()), Some(help[0]));
    }
}
