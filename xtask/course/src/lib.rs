//! The course manifest, `course.toml`: the steps in order, and for each step
//! its checks with a human title and a hint.
//!
//! The grader (`cargo xtask`), the book builder and the autograding workflow
//! read the manifest through this crate, so nothing else retypes its content.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod attendee;
pub mod text;

/// Every check has at least this many hints: a question, the tool, the
/// outline of the fix.
pub const MIN_HINT_TIERS: usize = 3;

/// The file name of the manifest at the repository root.
pub const MANIFEST_FILE: &str = "course.toml";

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub course: CourseInfo,
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
    /// Workshop schedules (the instructor guide renders them).
    #[serde(rename = "schedule", default)]
    pub schedules: Vec<Schedule>,
    /// Causes any check of any step may name (top-level `[[cause]]`): each
    /// step gets them too, unless it gives a cause of the same id itself.
    #[serde(rename = "cause", default)]
    pub causes: Vec<CauseInfo>,
}

/// One `[[schedule]]`: a workshop plan built from the steps' minutes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub id: String,
    pub title: String,
    /// The steps covered, in order (ids).
    pub steps: Vec<String>,
    /// Minutes for the opening (overview, mental model, set-up check).
    pub intro_minutes: u32,
    /// A break follows each of these steps.
    #[serde(default)]
    pub breaks_after: Vec<String>,
    #[serde(default)]
    pub break_minutes: u32,
    /// Minutes for the closing (takeaways, questions).
    pub outro_minutes: u32,
}

/// One line of a rendered schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Minutes from the start.
    pub start: u32,
    pub minutes: u32,
    pub what: String,
    /// The step, when the slot is one.
    pub step: Option<String>,
}

impl Schedule {
    /// The schedule as consecutive slots.
    pub fn slots(&self, course: &Course) -> Vec<Slot> {
        let mut slots = Vec::new();
        let mut t = 0;
        let mut push = |minutes: u32, what: String, step: Option<String>| {
            slots.push(Slot {
                start: t,
                minutes,
                what,
                step,
            });
            t += minutes;
        };
        push(
            self.intro_minutes,
            "Welcome, overview, mental model, `cargo xtask doctor`".into(),
            None,
        );
        for id in &self.steps {
            if let Some(step) = course.steps.iter().find(|s| &s.id == id) {
                push(
                    step.minutes,
                    format!("{}. {}: {}", step.number(), step.title, step.exercise),
                    Some(step.id.clone()),
                );
            }
            if self.breaks_after.contains(id) {
                push(self.break_minutes, "Break".into(), None);
            }
        }
        push(
            self.outro_minutes,
            "Key takeaways, questions, class report".into(),
            None,
        );
        slots
    }

    /// Total minutes.
    pub fn total_minutes(&self, course: &Course) -> u32 {
        self.slots(course).iter().map(|s| s.minutes).sum()
    }
}

/// The `[course]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseInfo {
    pub title: String,
    /// Default time limit of one check, in seconds (at least 1).
    pub timeout_secs: u64,
    /// Default memory limit of one check process, in MiB (at least 1).
    #[serde(default = "default_memory_mib")]
    pub memory_mib: u64,
}

/// 2 GiB: far more than any step needs, far less than a laptop can swap.
fn default_memory_mib() -> u64 {
    2048
}

/// One `[[step]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `stepN-name`: also the crate directory under `exercises/`,
    /// `solutions/` and `checks/`, and the chapter file name.
    pub id: String,
    /// The chapter's title.
    pub title: String,
    /// The exercise's name.
    pub exercise: String,
    /// The chapter, relative to the repository root.
    pub chapter: String,
    /// The learner's crate, relative to the repository root.
    #[serde(rename = "crate")]
    pub exercise_crate: String,
    /// Estimated minutes to read the chapter and solve the exercise.
    pub minutes: u32,
    /// How the step's checks are built, when it differs from a plain debug build.
    #[serde(default)]
    pub build: BuildOptions,
    /// How many of the step's checks the grader runs at once, each in its own
    /// process (1, the default: one after another). For steps whose checks
    /// mostly wait (a time limit that must pass, a worker held at a gate);
    /// the checks running at once share the memory limit (see
    /// [`Step::memory_limit`]).
    #[serde(default = "one")]
    pub checks_at_once: usize,
    #[serde(rename = "check", default)]
    pub checks: Vec<CheckInfo>,
    /// `[[step.cause]]`: the mistakes the step's checks can name, each with
    /// its own hints (see [`CauseInfo`]).
    #[serde(rename = "cause", default)]
    pub causes: Vec<CauseInfo>,
    /// `[[step.rustc]]`: the compile errors a learner meets in this step,
    /// each with the chapter section that teaches the way out (see
    /// [`RustcHelp`]).
    #[serde(rename = "rustc", default)]
    pub rustc_help: Vec<RustcHelp>,
    /// `[step.trace]`: the pair of traces the chapter shows.
    pub trace: Option<BookTrace>,
}

