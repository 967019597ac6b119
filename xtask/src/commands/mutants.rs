//! `cargo xtask verify --mutants`: the checks are proven by the wrong answers
//! they reject.
//!
//! Each step may keep mutants in `checks/<step>/mutants/*.patch`: each a
//! unified diff against the step's reference solution
//! (`solutions/<step>/src/lib.rs`), so that the solution stays the one source
//! of truth and a mutant is only its mistake. A mutant is either a plausible
//! wrong answer (one conceptual mistake) or an alternative right answer. The
//! lines before the diff say which, in the form `key: value`:
//!
//! ```text
//! mutant: wrong
//! rejected-by: no-lost-updates
//! mistake: a load followed by a store instead of fetch_add
//!
//! --- solutions/step3-shared-atomics/src/lib.rs
//! +++ mutant
//! @@ -40,7 +40,8 @@
//! ...
//! ```
//!
//! `mutant` is `wrong` or `right`. A wrong mutant names in `rejected-by`
//! every check that must reject it (comma-separated, the main one first);
//! every other check must pass, so a mistake is reported by the check that
//! names it and not by an unrelated one. A check may be written
//! `check/cause` (`rejected-by: blame/none-when-calm`): that check must then
//! fail naming that cause (a `[[step.cause]]` of `course.toml`), so the
//! learner sees the hints of the mistake the mutant makes; a check without
//! `/cause` may fail with any cause or none. A right mutant must pass every
//! check. A right answer uses `design:` for what makes it different.
//!
//! One wrong answer is caught before any check runs: a changed signature of
//! the given API. Each checks crate pins the signatures the exercise gives
//! in `src/signatures.rs`, which compiles only against them. A mutant that
//! changes one says `rejected-by: signatures` (alone): it must fail to
//! compile, with its first error in that file.
//!
//! To write one: copy the solution, make the change, then
//! `diff -u --label solutions/<step>/src/lib.rs --label mutant
//! solutions/<step>/src/lib.rs copy.rs` after the header lines. The diff is
//! applied exactly (no fuzz): when the solution changes under a mutant so
//! that it no longer applies, the suite stops with an error naming it, as it
//! would for a mutant that does not compile.
//!
//! Mutants are graded as a learner's exercise is graded (the same build
//! through `build::build_checks`, the same runner, the same time limits), but
//! never in the learner's slot: the course is copied into a scratch workspace
//! under `target/mutants/`, whose exercise slot receives each mutant in turn.
//! Nothing of the learner's is read back or written. The grader's build state
//! (`COURSE_STATE_DIR`) points into the scratch workspace, and its stamps are
//! deleted before each mutant, so every mutant is really compiled: the build
//! must report the exercise crate as compiled, or the mutant is an error.
//!
//! Each mutant is built once. On Linux its checks then run twice, at the
//! same time: once free to use every CPU, once from a grader thread pinned
//! to one CPU (the check processes inherit the pin). Both must give the same
//! verdict; the load each run puts on the other is one the verdicts must not
//! notice anyway. Two mutants are graded at once while the next one is
//! built (see [`AT_ONCE`]), each from its own copy of its checks binary;
//! their rows are printed in the mutants' order.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use check_harness::affinity;
use course::{Course, Step};
use serde::Serialize;

use crate::build::{self, Built, Target};
use crate::grade;
use crate::repo::Repo;
use crate::report;
use crate::ui::{paint, BAD, BOLD, DIM, NOTE, OK};
use crate::Format;

/// What a mutant's header says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Wrong,
    Right,
}

/// One mutant file and its header.
#[derive(Debug, Clone)]
pub struct Mutant {
    pub step: String,
    pub name: String,
    pub path: PathBuf,
    pub expect: Expect,
    /// The checks that must reject it (empty for a right answer).
    pub rejected_by: Vec<String>,
    /// The cause some of those checks must name (check id -> cause id).
    pub causes: BTreeMap<String, String>,
    pub mistake: String,
    pub source: String,
}

/// Splits a mutant file into its header (the lines before the diff) and
/// the diff itself, which starts at the first `--- ` line.
pub fn split_patch(text: &str) -> Result<(&str, &str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("--- ") {
            return Ok((&text[..offset], &text[offset..]));
        }
        offset += line.len();
    }
    bail!("no unified diff in it (no `--- solutions/<step>/src/lib.rs` line)")
}

