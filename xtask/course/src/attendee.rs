//! The attendee report: an attendee's progress per step, as `cargo xtask
//! report` writes it, `class-report` reads it and the workshop board
//! receives it with every check (a [`BoardPost`]). It holds a handle, each
//! step's results, hint tiers and timestamps: never source code or what the
//! learner's code printed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Marks a file as one of ours, so a class report can skip anything else.
pub const SCHEMA: &str = "threads-course/attendee-report";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendeeReport {
    pub schema: String,
    pub schema_version: u32,
    pub tool_version: String,
    pub name: String,
    pub generated_at: String,
    pub steps: Vec<StepEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    pub id: String,
    /// "done", "in-progress" or "not-started".
    pub status: String,
    pub checks_passed: usize,
    pub checks_total: usize,
    /// Ids of the checks that failed at the last check.
    pub failing: Vec<String>,
    pub compile_error: bool,
    pub first_checked: Option<String>,
    pub last_checked: Option<String>,
    pub passed_at: Option<String>,
    /// The deepest hint tier the attendee unfolded for any check of the step
    /// (0: none; tier 1 comes with every failing check, deeper ones only when
    /// asked for with `cargo xtask hint`). Absent in reports of older graders.
    #[serde(default)]
    pub deepest_hint: Option<usize>,
    /// The cause each failing check named at the last check (check id ->
    /// cause id), for those that named one. Absent in reports of older
    /// graders.
    #[serde(default)]
    pub failing_causes: BTreeMap<String, String>,
    /// The deepest tier shown of each cause's own hints (cause id -> tier).
    #[serde(default)]
    pub cause_hints: BTreeMap<String, usize>,
}

/// What `check` sends to a joined workshop board (`cargo xtask join`): the
/// attendee's report as it stands after the check, and the check itself
/// (each check's status, cause, hint tier and time). No message, trace or
/// compiler output: those can hold what the learner's code printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoardPost {
    pub schema: String,
    pub schema_version: u32,
    /// Unique per post (the attendee's key and a sequence number): a post
    /// sent twice (a retry after a lost answer) is stored once.
    pub id: String,
    /// A random key made by `join`, so two attendees with one name stay two.
    pub attendee: String,
    pub sent_at: String,
    /// The check that caused this post; absent for a post made by `hint`.
    #[serde(default)]
    pub check: Option<CheckRun>,
    pub report: AttendeeReport,
}

pub const BOARD_POST_SCHEMA: &str = "threads-course/board-post";
pub const BOARD_POST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRun {
    pub step: String,
    /// "passed", "failed" or "compile-error".
    pub status: String,
    pub checks: Vec<CheckOutcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub id: String,
    /// "pass", "fail", "timeout", "crash", "error" or "not-run".
    pub status: String,
    #[serde(default)]
    pub cause: Option<String>,
    /// The deepest hint tier shown for this check so far (0: none).
    #[serde(default)]
    pub hint: usize,
    pub duration_ms: u64,
}
