//! A score the fork cannot fake: a "cheating fork" (its step-1 checks
//! rewritten to pass, course.toml's step 1 cut to fewer points, the score
//! table and a solution edited, a link into the checks and an oversized file
//! among its exercise files) is graded by the Classroom 50 autograder
//! (`classroom50/autograder.py`) and by the autograde workflow exactly as the
//! untouched course is.
//!
//! And an exercise that borrows the reference solution from the grading
//! checkout (`#[path]` into `solutions/`) does not pass.
//!
//! The upstream is a git repository made from this working tree, pinned at
//! its commit; both graders check it out and take only the fork's
//! `exercises/`. Only step 1 is graded, to keep the test quick. `cargo
//! xtask` stands for this build of the grader (the pinned commit's source is
//! this tree): the autograder's `COURSE_GRADER`, and a `cargo` on PATH for
//! the workflow's `run:` steps that sends `cargo xtask` to it and every other
//! cargo command to cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::repo_root;

/// Cargo itself, never the shim: `cargo` found on PATH while the shims
/// lead PATH would be the shim again, exec'ing itself for ever (the test
/// binary run without cargo test, which sets CARGO).
fn real_cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .map(|dir| dir.join("cargo"))
                .find(|cargo| cargo.is_file())
                .expect("no cargo on PATH")
        })
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The course's files as this working tree has them (tracked and new, not
/// ignored), copied into `to`.
fn copy_tree(to: &Path) {
    let root = repo_root();
    let list = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for rel in list.split('\0').filter(|r| !r.is_empty()) {
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
}

/// What a cheater changes: everything that grades, nothing of the exercise.
fn cheat(fork: &Path) {
    let checks = fork.join("checks/step1-blocking/src/main.rs");
    std::fs::write(
        &checks,
        "use check_harness::{Check, CheckResult};\n\
         fn pass() -> CheckResult { Ok(()) }\n\
         fn main() {\n    check_harness::main(&[\n        Check::new(\"fifo-order\", pass),\n        Check::new(\"posted-during-run\", pass),\n        Check::new(\"queue-delay\", pass),\n        Check::new(\"blame\", pass),\n        Check::new(\"empty-loop\", pass),\n    ]);\n}\n",
    )
    .unwrap();
    // course.toml: step 1 keeps only its first check (1 point, not 5).
    let manifest = fork.join("course.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let cut_from = text
        .find("[[step.check]]\nid = \"posted-during-run\"")
        .unwrap();
    let cut_to = text
        .find("[[step.cause]]\nid = \"none-when-calm\"")
        .unwrap();
    let text = format!("{}{}", &text[..cut_from], &text[cut_to..]);
    std::fs::write(&manifest, text).unwrap();
    // The score table always says full marks; a solution is emptied.
    let score = fork.join("xtask/src/commands/score.rs");
    let text = std::fs::read_to_string(&score).unwrap();
    std::fs::write(
        &score,
        text.replace("{got} / {max} points", "44 / 44 points"),
    )
    .unwrap();
    std::fs::write(fork.join("solutions/step1-blocking/src/lib.rs"), "").unwrap();
    // A link to the checks among the exercise's files, an oversized file,
    // and a cargo configuration at the fork's root.
    let exercise = fork.join("exercises/step1-blocking");
    std::os::unix::fs::symlink(
        "../../checks/step1-blocking/src/main.rs",
        exercise.join("src/link.rs"),
    )
    .unwrap();
    std::fs::write(exercise.join("big.bin"), vec![b'x'; 3 * 1024 * 1024]).unwrap();
    std::fs::create_dir_all(fork.join(".cargo")).unwrap();
    std::fs::write(
        fork.join(".cargo/config.toml"),
        "[build]\nrustflags = [\"--cfg\", \"cheat\"]\n",
    )
    .unwrap();
}

/// The environment every grading run here shares.
fn grader_env(cmd: &mut Command, shims: &Path) {
    let xtask = assert_cmd::cargo::cargo_bin("xtask");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("classroom50-target");
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("CARGO_TARGET_DIR", target)
        .env("XTASK_BIN", &xtask)
        .env("REAL_CARGO", real_cargo())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("COURSE_ROOT")
        .env_remove("COURSE_STATE_DIR")
        .env_remove("COURSE_MAINTAINER")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY");
}

/// What the autograder said about the fork in `ws/fork`: result.json (its
/// time left out), release-body.md, and the log's two legacy notices.
fn autograde(ws: &Path, upstream_src: &Path, rev: &str, shims: &Path) -> (Value, String, String) {
    let fork = ws.join("fork");
    let output = ws.join("github-output");
    let mut cmd = Command::new("python3");
    cmd.arg(repo_root().join("classroom50/autograder.py"))
        .current_dir(&fork);
    grader_env(&mut cmd, shims);
    cmd.env("COURSE_UPSTREAM_URL", upstream_src)
        .env("COURSE_UPSTREAM_REV", rev)
        .env("COURSE_UPSTREAM_DIR", ws.join("upstream"))
        .env("COURSE_GRADER", assert_cmd::cargo::cargo_bin("xtask"))
        .env("CLASSROOM", "rust-threads")
        .env("ASSIGNMENT", "threads-step1")
        .env("USERNAME", "mallory")
        .env("SUBMISSION_TAG", "submit/2026-12-06T21-30-00Z-abc1234")
        .env("COMMIT_URL", "https://github.com/org/r/commit/abc")
        .env(
            "RELEASE_URL",
            "https://github.com/org/r/releases/tag/submit%2F1",
        )
        .env("REVIEW_URL", "https://github.com/org/r/compare/a...b")
        .env("GITHUB_OUTPUT", &output);
    let out = cmd.output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut result: Value =
        serde_json::from_str(&std::fs::read_to_string(fork.join("result.json")).unwrap()).unwrap();
    assert!(result["datetime"].as_str().unwrap().ends_with('Z'));
    result.as_object_mut().unwrap().remove("datetime");
    let body = std::fs::read_to_string(fork.join("release-body.md")).unwrap();
    let notices: String = log
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .map(|l| format!("{l}\n"))
        .collect();
    let outputs = std::fs::read_to_string(&output).unwrap();
    std::fs::remove_file(&output).unwrap();
    (result, body, notices + &outputs)
}

/// Runs the workflow's `run:` steps (step 1 of the course only) in `ws`,
/// where `ws/fork` is the fork and `ws/upstream` a clean checkout of the
/// pinned upstream, as its two checkout steps leave them; returns the
/// summary page, the notices and the outputs.
fn run_workflow(workflow: &str, ws: &Path, shims: &Path) -> String {
    let upstream = ws.join("upstream");
    git(&upstream, &["reset", "-q", "--hard"]);
    git(&upstream, &["clean", "-q", "-fdx", "-e", "target"]);
    let docs = yaml_rust2::YamlLoader::load_from_str(workflow).unwrap();
    let steps = docs[0]["jobs"]["autograde"]["steps"].as_vec().unwrap();
    let summary = ws.join("summary.md");
    let output = ws.join("outputs");
    std::fs::write(&summary, "").unwrap();
    std::fs::write(&output, "").unwrap();
    let mut log = String::new();
    for step in steps {
        let Some(script) = step["run"].as_str() else {
            continue; // the `uses:` steps: checkouts (done above) and caches
        };
        if step["id"].as_str().is_some_and(|id| id != "step1") {
            continue;
        }
        let dir = ws.join(step["working-directory"].as_str().unwrap_or("."));
        let mut cmd = Command::new("bash");
        cmd.args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir);
        grader_env(&mut cmd, shims);
        cmd.env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output);
        let out = cmd.output().unwrap();
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        let _ = std::fs::write(ws.join("last-stderr"), &out.stderr);
    }
    let notices: String = log
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut result: Value = serde_json::from_str(
        &std::fs::read_to_string(upstream.join("autograde-results/result.json")).unwrap(),
    )
    .unwrap();
    result.as_object_mut().unwrap().remove("datetime");
    format!(
        "{}\n{notices}{}\n{}",
        std::fs::read_to_string(&summary).unwrap(),
        std::fs::read_to_string(&output).unwrap(),
        serde_json::to_string_pretty(&result).unwrap()
    )
}