/// A mutant's header, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub expect: Expect,
    /// The checks that must reject it, in the header's order.
    pub rejected_by: Vec<String>,
    /// The cause a check must name when it rejects it (`check/cause`).
    pub causes: BTreeMap<String, String>,
    pub mistake: String,
}

/// Reads the header of a mutant (the `key: value` lines before its diff).
/// Errors name what is missing.
pub fn parse_header(header: &str) -> Result<Header> {
    let mut expect = None;
    let mut rejected_by = Vec::new();
    let mut causes = BTreeMap::new();
    let mut mistake = String::new();
    for line in header.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            bail!(
                "`{line}`: header lines are `key: value` (mutant, rejected-by, mistake or design)"
            );
        };
        let value = value.trim();
        match key.trim() {
            "mutant" => {
                expect = Some(match value {
                    "wrong" => Expect::Wrong,
                    "right" => Expect::Right,
                    other => bail!("`mutant: {other}`: expected `wrong` or `right`"),
                })
            }
            "rejected-by" => {
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let (check, cause) = match item.split_once('/') {
                        Some((check, cause)) => (check.trim(), Some(cause.trim())),
                        None => (item, None),
                    };
                    if check.is_empty() || cause.is_some_and(str::is_empty) {
                        bail!("`rejected-by: {item}`: expected `<check>` or `<check>/<cause>`");
                    }
                    rejected_by.push(check.to_string());
                    if let Some(cause) = cause {
                        causes.insert(check.to_string(), cause.to_string());
                    }
                }
            }
            "mistake" | "design" => mistake = value.to_string(),
            other => bail!("unknown header key `{other}` (mutant, rejected-by, mistake or design)"),
        }
    }
    let Some(expect) = expect else {
        bail!("no `mutant: wrong` or `mutant: right` line at the top");
    };
    match expect {
        Expect::Wrong if rejected_by.is_empty() => {
            bail!("a wrong mutant needs a `rejected-by: <check-id>` line")
        }
        Expect::Right if !rejected_by.is_empty() => {
            bail!("a right mutant must not name `rejected-by` checks")
        }
        _ => {}
    }
    if mistake.is_empty() {
        bail!("no `mistake: ...` (or `design: ...` for a right answer) line");
    }
    Ok(Header {
        expect,
        rejected_by,
        causes,
        mistake,
    })
}

/// Applies a mutant's diff to the solution's source, exactly.
pub fn apply_patch(solution: &str, diff: &str) -> Result<String> {
    let patch =
        diffy::Patch::from_str(diff).map_err(|e| anyhow::anyhow!("not a unified diff: {e}"))?;
    if patch.hunks().is_empty() {
        bail!("the diff has no hunks: the mutant would be the solution itself");
    }
    let source = diffy::apply(solution, &patch).map_err(|e| {
        anyhow::anyhow!(
            "the diff no longer applies to the solution ({e}); the solution changed under it: \
             remake the mutant from the current solution"
        )
    })?;
    if source == solution {
        bail!("the diff changes nothing: the mutant would be the solution itself");
    }
    Ok(source)
}