fn one() -> usize {
    1
}

/// `[step.trace]`: which check's timeline the chapter shows, once from the
/// reference solution and once from one of the step's wrong mutants
/// (`cargo xtask book-traces` records both into
/// `book/src/traces/<step>/`; `{{#course-trace <step>}}` shows them).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BookTrace {
    /// The check whose trace is drawn.
    pub check: String,
    /// The wrong answer: a mutant's name (`checks/<step>/mutants/<name>.patch`)
    /// that this check rejects.
    pub wrong: String,
    /// One sentence under the pair: what to look at.
    pub look: String,
}

impl BookTrace {
    /// Where the book keeps the reference solution's trace, relative to
    /// `book/src`.
    pub fn right_svg(step: &str) -> String {
        format!("traces/{step}/right.svg")
    }

    /// Where the book keeps the wrong answer's trace, relative to `book/src`.
    pub fn wrong_svg(step: &str) -> String {
        format!("traces/{step}/wrong.svg")
    }
}

/// `[step.build]`: options for building a step's checks.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BuildOptions {
    /// Extra `--cfg` names passed to rustc (e.g. `loom`).
    #[serde(default)]
    pub cfg: Vec<String>,
    /// Build with `--release`.
    #[serde(default)]
    pub release: bool,
    /// A separate target directory (relative to the root) so that special
    /// builds do not invalidate the learner's normal build cache.
    pub target_dir: Option<String>,
}

/// One `[[step.check]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInfo {
    /// The id the checks binary knows this check by.
    pub id: String,
    /// What the check proves, in words a learner understands.
    pub title: String,
    /// The hints, in the order they unfold: a question that points at the
    /// concept, the tool to reach for, the outline of the fix (at least
    /// [`MIN_HINT_TIERS`]). A failing check shows the deepest tier the
    /// learner has seen so far; `cargo xtask hint` shows the next one.
    pub hints: Vec<String>,
    /// This check's own time limit, if not the course default.
    pub timeout_secs: Option<u64>,
    /// Said instead of the generic message when the check runs out of time.
    pub on_timeout: Option<String>,
    /// This check's own memory limit in MiB, if not the course default.
    pub memory_mib: Option<u64>,
}

impl CheckInfo {
    /// Hint `tier` (1 = the first), clamped to the ones there are.
    pub fn hint(&self, tier: usize) -> &str {
        let last = self.hints.len().saturating_sub(1);
        self.hints
            .get(tier.saturating_sub(1).min(last))
            .map_or("", String::as_str)
    }

    /// How many hint tiers the check has.
    pub fn tiers(&self) -> usize {
        self.hints.len()
    }
}

/// One `[[step.cause]]`: a mistake one or more checks of the step can
/// recognise and name when they fail (`Failure::because` in the harness,
/// `ensure!(cond, cause = "<id>", ...)`). A failure that names it shows these
/// hints instead of the check's own, and several checks failing for it are
/// explained once.
///
/// ```toml
/// [[step.cause]]
/// id = "queue-not-closed"
/// title = "The job queue is never closed"
/// hints = ["a question", "the tool and the chapter section", "the outline"]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseInfo {
    /// The id the checks name (lowercase letters, digits and `-`).
    pub id: String,
    /// What the check observed, in a few words (shown above the hint when
    /// several checks fail for it).
    pub title: String,
    /// The hints, in the order they unfold, at least [`MIN_HINT_TIERS`].
    pub hints: Vec<String>,
}

