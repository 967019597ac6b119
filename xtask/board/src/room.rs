//! What the board knows of each attendee, rebuilt from the posts in the
//! order they arrived, and the JSON the page is drawn from.

use std::collections::BTreeMap;

use course::attendee::{AttendeeReport, BoardPost, BOARD_POST_SCHEMA, BOARD_POST_VERSION};
use course::text::display_name;
use course::Course;
use serde_json::{json, Value};

/// Same failing check for this long: stuck.
pub const STUCK_AFTER_MS: i64 = 10 * 60 * 1000;
/// Or this hint tier unfolded on the current step: stuck.
pub const STUCK_HINT_TIER: usize = 3;
/// At most this many attendees in one room (a bound on memory).
pub const MAX_ATTENDEES: usize = 500;

pub struct Attendee {
    pub key: String,
    pub name: String,
    pub last_seen_ms: i64,
    pub report: AttendeeReport,
    pub on: Option<On>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct On {
    pub step: String,
    /// The first failing check of the step, in the course's order.
    pub check: Option<String>,
    pub cause: Option<String>,
    /// Since when this same check has been failing.
    pub since_ms: i64,
}

pub struct Room {
    pub course: Course,
    pub attendees: BTreeMap<String, Attendee>,
}

/// The room has [`MAX_ATTENDEES`] and the post is from someone new.
#[derive(Debug)]
pub struct RoomFull;

/// A post's JSON read and checked: the fields the board relies on are there
/// and the attendee key is a key.
pub fn parse(body: &str) -> Result<BoardPost, String> {
    let post: BoardPost = serde_json::from_str(body).map_err(|e| format!("not a post: {e}"))?;
    if post.schema != BOARD_POST_SCHEMA || post.schema_version != BOARD_POST_VERSION {
        return Err(format!(
            "a post of schema {} version {}; this board reads {BOARD_POST_SCHEMA} version {BOARD_POST_VERSION}",
            post.schema, post.schema_version
        ));
    }
    let key_ok = (8..=32).contains(&post.attendee.len())
        && post.attendee.chars().all(|c| c.is_ascii_hexdigit());
    if !key_ok {
        return Err("the attendee key is not a key".into());
    }
    if post.id.is_empty() || post.id.len() > 96 {
        return Err("the post id is missing or too long".into());
    }
    if post.report.name.trim().is_empty() {
        return Err("the post has no name".into());
    }
    Ok(post)
}

impl Room {
    pub fn new(course: Course) -> Room {
        Room {
            course,
            attendees: BTreeMap::new(),
        }
    }

    /// Whether a post from `key` would be taken (the room has space for it).
    pub fn has_room_for(&self, key: &str) -> bool {
        self.attendees.contains_key(key) || self.attendees.len() < MAX_ATTENDEES
    }

    /// Applies a post received at `now_ms`; returns the attendee's key.
    pub fn apply(&mut self, post: BoardPost, now_ms: i64) -> Result<String, RoomFull> {
        if !self.has_room_for(&post.attendee) {
            return Err(RoomFull);
        }
        let key = post.attendee.clone();
        let previous = self.attendees.get(&key).and_then(|a| a.on.clone());
        let step = post
            .check
            .as_ref()
            .map(|c| c.step.clone())
            .or_else(|| previous.as_ref().map(|on| on.step.clone()))
            .or_else(|| latest_step(&post.report));
        let on = step.and_then(|step| {
            let course_step = self.course.steps.iter().find(|s| s.id == step)?;
            let entry = post.report.steps.iter().find(|e| e.id == step)?;
            let check = course_step
                .checks
                .iter()
                .find(|c| entry.failing.contains(&c.id))
                .map(|c| c.id.clone());
            let cause = check
                .as_ref()
                .and_then(|c| entry.failing_causes.get(c).cloned());
            let since_ms = match &previous {
                Some(p) if p.step == step && p.check == check && check.is_some() => p.since_ms,
                _ => now_ms,
            };
            Some(On {
                step,
                check,
                cause,
                since_ms,
            })
        });
        let attendee = Attendee {
            key: key.clone(),
            name: display_name(&post.report.name),
            last_seen_ms: now_ms,
            report: post.report,
            on,
        };
        self.attendees.insert(key.clone(), attendee);
        Ok(key)
    }

    pub fn attendee_json(&self, key: &str) -> Option<Value> {
        let a = self.attendees.get(key)?;
        let steps: serde_json::Map<String, Value> = a
            .report
            .steps
            .iter()
            .filter(|e| self.course.steps.iter().any(|s| s.id == e.id))
            .map(|e| {
                let status = if e.status == "done" {
                    "done"
                } else if e.compile_error {
                    "compile-error"
                } else if e.status == "in-progress" {
                    "in-progress"
                } else {
                    "not-started"
                };
                (
                    e.id.clone(),
                    json!({
                        "status": status,
                        "passed": e.checks_passed,
                        "total": e.checks_total,
                        "hint": e.deepest_hint.unwrap_or(0),
                    }),
                )
            })
            .collect();
        let hint =
            a.on.as_ref()
                .and_then(|on| a.report.steps.iter().find(|e| e.id == on.step))
                .and_then(|e| e.deepest_hint)
                .unwrap_or(0);
        Some(json!({
            "key": a.key,
            "name": a.name,
            "last_seen_ms": a.last_seen_ms,
            "steps": steps,
            "on": a.on.as_ref().map(|on| json!({
                "step": on.step,
                "check": on.check,
                "cause": on.cause,
                "since_ms": on.since_ms,
            })),
            "hint": hint,
        }))
    }

    /// Everything the page shows.
    pub fn state_json(&self, now_ms: i64) -> Value {
        let mut causes = serde_json::Map::new();
        for cause in &self.course.causes {
            causes.insert(cause.id.clone(), json!(cause.title));
        }
        for step in &self.course.steps {
            for cause in &step.causes {
                causes.entry(cause.id.clone()).or_insert(json!(cause.title));
            }
        }
        let steps: Vec<Value> = self
            .course
            .steps
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "short": s.short_id(),
                    "title": s.title,
                    "checks": s.checks.iter().map(|c| json!({"id": c.id, "title": c.title})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let attendees: Vec<Value> = self
            .attendees
            .keys()
            .filter_map(|k| self.attendee_json(k))
            .collect();
        json!({
            "title": self.course.course.title,
            "now_ms": now_ms,
            "stuck_after_ms": STUCK_AFTER_MS,
            "stuck_hint_tier": STUCK_HINT_TIER,
            "steps": steps,
            "causes": causes,
            "attendees": attendees,
        })
    }

    /// Each attendee's newest report, with the name as the board shows it.
    pub fn reports(&self) -> Vec<(&str, &AttendeeReport)> {
        self.attendees
            .values()
            .map(|a| (a.key.as_str(), &a.report))
            .collect()
    }
}

/// The step checked last, from the report's timestamps (for a post that
/// names no check, such as the first one after `join`).
fn latest_step(report: &AttendeeReport) -> Option<String> {
    report
        .steps
        .iter()
        .filter_map(|e| Some((e.last_checked.as_ref()?, &e.id)))
        .max()
        .map(|(_, id)| id.clone())
}