/// Every mutant of `step`, sorted by file name, each applied to the step's
/// solution.
pub fn load(root: &Path, step: &Step) -> Result<Vec<Mutant>> {
    let dir = root.join(step.checks_crate()).join("mutants");
    let mut mutants = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(mutants);
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.retain(|p| p.is_file());
    paths.sort();
    let solution_path = root.join(step.solution_crate()).join("src").join("lib.rs");
    let solution = std::fs::read_to_string(&solution_path)
        .with_context(|| format!("cannot read {}", solution_path.display()))?;
    for path in paths {
        if path.extension().is_none_or(|e| e != "patch") {
            bail!(
                "{}: every file in {} must be a mutant, `<name>.patch` (a diff against {})",
                path.display(),
                dir.display(),
                solution_path.display()
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let (header, diff) =
            split_patch(&text).with_context(|| format!("in {}", path.display()))?;
        let Header {
            expect,
            rejected_by,
            causes,
            mistake,
        } = parse_header(header).with_context(|| format!("in {}", path.display()))?;
        if rejected_by.iter().any(|id| id == SIGNATURES) && rejected_by.len() > 1 {
            bail!(
                "{}: `rejected-by: {SIGNATURES}` stands alone (a mutant that does not compile runs no check)",
                path.display()
            );
        }
        for id in &rejected_by {
            if id != SIGNATURES && !step.checks.iter().any(|c| &c.id == id) {
                bail!(
                    "{} names `rejected-by: {id}`, but {} has no such check",
                    path.display(),
                    step.id
                );
            }
        }
        for (check, cause) in &causes {
            if step.cause(cause).is_none() {
                bail!(
                    "{} names `rejected-by: {check}/{cause}`, but course.toml gives {} no `[[step.cause]]` with id `{cause}`",
                    path.display(),
                    step.id
                );
            }
        }
        let source =
            apply_patch(&solution, diff).with_context(|| format!("in {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        mutants.push(Mutant {
            step: step.id.clone(),
            name,
            path,
            expect,
            rejected_by,
            causes,
            mistake,
            source,
        });
    }
    Ok(mutants)
}

/// The `rejected-by` of a mutant that changes a given signature: the
/// checks crate's `src/signatures.rs` must refuse to compile against it.
pub const SIGNATURES: &str = "signatures";

/// One grading of one mutant.
#[derive(Debug, Clone, Serialize)]
struct Run {
    /// `all-cpus` or `one-cpu`.
    cpus: &'static str,
    /// `pass`, `fail` (some check failed) or `compile-error`.
    got: String,
    /// The checks that did not pass, with their status (fail, timeout,
    /// crash) and the cause they named: `blame (fail, none-when-calm)`.
    failing: Vec<String>,
    /// The cause each failing check named, in the same order.
    causes: Vec<Option<String>>,
    /// What each failing check said, in the same order.
    messages: Vec<String>,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct MutantVerdict {
    step: String,
    mutant: String,
    /// The mutant's file.
    file: PathBuf,
    expected: Expect,
    rejected_by: Vec<String>,
    /// The causes its header requires (check id -> cause id).
    causes: BTreeMap<String, String>,
    mistake: String,
    runs: Vec<Run>,
    build_seconds: f64,
    ok: bool,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct MutantsJson {
    schema_version: u32,
    kind: &'static str,
    ok: bool,
    mutants: Vec<MutantVerdict>,
}

/// The scratch workspace: a copy of the course without build output, git
/// or the grader's state, whose exercise slots receive mutants. Files are
/// copied only when their bytes differ, so the scratch build stays
/// incremental from one run to the next.
pub struct Scratch {
    /// The copy, with its own manifest.
    pub ws: Repo,
    /// Its grader state (`COURSE_STATE_DIR`).
    state: PathBuf,
}

impl Scratch {
    /// Copies the course into `target/mutants/ws` and points the grader's
    /// build state there, never at the learner's.
    pub fn open(repo: &Repo) -> Result<Scratch> {
        let root = repo.root.join("target").join("mutants").join("ws");
        std::fs::create_dir_all(&root)?;
        sync_tree(&repo.root, &root, Path::new(""))?;
        let state = root.join(".course");
        // The grader keeps its build stamps and kept binaries in the state
        // directory.
        std::env::set_var("COURSE_STATE_DIR", &state);
        std::env::remove_var("CARGO_TARGET_DIR");
        let ws = Repo {
            course: Course::load(&root).map_err(anyhow::Error::msg)?,
            root,
        };
        Ok(Scratch { ws, state })
    }

    /// The scratch workspace's own entry for `id`.
    pub fn step(&self, id: &str) -> Result<&Step> {
        self.ws
            .course
            .steps
            .iter()
            .find(|s| s.id == id)
            .context("the scratch workspace's manifest lost a step")
    }

    fn slot(&self, step: &Step) -> PathBuf {
        self.ws
            .root
            .join(&step.exercise_crate)
            .join("src")
            .join("lib.rs")
    }

    /// Writes `mutant` into the step's exercise slot and builds the step's
    /// checks against it: the build, whether the exercise crate was really
    /// compiled (no stamp may let the build skip it), and the seconds taken.
    pub fn build(&self, step: &Step, mutant: &Mutant) -> Result<(Built, bool, f64)> {
        write_if_changed(&self.slot(step), mutant.source.as_bytes())?;
        let _ = std::fs::remove_dir_all(self.state.join("build-stamps"));
        let exercise_target = step
            .exercise_crate
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('-', "_");
        let mut compiled_exercise = false;
        let started = Instant::now();
        let built = build::build_checks(&self.ws, step, Target::Exercise, false, &mut |name| {
            if name.replace('-', "_") == exercise_target {
                compiled_exercise = true;
            }
        })?;
        Ok((built, compiled_exercise, started.elapsed().as_secs_f64()))
    }

    /// Leaves the step's scratch slot as the course has it.
    pub fn restore(&self, repo: &Repo, step: &Step) -> Result<()> {
        write_if_changed(
            &self.slot(step),
            &std::fs::read(repo.path(&step.exercise_crate).join("src/lib.rs"))?,
        )
    }
}

fn skipped(relative: &Path) -> bool {
    let s = relative.to_string_lossy().replace('\\', "/");
    matches!(
        s.as_str(),
        "target" | ".git" | ".course" | "book/book" | "node_modules"
    ) || s.ends_with("/target")
}

fn sync_tree(from_root: &Path, to_root: &Path, relative: &Path) -> Result<()> {
    let from = from_root.join(relative);
    for entry in
        std::fs::read_dir(&from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let rel = relative.join(entry.file_name());
        if skipped(&rel) {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to_root.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
            sync_tree(from_root, to_root, &rel)?;
        } else if kind.is_file() {
            write_if_changed(&target, &std::fs::read(entry.path())?)?;
        }
    }
    Ok(())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(format: Format, only_step: Option<&str>, only: Option<&str>) -> Result<ExitCode> {
    let repo = Repo::open()?;
    let only_step = only_step
        .map(|s| repo.step(s))
        .transpose()?
        .map(|s| s.id.clone());
    let human = format == Format::Human;
    let scratch = Scratch::open(&repo)?;
    let started = Instant::now();
    let mut work = Vec::new();
    for step in &repo.course.steps {
        if only_step.as_ref().is_some_and(|id| *id != step.id) {
            continue;
        }
        let mut mutants = load(&repo.root, step)?;
        if let Some(only) = only {
            mutants.retain(|m| m.name.contains(only));
        }
        if !mutants.is_empty() {
            work.push((step, scratch.step(&step.id)?, mutants));
        }
    }
    let copies = Copies::new(&repo)?;
    // A mutant built waits in `send` until a runner is free: at most
    // [`AT_ONCE`] are graded while the next one is built.
    let (jobs, next_job) = mpsc::sync_channel::<(usize, &Step, &Mutant, Prepared)>(0);
    let next_job = Mutex::new(next_job);
    let (done, finished) = mpsc::channel();
    let verdicts = std::thread::scope(|s| -> Result<Vec<MutantVerdict>> {
        for _ in 0..AT_ONCE {
            let (next_job, done, ws) = (&next_job, done.clone(), &scratch.ws);
            s.spawn(move || {
                loop {
                    // The lock is held only while a runner waits for its
                    // next job (its own statement, so that the guard is
                    // dropped before the job is graded).
                    let job = next_job.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((index, step, mutant, prepared)) = job else {
                        break;
                    };
                    if done
                        .send((index, judge(ws, step, mutant, prepared)))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut rows = InOrder::new(human);
        let mut index = 0;
        for (step, ws_step, mutants) in &work {
            for mutant in mutants {
                if human {
                    anstream::println!(
                        "{} {} {}",
                        paint(NOTE, "Grading"),
                        step.short_id(),
                        mutant.name
                    );
                }
                let prepared = prepare(&scratch, &copies, ws_step, mutant)?;
                if prepared.exe.is_some() {
                    jobs.send((index, ws_step, mutant, prepared))
                        .map_err(|_| anyhow::anyhow!("every mutant runner stopped"))?;
                } else {
                    rows.add(index, judge(&scratch.ws, ws_step, mutant, prepared));
                }
                for (i, verdict) in finished.try_iter() {
                    rows.add(i, verdict);
                }
                index += 1;
            }
            scratch.restore(&repo, step)?;
        }
        drop(jobs);
        for (i, verdict) in finished {
            rows.add(i, verdict);
        }
        Ok(rows.into_verdicts())
    })?;
    let ok = !verdicts.is_empty() && verdicts.iter().all(|v| v.ok);
    if human {
        print_summary(&verdicts, started.elapsed().as_secs_f64());
    } else {
        report::print_json(&MutantsJson {
            schema_version: report::SCHEMA_VERSION,
            kind: "verify-mutants",
            ok,
            mutants: verdicts,
        });
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How many built mutants are graded at once, each on all CPUs and on one,
/// while the next one is built. Their checks mostly wait (for a child, a
/// gate, a job's time limit), so two at a time take about half as long; the
/// load they put on each other is one the verdicts must not notice anyway.
const AT_ONCE: usize = 2;

/// Verdicts that finish out of order, printed and kept in the mutants' order.
struct InOrder {
    human: bool,
    waiting: BTreeMap<usize, MutantVerdict>,
    done: Vec<MutantVerdict>,
}

impl InOrder {
    fn new(human: bool) -> InOrder {
        InOrder {
            human,
            waiting: BTreeMap::new(),
            done: Vec::new(),
        }
    }

    fn add(&mut self, index: usize, verdict: MutantVerdict) {
        self.waiting.insert(index, verdict);
        while let Some(verdict) = self.waiting.remove(&self.done.len()) {
            if self.human {
                print_row(&verdict);
            }
            self.done.push(verdict);
        }
    }

    fn into_verdicts(self) -> Vec<MutantVerdict> {
        self.done
    }
}

/// Where each built mutant's checks binary is copied before it is graded:
/// the next mutant's build replaces the grader's kept binary meanwhile.
struct Copies(PathBuf);

impl Copies {
    fn new(repo: &Repo) -> Result<Copies> {
        let dir = repo.root.join("target").join("mutants").join("graded");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Copies(dir))
    }

    fn copy(&self, step: &Step, mutant: &Mutant, exe: &Path) -> Result<PathBuf> {
        let copy = self.0.join(format!(
            "{}-{}{}",
            step.id,
            mutant.name,
            std::env::consts::EXE_SUFFIX
        ));
        std::fs::copy(exe, &copy)
            .with_context(|| format!("copying {} to {}", exe.display(), copy.display()))?;
        Ok(copy)
    }
}

/// A mutant built: its own copy of the checks binary (none if it did not
/// compile), and what the build already showed.
struct Prepared {
    exe: Option<PathBuf>,
    diagnostics: Vec<build::Diagnostic>,
    build_seconds: f64,
    problems: Vec<String>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(exe) = &self.exe {
            let _ = std::fs::remove_file(exe);
        }
    }
}

/// Builds `mutant` in the scratch workspace and copies its checks binary.
fn prepare(scratch: &Scratch, copies: &Copies, step: &Step, mutant: &Mutant) -> Result<Prepared> {
    let mut problems = Vec::new();
    let (built, compiled_exercise, build_seconds) = scratch.build(step, mutant)?;
    if matches!(built, Built::Ok { .. }) && !compiled_exercise {
        problems.push(format!(
            "the build did not recompile {} after the mutant was written: its verdict would be another file's",
            step.exercise_crate
        ));
    }
    Ok(match built {
        Built::Failed { diagnostics } => Prepared {
            exe: None,
            diagnostics,
            build_seconds,
            problems,
        },
        Built::Ok { exe, .. } => Prepared {
            exe: Some(copies.copy(step, mutant, &exe)?),
            diagnostics: Vec::new(),
            build_seconds,
            problems,
        },
    })
}

/// Grades a built mutant: its checks on all CPUs and on one, and whether
/// they said what its header promises.
fn judge(ws: &Repo, step: &Step, mutant: &Mutant, prepared: Prepared) -> MutantVerdict {
    let mut problems = prepared.problems.clone();
    let build_seconds = prepared.build_seconds;
    let mut runs = Vec::new();
    match &prepared.exe {
        None => {
            let diagnostics = &prepared.diagnostics;
            let first = diagnostics
                .first()
                .map(|d| report::strip_ansi(&d.rendered))
                .unwrap_or_default();
            let pinned = crate::pinned::signatures_file(step);
            let in_pinned = diagnostics.first().is_some_and(|d| {
                d.file
                    .as_ref()
                    .is_some_and(|(f, _)| f.replace('\\', "/").ends_with(&pinned))
            });
            if mutant.rejected_by != [SIGNATURES] {
                problems.push(format!(
                    "does not compile (a mutant must compile and fail at run time, unless it changes a given signature and says `rejected-by: {SIGNATURES}`):\n{}",
                    first.trim_end()
                ));
            } else if !in_pinned {
                problems.push(format!(
                    "does not compile, but its first error is not in {pinned}, which pins the given API:\n{}",
                    first.trim_end()
                ));
            }
            runs.push(Run {
                cpus: "all-cpus",
                got: "compile-error".to_string(),
                failing: Vec::new(),
                causes: Vec::new(),
                messages: Vec::new(),
                seconds: 0.0,
            });
        }
        Some(exe) => {
            if mutant.rejected_by == [SIGNATURES] {
                problems.push(format!(
                    "it compiles, but it says it changes a given signature: {} should have refused it",
                    crate::pinned::signatures_file(step)
                ));
            }
            // The same binary, graded on all CPUs and, at the same time on
            // another thread, pinned to one CPU. Running both at once is a
            // load the verdicts must not notice anyway.
            let pinned = cfg!(target_os = "linux");
            let (free, one) = std::thread::scope(|s| {
                let one = pinned.then(|| {
                    s.spawn(|| {
                        let guard = affinity::pin_to_one_cpu();
                        guard.as_ref().map(|_| run_checks(ws, step, exe, "one-cpu"))
                    })
                });
                let free = run_checks(ws, step, exe, "all-cpus");
                (
                    free,
                    one.map(|h| h.join().expect("the pinned grading panicked")),
                )
            });
            runs.push(free);
            match one {
                Some(Some(run)) => runs.push(run),
                Some(None) => problems.push("could not pin the grader to one CPU".into()),
                None => {}
            }
        }
    }
    for run in &runs {
        for (f, m) in run.failing.iter().zip(&run.messages) {
            if f.ends_with("(error)") {
                problems.push(format!("`{f}` could not run: {m}"));
            }
        }
    }

    for run in &runs {
        let failed: BTreeSet<&str> = run
            .failing
            .iter()
            .map(|f| f.split(' ').next().unwrap_or(""))
            .collect();
        let on = if run.cpus == "one-cpu" {
            " on one CPU"
        } else {
            ""
        };
        match mutant.expect {
            Expect::Right => {
                if !run.failing.is_empty() {
                    problems.push(format!(
                        "a right answer fails{on}: {}",
                        run.failing.join(", ")
                    ));
                }
            }
            Expect::Wrong => {
                if run.got == "pass" {
                    problems.push(format!("a wrong answer passes every check{on}"));
                    continue;
                }
                if run.got != "fail" {
                    continue;
                }
                let named: BTreeSet<&str> = mutant.rejected_by.iter().map(String::as_str).collect();
                let missing: Vec<&str> = named.difference(&failed).copied().collect();
                let extra: Vec<&str> = failed.difference(&named).copied().collect();
                if !missing.is_empty() {
                    problems.push(format!(
                        "not rejected by {}{on}, which its header names",
                        missing.join(", ")
                    ));
                }
                if !extra.is_empty() {
                    problems.push(format!(
                        "also rejected by {}{on}, which its header does not name",
                        extra.join(", ")
                    ));
                }
                // A cause the check names must have its own hints, and the
                // header must say it: otherwise a learner would see the
                // check's fallback hints, and nobody would have chosen that.
                for (f, cause) in run.failing.iter().zip(&run.causes) {
                    let (Some(check), Some(cause)) = (f.split(' ').next(), cause) else {
                        continue;
                    };
                    if step.cause(cause).is_none() {
                        problems.push(format!(
                            "rejected by {check}{on} with the cause `{cause}`, which course.toml does not define for {}: the learner would see the check's own hints",
                            step.id
                        ));
                    } else if !mutant.causes.contains_key(check) {
                        problems.push(format!(
                            "rejected by {check}{on} with the cause `{cause}`, but its header says only `{check}`: write `rejected-by: {check}/{cause}`"
                        ));
                    }
                }
                for (check, wanted) in &mutant.causes {
                    let got = run
                        .failing
                        .iter()
                        .zip(&run.causes)
                        .find(|(f, _)| f.split(' ').next() == Some(check.as_str()))
                        .map(|(_, cause)| cause.as_deref());
                    match got {
                        Some(Some(cause)) if cause == wanted => {}
                        Some(Some(cause)) => problems.push(format!(
                            "rejected by {check}{on} with the cause `{cause}`, but its header names `{check}/{wanted}`: the learner would see the hints of another mistake"
                        )),
                        Some(None) => problems.push(format!(
                            "rejected by {check}{on} without a cause, but its header names `{check}/{wanted}`: the learner would see the check's own hints"
                        )),
                        None => {} // not rejected at all: said above
                    }
                }
            }
        }
    }
    if let [a, b] = &runs[..] {
        if a.failing != b.failing {
            problems.push(format!(
                "the verdict depends on the number of CPUs: [{}] on all CPUs, [{}] on one",
                a.failing.join(", "),
                b.failing.join(", ")
            ));
        }
    }
    drop(prepared);
    MutantVerdict {
        step: mutant.step.clone(),
        mutant: mutant.name.clone(),
        file: mutant.path.clone(),
        expected: mutant.expect.clone(),
        rejected_by: mutant.rejected_by.clone(),
        causes: mutant.causes.clone(),
        mistake: mutant.mistake.clone(),
        ok: problems.is_empty(),
        runs,
        build_seconds,
        problems,
    }
}

/// Runs every check of `step` on `exe` as the grader does (one process per
/// check, the manifest's limits and checks at once, the grader's
/// environment).
fn run_checks(ws: &Repo, step: &Step, exe: &Path, cpus: &'static str) -> Run {
    let env: Vec<(OsString, OsString)> = vec![("RUST_BACKTRACE".into(), "0".into())];
    let t = Instant::now();
    let mut failing = Vec::new();
    let mut causes = Vec::new();
    let mut messages = Vec::new();
    // Neither callback returns an error, so neither can the run.
    let _ = grade::run_checks(ws, step, exe, &env, &|| Ok(()), &mut |graded| {
        if !graded.passed() {
            let status = graded.report.verdict.status();
            failing.push(match graded.cause() {
                Some(cause) => format!("{} ({status}, {cause})", graded.info.id),
                None => format!("{} ({status})", graded.info.id),
            });
            causes.push(graded.cause().map(String::from));
            messages.push(graded.message());
        }
        Ok(())
    });
    Run {
        cpus,
        got: if failing.is_empty() { "pass" } else { "fail" }.to_string(),
        failing,
        causes,
        messages,
        seconds: t.elapsed().as_secs_f64(),
    }
}

fn describe_runs(v: &MutantVerdict) -> (String, String) {
    let got = v
        .runs
        .iter()
        .map(|r| r.got.as_str())
        .collect::<Vec<_>>()
        .join("/");
    let failing = v
        .runs
        .first()
        .map(|r| r.failing.join(", "))
        .unwrap_or_default();
    (got, failing)
}

fn print_row(v: &MutantVerdict) {
    let (got, failing) = describe_runs(v);
    let seconds = v.build_seconds + v.runs.iter().map(|r| r.seconds).fold(0.0, f64::max);
    let expected = match v.expected {
        Expect::Wrong => format!(
            "wrong, {}",
            v.rejected_by
                .iter()
                .map(|id| match v.causes.get(id) {
                    Some(cause) => format!("{id}/{cause}"),
                    None => id.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expect::Right => "right".to_string(),
    };
    let result = if v.ok {
        paint(OK, "ok")
    } else {
        paint(BAD, "PROBLEM")
    };
    anstream::println!(
        "  {:<34} {:<38} {:<10} {:<40} {:>6.1}s {result}",
        v.mutant,
        expected,
        got,
        if failing.is_empty() { "-" } else { &failing },
        seconds
    );
    for p in &v.problems {
        anstream::println!("      {} {p}", paint(DIM, "-"));
    }
}

fn print_summary(verdicts: &[MutantVerdict], seconds: f64) {
    println!();
    anstream::println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:<24} {:>6} {:>6} {:>9}",
                "step", "wrong", "right", "problems"
            )
        )
    );
    let mut steps: Vec<&str> = verdicts.iter().map(|v| v.step.as_str()).collect();
    steps.dedup();
    for step in steps {
        let of: Vec<&MutantVerdict> = verdicts.iter().filter(|v| v.step == step).collect();
        anstream::println!(
            "{:<24} {:>6} {:>6} {:>9}",
            step,
            of.iter().filter(|v| v.expected == Expect::Wrong).count(),
            of.iter().filter(|v| v.expected == Expect::Right).count(),
            of.iter().filter(|v| !v.ok).count()
        );
    }
    let bad = verdicts.iter().filter(|v| !v.ok).count();
    println!();
    if verdicts.is_empty() {
        anstream::println!(
            "{} no mutants found under checks/*/mutants/",
            paint(BAD, "not verified:")
        );
    } else if bad == 0 {
        anstream::println!(
            "{} {} mutants: every wrong answer is rejected by the check it names, every right answer passes ({seconds:.0} s).",
            paint(OK, "verified:"),
            verdicts.len()
        );
    } else {
        anstream::println!(
            "{} {bad} of {} mutants have problems ({seconds:.0} s).",
            paint(BAD, "not verified:"),
            verdicts.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_header_names_its_checks() {
        let text = "mutant: wrong\nrejected-by: a, b\nmistake: it forgets\n\n--- s\n+++ m\n";
        let (header, diff) = split_patch(text).unwrap();
        assert!(diff.starts_with("--- s\n"));
        let read = parse_header(header).unwrap();
        assert_eq!(read.expect, Expect::Wrong);
        assert_eq!(read.rejected_by, ["a", "b"]);
        assert!(read.causes.is_empty());
        assert_eq!(read.mistake, "it forgets");
    }

    #[test]
    fn a_wrong_header_may_name_the_cause_a_check_must_give() {
        let read = parse_header("mutant: wrong\nrejected-by: a/queue-not-closed, b\nmistake: x\n")
            .unwrap();
        assert_eq!(read.rejected_by, ["a", "b"]);
        assert_eq!(
            read.causes,
            BTreeMap::from([("a".to_string(), "queue-not-closed".to_string())])
        );
        for bad in ["a/", "/c"] {
            let header = format!("mutant: wrong\nrejected-by: {bad}\nmistake: x\n");
            assert!(parse_header(&header).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_that_say_too_little_are_refused() {
        assert!(parse_header("mutant: wrong\nmistake: x\n").is_err());
        assert!(parse_header("mutant: right\nrejected-by: a\ndesign: x\n").is_err());
        assert!(parse_header("mistake: x\n").is_err());
        assert!(parse_header("mutant: maybe\nmistake: x\n").is_err());
        assert!(parse_header("mutant: right\ndesign: x\nrejected_by: a\n").is_err());
        assert!(parse_header("mutant: right\ndesign: x\nsome prose\n").is_err());
        assert!(split_patch("mutant: right\ndesign: x\n").is_err());
    }

    const SOLUTION: &str = "fn a() {}\nfn b() {\n    one();\n}\nfn c() {}\n";

    #[test]
    fn a_diff_is_applied_to_the_solution() {
        let diff = "--- s\n+++ m\n@@ -2,3 +2,3 @@\n fn b() {\n-    one();\n+    two();\n }\n";
        let source = apply_patch(SOLUTION, diff).unwrap();
        assert_eq!(source, "fn a() {}\nfn b() {\n    two();\n}\nfn c() {}\n");
    }

    #[test]
    fn a_diff_that_no_longer_applies_is_an_error() {
        // The solution changed under the mutant: its context line is gone.
        let diff = "--- s\n+++ m\n@@ -2,3 +2,3 @@\n fn b(x: u8) {\n-    one();\n+    two();\n }\n";
        let err = apply_patch(SOLUTION, diff).unwrap_err().to_string();
        assert!(err.contains("no longer applies"), "{err}");
        // And a diff that changes nothing is not a mutant.
        assert!(apply_patch(SOLUTION, "--- s\n+++ m\n").is_err());
    }

    #[test]
    fn every_mutant_in_the_course_applies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let course = Course::load(root).unwrap();
        let mut count = 0;
        for step in &course.steps {
            count += load(root, step).unwrap().len();
        }
        assert!(count > 0);
    }

    #[test]
    fn build_output_and_state_are_not_copied() {
        for p in [
            "target",
            ".git",
            ".course",
            "book/book",
            "xtask/bench/target",
        ] {
            assert!(skipped(Path::new(p)), "{p}");
        }
        for p in ["exercises", "checks/step1-blocking/mutants", "book/src"] {
            assert!(!skipped(Path::new(p)), "{p}");
        }
    }
}