#[test]
fn a_cheating_fork_gets_the_untouched_score_from_the_autograder_and_the_workflow() {
    if !have("python3") || !have("git") || !have("bash") {
        eprintln!("skipped: needs python3, git and bash");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The upstream: this working tree, committed, pinned at that commit.
    let src = tmp.path().join("course");
    copy_tree(&src);
    std::fs::write(
        src.join("xtask/upstream.toml"),
        "repository = \"example-org/threads-course\"\nrev = \"v1-pinned\"\n",
    )
    .unwrap();
    git(&src, &["init", "-q"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "the course, as pinned"]);
    let rev = git(&src, &["rev-parse", "HEAD"]);
    // The workflow as an instructor who pinned the upstream generates it.
    let generated = assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .args(["gen-autograde", "--check"])
        .env("COURSE_ROOT", &src)
        .output()
        .unwrap();
    assert!(
        !generated.status.success(),
        "the pinned workflow differs from the unpinned one"
    );
    assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .arg("gen-autograde")
        .env("COURSE_ROOT", &src)
        .assert()
        .success();
    let workflow = std::fs::read_to_string(src.join(".github/workflows/autograde.yml")).unwrap();
    assert!(
        workflow.contains("repository: example-org/threads-course\n"),
        "{workflow}"
    );
    assert!(workflow.contains("ref: v1-pinned\n"), "{workflow}");

    // `cargo xtask` is this grader; every other cargo command is cargo's.
    let shims = tmp.path().join("bin");
    std::fs::create_dir_all(&shims).unwrap();
    let shim = shims.join("cargo");
    std::fs::write(
        &shim,
        "#!/bin/sh\nif [ \"$1\" = xtask ]; then shift; exec \"$XTASK_BIN\" \"$@\"; fi\nexec \"$REAL_CARGO\" \"$@\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&shim).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&shim, perms).unwrap();

    let ws = tmp.path().join("ws");
    let fork = ws.join("fork");
    copy_tree(&fork);
    let (clean_result, clean_body, clean_log) = autograde(&ws, &src, &rev, &shims);
    let clean_workflow = run_workflow(&workflow, &ws, &shims);

    std::fs::remove_dir_all(&fork).unwrap();
    copy_tree(&fork);
    cheat(&fork);
    let (cheat_result, cheat_body, cheat_log) = autograde(&ws, &src, &rev, &shims);
    let cheat_workflow = run_workflow(&workflow, &ws, &shims);

    println!("{clean_workflow}\n{clean_log}");
    // An exercise that borrows the grading checkout's reference solution
    // (which passes 5/5 where the solutions are there) gets nothing from it.
    std::fs::remove_dir_all(&fork).unwrap();
    copy_tree(&fork);
    std::fs::write(
        fork.join("exercises/step1-blocking/src/lib.rs"),
        "#[path = \"../../../solutions/step1-blocking/src/lib.rs\"]\nmod solution;\npub use solution::*;\n",
    )
    .unwrap();
    let (borrowed, _, _) = autograde(&ws, &src, &rev, &shims);
    assert_eq!(borrowed["score"], 0, "{borrowed:#}");

    // The untouched exercise scores 0 of step 1's 5 points, in both.
    assert_eq!(clean_result["score"], 0, "{clean_result:#}");
    assert_eq!(clean_result["max-score"], 5, "{clean_result:#}");
    assert_eq!(clean_result["tests"].as_array().unwrap().len(), 5);
    assert!(clean_log.contains("Points 0/5\n"), "{clean_log}");
    assert!(
        clean_log.contains("{\"totalPoints\":0,\"maxPoints\":5}"),
        "{clean_log}"
    );
    assert!(clean_log.contains("status=failure\n"), "{clean_log}");
    assert!(
        clean_workflow.contains("| 1. The single-thread model | 0/5 | 0 / 5 |"),
        "{clean_workflow}"
    );
    // The cheat changes nothing.
    assert_eq!(cheat_result, clean_result);
    assert_eq!(cheat_body, clean_body);
    assert_eq!(cheat_log, clean_log);
    assert_eq!(cheat_workflow, clean_workflow);
    // The upstream's checks and manifest are as pinned after a grading.
    assert_eq!(
        git(
            &ws.join("upstream"),
            &[
                "status",
                "--porcelain",
                "--",
                "checks",
                "course.toml",
                "xtask"
            ]
        ),
        ""
    );
}

#[test]
fn take_exercises_copies_regular_files_only_and_within_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    let up = tmp.path().join("up");
    let fork = tmp.path().join("fork");
    copy_tree(&up);
    git(&up, &["init", "-q"]);
    git(&up, &["add", "-A"]);
    git(&up, &["commit", "-q", "-m", "course"]);
    copy_tree(&fork);
    let ex = fork.join("exercises/step2-offloading");
    std::fs::write(ex.join("src/extra.rs"), "pub fn extra() {}\n").unwrap();
    std::fs::write(ex.join("src/lib.rs"), "// mine\n").unwrap();
    std::fs::remove_file(ex.join("Cargo.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", ex.join("src/passwd.rs")).unwrap();
    std::fs::write(ex.join("huge.txt"), vec![b'a'; 2 * 1024 * 1024]).unwrap();
    std::fs::create_dir_all(ex.join("target/debug")).unwrap();
    std::fs::write(ex.join("target/debug/junk"), "x").unwrap();
    let mut deep = ex.join("d");
    for _ in 0..20 {
        deep = deep.join("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("f.rs"), "").unwrap();
    // A fork whose checks changed: never read.
    std::fs::write(
        fork.join("checks/step2-offloading/src/main.rs"),
        "fn main() {}\n",
    )
    .unwrap();

    let out = assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .args(["take-exercises", "--step", "step2", "--from"])
        .arg(&fork)
        .env("COURSE_ROOT", &up)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let mine = up.join("exercises/step2-offloading");
    assert_eq!(
        std::fs::read_to_string(mine.join("src/lib.rs")).unwrap(),
        "// mine\n"
    );
    assert!(mine.join("src/extra.rs").is_file());
    // The deleted Cargo.toml is graded as the original.
    assert!(
        stdout.contains("Cargo.toml: not in the fork; graded as the original"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(mine.join("Cargo.toml")).unwrap(),
        std::fs::read(repo_root().join("exercises/step2-offloading/Cargo.toml")).unwrap()
    );
    assert!(!mine.join("src/passwd.rs").exists());
    assert!(
        stderr.contains("src/passwd.rs skipped: a symbolic link"),
        "{stderr}"
    );
    assert!(!mine.join("huge.txt").exists());
    assert!(stderr.contains("huge.txt skipped: larger than"), "{stderr}");
    assert!(!mine.join("target").exists());
    assert!(
        stderr.contains("skipped: deeper than 12 folders"),
        "{stderr}"
    );
    // Nothing but that exercise changed, and the solutions' sources are
    // emptied (their manifests kept).
    let changed = git(&up, &["status", "--porcelain"]);
    for line in changed.lines() {
        let path = line.split_whitespace().last().unwrap();
        assert!(
            path.starts_with("exercises/step2-offloading/")
                || (path.starts_with("solutions/") && !path.ends_with("Cargo.toml")),
            "{changed}"
        );
    }
    let solution = std::fs::read_to_string(up.join("solutions/step1-blocking/src/lib.rs")).unwrap();
    assert!(
        solution.starts_with("// Emptied by `cargo xtask take-exercises`"),
        "{solution}"
    );
    assert!(up.join("solutions/step1-blocking/Cargo.toml").is_file());
}