/// `[[step.rustc]]`: a compile error of the step's exercise that the
/// chapter teaches the way out of. When rustc reports `code` (and, if
/// `when` is given, its message contains `when`), `check` adds `says` and
/// the chapter's section to rustc's output, and `hint` repeats them.
///
/// ```toml
/// [[step.rustc]]
/// code = "E0373"
/// says = "what this error means in this exercise"
/// section = "Borrowing: scoped threads"
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RustcHelp {
    /// rustc's error code (`E0373`).
    pub code: String,
    /// A piece of rustc's message that tells this case from others of the
    /// same code.
    #[serde(default)]
    pub when: Option<String>,
    /// One or two sentences: what the error means in this exercise.
    pub says: String,
    /// The heading (without the `#`s) of the chapter section to read.
    pub section: String,
}

impl RustcHelp {
    /// Whether this entry is about rustc's error `code` with `message`.
    pub fn matches(&self, code: &str, message: &str) -> bool {
        self.code == code
            && self
                .when
                .as_ref()
                .is_none_or(|w| message.contains(w.as_str()))
    }

    /// The name progress keeps for this entry (`E0277` or
    /// `E0277/unwind boundary`).
    pub fn key(&self) -> String {
        match &self.when {
            Some(when) => format!("{}/{when}", self.code),
            None => self.code.clone(),
        }
    }
}

/// The hints a failure shows: those of the cause it named, when the step
/// gives that cause hints, or else the check's own.
#[derive(Debug, Clone, Copy)]
pub struct Ladder<'a> {
    pub check: &'a CheckInfo,
    /// The cause whose hints these are (`None`: the check's own).
    pub cause: Option<&'a CauseInfo>,
}

impl<'a> Ladder<'a> {
    /// Every tier, in order.
    pub fn hints(&self) -> &'a [String] {
        match self.cause {
            Some(cause) => &cause.hints,
            None => &self.check.hints,
        }
    }

    /// Hint `tier` (1 = the first), clamped to the ones there are.
    pub fn hint(&self, tier: usize) -> &'a str {
        let hints = self.hints();
        let last = hints.len().saturating_sub(1);
        hints
            .get(tier.saturating_sub(1).min(last))
            .map_or("", String::as_str)
    }

    /// How many tiers there are.
    pub fn tiers(&self) -> usize {
        self.hints().len()
    }

    /// The key progress keeps the deepest tier seen under: the check's id,
    /// or `cause:<id>` for a cause's hints (shared by every check that
    /// names the cause).
    pub fn key(&self) -> String {
        match self.cause {
            Some(cause) => cause_key(&cause.id),
            None => self.check.id.clone(),
        }
    }

    /// What the hints are about: the cause's title, or the check's.
    pub fn title(&self) -> &'a str {
        match self.cause {
            Some(cause) => &cause.title,
            None => &self.check.title,
        }
    }
}

/// The progress key of a cause's hints (see [`Ladder::key`]).
pub fn cause_key(cause: &str) -> String {
    format!("cause:{cause}")
}

/// A manifest that could not be read, with the place that is wrong.
#[derive(Debug)]
pub struct ManifestError {
    pub path: PathBuf,
    /// 1-based line and column, when the error has a place.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.path.display(), self.message)
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Course {
    /// Reads and validates `<root>/course.toml`.
    pub fn load(root: &Path) -> Result<Course, ManifestError> {
        let path = root.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ManifestError {
            path: path.clone(),
            position: None,
            message: format!("cannot read the course manifest: {e}"),
        })?;
        Course::parse(&text, &path)
    }

