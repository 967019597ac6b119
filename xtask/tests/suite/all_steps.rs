//! The whole course, as CI sees it: `cargo xtask verify` must pass. Every
//! reference solution passes all of its checks, every untouched exercise
//! fails every one of its checks at run time (not by a compile error), the
//! manifest and the checks crates list the same checks, and
//! xtask/originals.toml matches the exercises. And no test is written where
//! `cargo test` never runs it.

use assert_cmd::Command;

#[test]
fn every_solution_passes_and_every_untouched_exercise_fails() {
    let root = crate::common::repo_root();
    let state = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("xtask")
        .unwrap()
        .current_dir(&root)
        .env_remove("COURSE_ROOT")
        .env("COURSE_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .arg("verify")
        .timeout(std::time::Duration::from_secs(1800))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "cargo xtask verify failed:\n{stdout}\n{stderr}"
    );
}

/// `cargo test` builds no test harness of a target marked `test = false`
/// (the checks binaries, the solutions: the grader builds them itself), nor
/// runs the doc tests of a library marked `doctest = false`. A test written
/// into one would never run, so none may hold one: no `#[test]` and no
/// `#[cfg(test)]` in its source folder, and no code block in a doc comment
/// (`///` or `//!`) of a library without doc tests.
#[test]
fn no_target_that_cargo_test_skips_holds_a_test() {
    let root = crate::common::repo_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(&root)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut skipped = 0;
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            // Build scripts and examples are never tested: only binaries
            // and libraries can be.
            let kind = |k: &str| target["kind"].as_array().unwrap().iter().any(|t| t == k);
            if !kind("bin") && !kind("lib") {
                continue;
            }
            let no_tests = target["test"] == false;
            let no_doc_tests = target["doctest"] == false && kind("lib");
            if !no_tests && !no_doc_tests {
                continue;
            }
            skipped += 1;
            let src = std::path::Path::new(target["src_path"].as_str().unwrap());
            let mut files = Vec::new();
            rust_files(src.parent().unwrap(), &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let doc_code = text
                    .lines()
                    .map(str::trim_start)
                    .any(|l| (l.starts_with("///") || l.starts_with("//!")) && l.contains("```"));
                if (no_tests && (text.contains("#[test]") || text.contains("#[cfg(test)]")))
                    || (no_doc_tests && doc_code)
                {
                    found.push(file.display().to_string());
                }
            }
        }
    }
    assert!(
        skipped > 0,
        "no target is marked `test = false`: is this test still needed?"
    );
    assert!(
        found.is_empty(),
        "tests that `cargo test` would never run (their target says `test = false` or `doctest = false` in its Cargo.toml): {found:?}"
    );
}

fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}