    /// Parses and validates manifest text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Course, ManifestError> {
        let mut course: Course = toml::from_str(text).map_err(|e| {
            let position = e.span().map(|span| line_col(text, span.start));
            ManifestError {
                path: path.to_path_buf(),
                position,
                message: e.message().trim().to_string(),
            }
        })?;
        for step in &mut course.steps {
            for cause in &course.causes {
                if step.cause(&cause.id).is_none() {
                    step.causes.push(cause.clone());
                }
            }
        }
        course.validate().map_err(|message| ManifestError {
            path: path.to_path_buf(),
            position: None,
            message,
        })?;
        Ok(course)
    }

    fn validate(&self) -> Result<(), String> {
        if self.course.timeout_secs == 0 {
            return Err(
                "[course] timeout_secs must be at least 1: a limit of 0 s would fail every check"
                    .to_string(),
            );
        }
        if self.course.memory_mib == 0 {
            return Err("[course] memory_mib must be at least 1".to_string());
        }
        let mut seen = std::collections::HashSet::new();
        for (n, step) in self.steps.iter().enumerate() {
            if !seen.insert(step.id.as_str()) {
                return Err(format!("step id `{}` appears twice", step.id));
            }
            let expected_prefix = format!("step{}-", n + 1);
            if !step.id.starts_with(&expected_prefix) {
                return Err(format!(
                    "step {} has id `{}`; ids are `step<N>-<name>` in order, so it should start with `{expected_prefix}`",
                    n + 1,
                    step.id
                ));
            }
            if step.checks_at_once == 0 {
                return Err(format!(
                    "step `{}` has checks_at_once = 0: at least one check must run at a time",
                    step.id
                ));
            }
            let mut check_ids = std::collections::HashSet::new();
            for check in &step.checks {
                if !check_ids.insert(check.id.as_str()) {
                    return Err(format!(
                        "check `{}` appears twice in step `{}`",
                        check.id, step.id
                    ));
                }
                if check.hints.len() < MIN_HINT_TIERS {
                    return Err(format!(
                        "check `{}` of step `{}` has {} hint(s); every check needs at least {MIN_HINT_TIERS}, in the order they unfold: a question that points at the concept, the tool to reach for, the outline of the fix",
                        check.id,
                        step.id,
                        check.hints.len()
                    ));
                }
                if let Some(n) = check.hints.iter().position(|h| h.trim().is_empty()) {
                    return Err(format!(
                        "hint {} of check `{}` of step `{}` is empty",
                        n + 1,
                        check.id,
                        step.id
                    ));
                }
                for (name, value) in [
                    ("timeout_secs", check.timeout_secs),
                    ("memory_mib", check.memory_mib),
                ] {
                    if value == Some(0) {
                        return Err(format!(
                            "check `{}` of step `{}` has {name} = 0; a limit must be at least 1",
                            check.id, step.id
                        ));
                    }
                }
            }
        }
        for step in &self.steps {
            step.validate_causes()?;
            step.validate_rustc_help()?;
        }
        for step in &self.steps {
            if let Some(trace) = &step.trace {
                if !step.checks.iter().any(|c| c.id == trace.check) {
                    return Err(format!(
                        "[step.trace] of step `{}` names check `{}`, which the step does not have",
                        step.id, trace.check
                    ));
                }
                if trace.look.trim().is_empty() || trace.wrong.trim().is_empty() {
                    return Err(format!(
                        "[step.trace] of step `{}` needs a mutant name (`wrong`) and a sentence on what to look at (`look`)",
                        step.id
                    ));
                }
            }
        }
        for schedule in &self.schedules {
            for id in schedule.steps.iter().chain(&schedule.breaks_after) {
                if !seen.contains(id.as_str()) {
                    return Err(format!(
                        "schedule `{}` names step `{id}`, which the course does not have",
                        schedule.id
                    ));
                }
            }
        }
        Ok(())
    }

    /// Finds a step by its full id (`step1-blocking`), its short id
    /// (`step1`) or its number (`1`).
    pub fn find_step(&self, name: &str) -> Option<&Step> {
        let name = name.trim().to_ascii_lowercase();
        self.steps
            .iter()
            .find(|s| s.id == name || s.short_id() == name || s.number().to_string() == name)
    }

    /// The step after `id`, if any.
    pub fn next_step(&self, id: &str) -> Option<&Step> {
        let pos = self.steps.iter().position(|s| s.id == id)?;
        self.steps.get(pos + 1)
    }

    /// Every name `find_step` accepts, for suggestions.
    pub fn step_names(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| [s.id.clone(), s.short_id().to_string()])
            .collect()
    }

    /// The default time limit of one check.
    pub fn default_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.course.timeout_secs)
    }
}

impl Step {
    /// The cause `id` of this step, if `course.toml` gives it.
    pub fn cause(&self, id: &str) -> Option<&CauseInfo> {
        self.causes.iter().find(|c| c.id == id)
    }

    /// The hints a failure of `check` shows: those of `cause` when the step
    /// gives it, else the check's own.
    pub fn ladder<'a>(&'a self, check: &'a CheckInfo, cause: Option<&str>) -> Ladder<'a> {
        Ladder {
            check,
            cause: cause.and_then(|id| self.cause(id)),
        }
    }

    fn validate_causes(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        for cause in &self.causes {
            let where_ = format!("cause `{}` of step `{}`", cause.id, self.id);
            if cause.id.is_empty()
                || !cause
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(format!(
                    "{where_}: a cause id is lowercase letters, digits and `-` (mutant headers write it as `<check>/<cause>`)"
                ));
            }
            if !ids.insert(cause.id.as_str()) {
                return Err(format!("{where_} appears twice"));
            }
            if cause.title.trim().is_empty() {
                return Err(format!("{where_} needs a title: what the check observed"));
            }
            if cause.hints.len() < MIN_HINT_TIERS {
                return Err(format!(
                    "{where_} has {} hint(s); every cause needs at least {MIN_HINT_TIERS}, in the order they unfold: a question that points at the concept, the tool to reach for, the outline of the fix",
                    cause.hints.len()
                ));
            }
            if let Some(n) = cause.hints.iter().position(|h| h.trim().is_empty()) {
                return Err(format!("hint {} of {where_} is empty", n + 1));
            }
        }
        Ok(())
    }

    /// `step1` for `step1-blocking`.
    pub fn short_id(&self) -> &str {
        self.id.split('-').next().unwrap_or(&self.id)
    }

    /// The step's number: 1 for `step1-blocking`.
    pub fn number(&self) -> u32 {
        self.short_id()
            .trim_start_matches("step")
            .parse()
            .unwrap_or(0)
    }

    /// The reference solution's directory, relative to the root.
    pub fn solution_crate(&self) -> String {
        format!("solutions/{}", self.id)
    }

    /// The checks crate's directory, relative to the root.
    pub fn checks_crate(&self) -> String {
        format!("checks/{}", self.id)
    }

    /// The cargo package that holds the step's checks (a binary).
    pub fn checks_package(&self) -> String {
        format!("{}-checks", self.id)
    }

    /// The help for rustc's error `code` with `message`, if the step has any.
    pub fn rustc_help_for(&self, code: &str, message: &str) -> Option<&RustcHelp> {
        self.rustc_help.iter().find(|h| h.matches(code, message))
    }

    fn validate_rustc_help(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for help in &self.rustc_help {
            let well_formed = help.code.len() == 5
                && help.code.starts_with('E')
                && help.code[1..].bytes().all(|b| b.is_ascii_digit());
            if !well_formed {
                return Err(format!(
                    "[[step.rustc]] of step `{}` has code `{}`; rustc's codes look like `E0373`",
                    self.id, help.code
                ));
            }
            if help.says.trim().is_empty() || help.section.trim().is_empty() {
                return Err(format!(
                    "[[step.rustc]] `{}` of step `{}` needs `says` and `section`",
                    help.code, self.id
                ));
            }
            if !keys.insert(help.key()) {
                return Err(format!(
                    "[[step.rustc]] `{}` appears twice in step `{}`",
                    help.key(),
                    self.id
                ));
            }
        }
        Ok(())
    }

    /// The chapter's path relative to `book/src`.
    pub fn chapter_in_book(&self) -> &str {
        self.chapter
            .strip_prefix("book/src/")
            .unwrap_or(&self.chapter)
    }

    /// The command a learner runs to grade this step.
    pub fn check_command(&self) -> String {
        format!("cargo xtask check {}", self.short_id())
    }

    /// A check's time limit.
    pub fn timeout(&self, course: &Course, check: &CheckInfo) -> std::time::Duration {
        check
            .timeout_secs
            .map(std::time::Duration::from_secs)
            .unwrap_or_else(|| course.default_timeout())
    }

    /// A check's memory limit, in bytes: its own `memory_mib`, else the
    /// course's, shared by the [`Step::checks_at_once`] checks that may run
    /// at once, so that together they stay within it.
    pub fn memory_limit(&self, course: &Course, check: &CheckInfo) -> u64 {
        check
            .memory_mib
            .unwrap_or(course.course.memory_mib)
            .saturating_mul(1024 * 1024)
            / self.checks_at_once.max(1) as u64
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[course]
title = "T"
timeout_secs = 5

[[step]]
id = "step1-one"
title = "One"
exercise = "First"
chapter = "book/src/step1-one.md"
crate = "exercises/step1-one"
minutes = 10

[[step.check]]
id = "a"
title = "A works"
hints = ["What is A?", "Use A.", "Do A, then B."]
"#;

    #[test]
    fn parses_and_finds_steps_by_any_name() {
        let c = Course::parse(GOOD, Path::new("course.toml")).unwrap();
        for name in ["step1-one", "step1", "1", " STEP1 "] {
            assert_eq!(c.find_step(name).unwrap().id, "step1-one", "{name}");
        }
        assert!(c.find_step("step2").is_none());
        assert_eq!(c.steps[0].checks_package(), "step1-one-checks");
        assert_eq!(c.steps[0].chapter_in_book(), "step1-one.md");
    }

    #[test]
    fn a_book_trace_names_a_check_of_its_step() {
        let traced = |check: &str, look: &str| {
            format!("{GOOD}\n[step.trace]\ncheck = \"{check}\"\nwrong = \"a-too-late\"\nlook = \"{look}\"\n")
        };
        let c = Course::parse(&traced("a", "See A."), Path::new("course.toml")).unwrap();
        let trace = c.steps[0].trace.as_ref().expect("the step has a trace");
        assert_eq!(
            (trace.check.as_str(), trace.wrong.as_str()),
            ("a", "a-too-late")
        );
        assert_eq!(
            BookTrace::right_svg("step1-one"),
            "traces/step1-one/right.svg"
        );
        assert_eq!(
            BookTrace::wrong_svg("step1-one"),
            "traces/step1-one/wrong.svg"
        );
        let err = Course::parse(&traced("z", "See A."), Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("names check `z`"), "{err}");
        let err = Course::parse(&traced("a", " "), Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("what to look at"), "{err}");
    }

    #[test]
    fn errors_name_the_line() {
        let bad = GOOD.replace("minutes = 10", "minutes = \"ten\"");
        let err = Course::parse(&bad, Path::new("course.toml")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("course.toml:12:"), "{shown}");
    }

    #[test]
    fn missing_field_is_reported() {
        let bad = GOOD.replace(
            "hints = [\"What is A?\", \"Use A.\", \"Do A, then B.\"]\n",
            "",
        );
        let err = Course::parse(&bad, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("hints"), "{err}");
    }

    #[test]
    fn hints_unfold_in_at_least_three_tiers() {
        let c = Course::parse(GOOD, Path::new("course.toml")).unwrap();
        let check = &c.steps[0].checks[0];
        assert_eq!(check.tiers(), 3);
        assert_eq!(check.hint(0), "What is A?");
        assert_eq!(check.hint(1), "What is A?");
        assert_eq!(check.hint(3), "Do A, then B.");
        assert_eq!(check.hint(9), "Do A, then B.");
        let two = GOOD.replace(", \"Do A, then B.\"", "");
        let err = Course::parse(&two, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("has 2 hint(s)"), "{err}");
        let empty = GOOD.replace("\"Use A.\"", "\" \"");
        let err = Course::parse(&empty, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("hint 2 of check `a`"), "{err}");
    }

    #[test]
    fn a_cause_has_its_own_hints_and_the_check_is_the_fallback() {
        let cause = |id: &str, hints: &str| {
            format!("{GOOD}\n[[step.cause]]\nid = \"{id}\"\ntitle = \"B is closed\"\nhints = [{hints}]\n")
        };
        let text = cause("b-closed", "\"Is B open?\", \"Close B.\", \"Drop B.\"");
        let c = Course::parse(&text, Path::new("course.toml")).unwrap();
        let step = &c.steps[0];
        let check = &step.checks[0];
        let named = step.ladder(check, Some("b-closed"));
        assert_eq!((named.hint(1), named.tiers()), ("Is B open?", 3));
        assert_eq!(
            (named.key(), named.title()),
            ("cause:b-closed".to_string(), "B is closed")
        );
        // No cause, or one the step gives no hints for: the check's own.
        for cause in [None, Some("unknown")] {
            let own = step.ladder(check, cause);
            assert_eq!((own.hint(1), own.key()), ("What is A?", "a".to_string()));
        }
        let err = Course::parse(
            &cause("b-closed", "\"Is B open?\""),
            Path::new("course.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("has 1 hint(s)"), "{err}");
        let err = Course::parse(
            &cause("B/closed", "\"a\", \"b\", \"c\""),
            Path::new("course.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("lowercase"), "{err}");
        let twice = format!("{text}\n[[step.cause]]\nid = \"b-closed\"\ntitle = \"t\"\nhints = [\"a\", \"b\", \"c\"]\n");
        let err = Course::parse(&twice, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn schedules_add_up_the_steps_minutes() {
        let text = format!(
            "{GOOD}\n[[schedule]]\nid = \"short\"\ntitle = \"Short\"\nsteps = [\"step1-one\"]\nintro_minutes = 5\nbreaks_after = [\"step1-one\"]\nbreak_minutes = 3\noutro_minutes = 2\n"
        );
        let c = Course::parse(&text, Path::new("course.toml")).unwrap();
        let slots = c.schedules[0].slots(&c);
        let starts: Vec<u32> = slots.iter().map(|s| s.start).collect();
        assert_eq!(starts, [0, 5, 15, 18]);
        assert_eq!(slots[1].step.as_deref(), Some("step1-one"));
        assert_eq!(c.schedules[0].total_minutes(&c), 20);
        let bad = text.replace("steps = [\"step1-one\"]", "steps = [\"step9-x\"]");
        assert!(Course::parse(&bad, Path::new("course.toml")).is_err());
    }

    #[test]
    fn ids_must_be_numbered_in_order() {
        let bad = GOOD.replace("id = \"step1-one\"", "id = \"step2-one\"");
        let err = Course::parse(&bad, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("step1-"), "{err}");
    }

    #[test]
    fn limits_must_be_positive() {
        let zero = GOOD.replace("timeout_secs = 5", "timeout_secs = 0");
        let err = Course::parse(&zero, Path::new("course.toml")).unwrap_err();
        assert!(
            err.to_string().contains("timeout_secs must be at least 1"),
            "{err}"
        );
        let no_memory = GOOD.replace("timeout_secs = 5", "timeout_secs = 5\nmemory_mib = 0");
        assert!(Course::parse(&no_memory, Path::new("course.toml")).is_err());
        for field in ["timeout_secs", "memory_mib"] {
            let check = GOOD.replace("hints = [", &format!("{field} = 0\nhints = ["));
            let err = Course::parse(&check, Path::new("course.toml")).unwrap_err();
            assert!(err.to_string().contains(&format!("{field} = 0")), "{err}");
        }
        let c = Course::parse(GOOD, Path::new("course.toml")).unwrap();
        assert_eq!(c.course.memory_mib, 2048);
        assert_eq!(
            c.steps[0].memory_limit(&c, &c.steps[0].checks[0]),
            2048 << 20
        );
    }

    #[test]
    fn a_compile_error_help_matches_its_code_and_message() {
        let help = |code: &str, when: Option<&str>| {
            let when = when
                .map(|w| format!("when = \"{w}\"\n"))
                .unwrap_or_default();
            format!("{GOOD}\n[[step.rustc]]\ncode = \"{code}\"\n{when}says = \"S\"\nsection = \"One\"\n")
        };
        let c = Course::parse(&help("E0277", Some("unwind")), Path::new("course.toml")).unwrap();
        let step = &c.steps[0];
        assert!(step
            .rustc_help_for("E0277", "may cross an unwind boundary")
            .is_some());
        assert!(step.rustc_help_for("E0277", "cannot be sent").is_none());
        assert!(step.rustc_help_for("E0373", "unwind").is_none());
        assert_eq!(step.rustc_help[0].key(), "E0277/unwind");
        let any = Course::parse(&help("E0373", None), Path::new("course.toml")).unwrap();
        assert!(any.steps[0].rustc_help_for("E0373", "anything").is_some());
        assert_eq!(any.steps[0].rustc_help[0].key(), "E0373");
        for bad in ["0373", "E373", "e0373", "E03733"] {
            let err = Course::parse(&help(bad, None), Path::new("course.toml")).unwrap_err();
            assert!(
                err.to_string().contains("rustc's codes look like"),
                "{bad}: {err}"
            );
        }
        let twice = format!(
            "{}{}",
            help("E0373", None),
            &help("E0373", None)[GOOD.len()..]
        );
        let err = Course::parse(&twice, Path::new("course.toml")).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let empty = help("E0373", None).replace("says = \"S\"", "says = \" \"");
        assert!(Course::parse(&empty, Path::new("course.toml")).is_err());
    }
}
