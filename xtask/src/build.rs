//! Building a step's checks binary with cargo, against the learner's
//! exercise or against the reference solution, and collecting what the
//! compiler said.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use course::Step;
use serde::Deserialize;

use crate::before_main;
use crate::kept;
use crate::repo::Repo;
use crate::stamp;

/// Which crate the checks are built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Exercise,
    Solution,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Exercise => "exercise",
            Target::Solution => "solution",
        }
    }

    /// The crate directory of `step` for this target, relative to the root.
    pub fn crate_dir(self, step: &Step) -> String {
        match self {
            Target::Exercise => step.exercise_crate.clone(),
            Target::Solution => step.solution_crate(),
        }
    }
}

/// One compiler diagnostic, as the compiler rendered it.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Diagnostic {
    pub rendered: String,
    pub is_error: bool,
    /// The primary location: file (relative to the root) and line.
    pub file: Option<(String, usize)>,
    /// rustc's error code (`E0373`), when it gave one.
    pub code: Option<String>,
    /// rustc's message, the first line of `rendered` without the level.
    pub message: String,
}

/// What a build produced.
pub enum Built {
    /// The checks binary (held: no other grader deletes it while this
    /// lives), and the warnings about the learner's crate.
    Ok {
        exe: PathBuf,
        held: Option<kept::Held>,
        warnings: Vec<Diagnostic>,
    },
    /// It did not compile.
    Failed { diagnostics: Vec<Diagnostic> },
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    message: Option<CompilerMessage>,
    #[serde(default)]
    target: Option<ArtifactTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    fresh: Option<bool>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    package_id: String,
    #[serde(default)]
    filenames: Vec<PathBuf>,
    #[serde(default)]
    linked_libs: Vec<String>,
    #[serde(default)]
    linked_paths: Vec<String>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    name: String,
    #[serde(default)]
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct CompilerMessage {
    rendered: Option<String>,
    level: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<ErrorCode>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct ErrorCode {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: usize,
    is_primary: bool,
}

/// Builds the checks of `step` against `target`. `colour` selects ANSI
/// rendering of diagnostics; `on_compiled` is called with the name of each
/// crate that had to be compiled (for progress output).
pub fn build_checks(
    repo: &Repo,
    step: &Step,
    target: Target,
    colour: bool,
    on_compiled: &mut dyn FnMut(&str),
) -> Result<Built> {
    let package = step.checks_package();
    if !repo.path(&step.checks_crate()).join("Cargo.toml").is_file() {
        bail!(
            "the checks of {} are missing ({} has no Cargo.toml); is your clone complete?",
            step.id,
            step.checks_crate()
        );
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&repo.root)
        .args(["build", "--quiet", "--package", &package, "--bin", &package])
        .arg(if colour {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        });
    // Cargo picks the features of dependencies from the packages a command
    // names. Alone, the checks would get serde's derive (and syn, quote,
    // proc-macro2, serde, serde_json and the harness after it) with other
    // features than the grader has, and compile all of them a second time
    // (5 s of a first check). Named together with the grader, they share its
    // builds; only the checks' binary is built (`--bin`).
    if grader_in_workspace(&repo.root) {
        cmd.args(["--package", env!("CARGO_PKG_NAME")]);
    }
    if target == Target::Solution {
        cmd.args(["--no-default-features", "--features"])
            .arg(format!("{package}/solution"));
    }
    if step.build.release {
        cmd.arg("--release");
    }
    if !step.build.cfg.is_empty() {
        // With the target named, RUSTFLAGS reach only what runs in the
        // checks, whose builds go to target/<host>/ apart from the normal
        // ones; build scripts and proc-macros (serde_derive, syn) are built
        // without the cfg, as the grader's own are, and shared with them.
        if step.build.target_dir.is_none() {
            cmd.args(["--target", &host_target()?]);
        }
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        for cfg in &step.build.cfg {
            flags.push_str(&format!(" --cfg {cfg}"));
        }
        cmd.env("RUSTFLAGS", flags.trim());
    }
    if let Some(dir) = &step.build.target_dir {
        cmd.env("CARGO_TARGET_DIR", repo.path(dir));
    }

    // Nothing changed since the last build of exactly this? Skip cargo.
    let stamp_name = stamp_name(step, target);
    let key = format!(
        "{:?} {:?} RUSTFLAGS={:?} CARGO_TARGET_DIR={:?}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        cmd.get_envs()
            .find(|(k, _)| *k == "RUSTFLAGS")
            .and_then(|(_, v)| v)
            .map(|v| v.to_os_string())
            .or_else(|| std::env::var_os("RUSTFLAGS")),
        cmd.get_envs()
            .find(|(k, _)| *k == "CARGO_TARGET_DIR")
            .and_then(|(_, v)| v)
            .map(|v| v.to_os_string())
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR")),
    );
    let roots: Vec<PathBuf> = [
        target.crate_dir(step).as_str(),
        &step.checks_crate(),
        "xtask/harness",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
    ]
    .iter()
    .map(|p| repo.path(p))
    .collect();
    let inputs = stamp::fingerprint(repo, &roots);
    let previous = stamp::load(repo, &stamp_name);
    if let Some(stamp) = previous.as_ref().filter(|s| s.is_fresh(&key, &inputs)) {
        match kept::hold(&stamp.exe, &stamp.exe_sha1, &stamp.exe_identity) {
            Ok(held) => {
                return Ok(Built::Ok {
                    exe: held.exe.clone(),
                    held: Some(held),
                    warnings: stamp.warnings.clone(),
                })
            }
            Err(kept::Unusable::Gone) => {}
            Err(kept::Unusable::Changed) => crate::ui::warning(&format!(
                "the kept checks binary {} does not hold the bytes that were built (something replaced it); building it again",
                stamp.exe.display()
            )),
        }
        stamp::forget(repo, &stamp_name);
    }
    // From the first file touched to the binary kept, one grader at a time
    // per target folder.
    let _turn = BuildTurn::take(repo, &cmd, limit_of_build())?;
    // Cargo goes by modification times: make it see every change of bytes.
    let changed = stamp::changed(previous.as_ref(), &inputs, &target.crate_dir(step));
    let untouched = stamp::touch(repo, &changed);
    if let Some((file, e)) = untouched.first() {
        crate::ui::warning(&format!(
            "cannot update the modification time of {file} ({e}); rebuilding {package} from scratch so that the old build is not used"
        ));
        let graded = package_name(&repo.path(&target.crate_dir(step)));
        for name in graded.iter().chain([&package]) {
            clean_package(repo, &cmd, name);
        }
    }

    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Contained like a check: a process group of its own, listed so that
    // an interrupt ends it (see check_harness::cleanup), what it leaves
    // running (a build script's daemon) ended afterwards, and a time limit
    // that only catches a build that never ends.
    check_harness::containment::new_group(&mut cmd);
    check_harness::containment::adopt_orphans();
    let (mut child, _listed) =
        check_harness::cleanup::spawn_listed(true, || cmd.spawn()).context("cannot run cargo")?;
    let limit = limit_of_build();
    let (finished, watched) = std::sync::mpsc::channel::<()>();
    let cargo_pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let out_of_time = matches!(
            watched.recv_timeout(limit),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if out_of_time {
            check_harness::containment::end_tree(cargo_pid);
        }
        out_of_time
    });

    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let stdout = child.stdout.take().expect("stdout is piped");
    let mut exe = None;
    let mut diagnostics = Vec::new();
    let mut finished_ok = None;
    let mut libraries = Vec::new();
    let mut native = Vec::new();
    let shipped = Shipped {
        dirs: vec![repo.path(&step.checks_crate()), repo.path("xtask/harness")],
        registry: crate::shipped::registry_crates(repo),
    };
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        let Ok(msg) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                let name = msg.target.as_ref().map(|t| t.name.as_str()).unwrap_or("");
                if msg.fresh == Some(false) {
                    on_compiled(name);
                }
                if name == package {
                    if let Some(path) = msg.executable {
                        exe = Some(path);
                    }
                } else if msg
                    .target
                    .as_ref()
                    .is_some_and(|t| t.kind.iter().any(|k| k.ends_with("lib")))
                {
                    libraries.push(before_main::Library {
                        package: display_package(&msg.package_id, name),
                        shipped: is_shipped(&msg.package_id, &shipped),
                        files: msg.filenames,
                    });
                }
            }
            "build-script-executed"
                if !is_shipped(&msg.package_id, &shipped)
                    && (!msg.linked_libs.is_empty() || !msg.linked_paths.is_empty()) =>
            {
                native.push(before_main::Finding {
                    package: display_package(&msg.package_id, ""),
                    what: format!(
                        "a build script that links native code ({}), which can run before `main`",
                        msg.linked_libs
                            .iter()
                            .chain(&msg.linked_paths)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            "compiler-message" => {
                if let Some(d) = msg.message.and_then(diagnostic) {
                    diagnostics.push(d);
                }
            }
            "build-finished" => finished_ok = msg.success,
            _ => {}
        }
    }
    // Whatever the build started and left running ends with it.
    check_harness::containment::kill_group(&mut child);
    let status = child.wait().context("cannot wait for cargo")?;
    drop(finished);
    let out_of_time = watchdog.join().unwrap_or(false);
    check_harness::cleanup::end_orphans();
    let stderr = stderr_reader.join().unwrap_or_default();
    if out_of_time {
        bail!(
            "grader error: the build of {package} did not finish in {} s (a build script that never ends?); it was stopped, and nothing was recorded",
            limit.as_secs()
        );
    }

    if status.success() && finished_ok != Some(false) {
        let Some(exe) = exe else {
            bail!("cargo built {package} but did not say where the binary is");
        };
        hold_for_a_test();
        let mut findings = native;
        findings.extend(before_main::scan(&libraries));
        if !findings.is_empty() && !crate::shipped::maintainer() {
            bail!("{}", before_main::refusal(&step.id, &findings));
        }
        let crate_dir = target.crate_dir(step);
        let warnings = diagnostics
            .into_iter()
            .filter(|d| !d.is_error && d.file.as_ref().is_some_and(|(f, _)| in_dir(f, &crate_dir)))
            .collect::<Vec<_>>();
        // A stamp that cannot be kept only costs a rebuild next time.
        let dir = stamp::dir(repo);
        let kept =
            kept::keep(&dir, &stamp_name, &stamp::inputs_id(&inputs), &exe).and_then(|held| {
                let record = stamp::Stamp {
                    key,
                    inputs,
                    exe: held.exe.clone(),
                    exe_sha1: held.sha1.clone(),
                    exe_identity: held.identity.clone(),
                    warnings: warnings.clone(),
                };
                stamp::save(repo, &stamp_name, &record).map(|()| held)
            });
        return Ok(match kept {
            Ok(held) => Built::Ok {
                exe: held.exe.clone(),
                held: Some(held),
                warnings,
            },
            Err(e) => {
                crate::ui::warning(&format!(
                    "cannot record this build in {} ({e}); the next check will build again",
                    dir.display()
                ));
                Built::Ok {
                    exe,
                    held: None,
                    warnings,
                }
            }
        });
    }
    let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error).collect();
    if errors.is_empty() {
        bail!("cargo could not build {package}:\n{}", stderr.trim_end());
    }
    Ok(Built::Failed {
        diagnostics: errors,
    })
}

/// "step1-blocking 0.1.0", "libc 0.2.191" from cargo's package id
/// (`path+file:///…/step1-blocking#0.1.0`,
/// `registry+https://…#libc@0.2.191`).
fn display_package(package_id: &str, crate_name: &str) -> String {
    let tail = package_id.rsplit('#').next().unwrap_or(package_id);
    match tail.split_once('@') {
        Some((name, version)) => format!("{name} {version}"),
        None => {
            let dir = package_id
                .split('#')
                .next()
                .and_then(|p| p.rsplit('/').next())
                .filter(|d| !d.is_empty())
                .unwrap_or(crate_name);
            format!("{dir} {tail}")
        }
    }
}

/// The packages the course ships, for [`is_shipped`].
struct Shipped {
    /// The step's checks and the harness (see `crate::shipped`).
    dirs: Vec<PathBuf>,
    /// `name@version` of the registry crates in the course's lock file as
    /// shipped (cargo checks their bytes against the registry's checksums).
    registry: std::collections::BTreeSet<String>,
}

/// Whether a package is one the course ships.
fn is_shipped(package_id: &str, shipped: &Shipped) -> bool {
    if let Some(rest) =
        package_id.strip_prefix("registry+https://github.com/rust-lang/crates.io-index#")
    {
        return shipped.registry.contains(rest);
    }
    let shipped_dirs = &shipped.dirs;
    let Some(path) = package_id
        .strip_prefix("path+file://")
        .and_then(|p| p.split('#').next())
    else {
        return false;
    };
    shipped_dirs.iter().any(|d| same_dir(Path::new(path), d))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// How long a build may take before it is taken for a hang: generous (a
/// first build of loom on a slow laptop takes minutes), set by
/// `COURSE_BUILD_TIMEOUT_SECS` where a test needs it short.
fn limit_of_build() -> std::time::Duration {
    let secs = std::env::var("COURSE_BUILD_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(30 * 60);
    std::time::Duration::from_secs(secs)
}

/// A grader's turn to build in a target folder: an exclusive lock on
/// `course-build.lock` there, held from the first source file touched until
/// the built binary is kept. Two graders sharing the folder (two terminals,
/// `watch` beside `check`, tests in parallel) would otherwise interleave:
/// the second one's touch makes cargo compile the learner's crate again
/// while the first is still reading its library for code that runs before
/// `main`, or keeping its binary, and the first finds the file gone. Cargo's
/// own lock covers only the compiling.
struct BuildTurn(std::fs::File);

impl BuildTurn {
    /// Waits for the turn (saying so when another grader has it), at most
    /// `limit`: a turn held that long is a build that hangs, or a process
    /// that holds the lock without building.
    fn take(repo: &Repo, build: &Command, limit: std::time::Duration) -> Result<BuildTurn> {
        let dir = target_dir(repo, build);
        let path = dir.join("course-build.lock");
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
            })
            .with_context(|| format!("grader error: cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => return Ok(BuildTurn(file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                // A file system without locks: build without a turn, as
                // before; only graders running at once can meet there.
                crate::ui::warning(&format!(
                    "cannot lock {} ({e}); two graders building at once could get in each other's way",
                    path.display()
                ));
                return Ok(BuildTurn(file));
            }
        }
        eprintln!("  (waiting for another grader's build in this folder to finish)");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let locked = file.lock().map(|()| file);
            let _ = tx.send(locked);
        });
        match rx.recv_timeout(limit) {
            Ok(Ok(file)) => Ok(BuildTurn(file)),
            Ok(Err(e)) => bail!("grader error: cannot lock {} ({e})", path.display()),
            Err(_) => bail!(
                "grader error: another grader has been building in {} for {} s without finishing (its lock is {}); stop it, or end the process that holds that file, and check again",
                dir.display(),
                limit.as_secs(),
                path.display()
            ),
        }
    }
}

impl Drop for BuildTurn {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// For the grader's own tests (`COURSE_TEST_HOLD_BUILD` = a file the test
/// holds locked): a build that finished waits here, in its turn, until the
/// test lets go of the lock, so that a test can start a second grader at a
/// known moment. It says so first, on stderr.
fn hold_for_a_test() {
    let Some(path) = std::env::var_os("COURSE_TEST_HOLD_BUILD") else {
        return;
    };
    eprintln!("  (built; held by the test)");
    if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) {
        let _ = file.lock();
        let _ = file.unlock();
    }
}

/// The target folder `build` writes to: its own `CARGO_TARGET_DIR`, the
/// grader's, or `target/` beside the workspace's manifest (the nearest
/// `Cargo.toml` with a `[workspace]` above the course's root).
fn target_dir(repo: &Repo, build: &Command) -> PathBuf {
    let named = build
        .get_envs()
        .find(|(k, _)| *k == "CARGO_TARGET_DIR")
        .and_then(|(_, v)| v.map(PathBuf::from))
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from));
    if let Some(dir) = named {
        return if dir.is_absolute() {
            dir
        } else {
            repo.root.join(dir)
        };
    }
    repo.root
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(&repo.root)
        .join("target")
}

/// The name of the stamp (and the kept binaries) of `step`'s checks built
/// against `target`.
pub fn stamp_name(step: &Step, target: Target) -> String {
    format!("{}-{}", step.id, target.name())
}

fn diagnostic(message: CompilerMessage) -> Option<Diagnostic> {
    let rendered = message.rendered?;
    // "aborting due to previous error" and the like repeat what was said.
    if message.spans.is_empty() && message.level == "error" && rendered.contains("aborting due to")
    {
        return None;
    }
    let file = message
        .spans
        .iter()
        .find(|s| s.is_primary)
        .map(|s| (s.file_name.replace('\\', "/"), s.line_start));
    Some(Diagnostic {
        rendered,
        is_error: message.level.starts_with("error"),
        file,
        code: message.code.map(|c| c.code),
        message: message.message,
    })
}

/// Whether `file` (as rustc names it, relative to the root or absolute)
/// lies in `dir` (relative to the root).
pub fn in_dir(file: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    let file = file.replace('\\', "/");
    file.starts_with(&format!("{dir}/")) || file.contains(&format!("/{dir}/"))
}

/// The root-relative form of a path rustc printed.
pub fn relative(root: &Path, file: &str) -> String {
    Path::new(file)
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| file.to_string())
}

/// The compiler's host target (`rustc -vV`), the one cargo builds for when
/// no target is named (`--target host-tuple` needs Rust 1.91). Asked once.
fn host_target() -> Result<String> {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(host) = HOST.get() {
        return Ok(host.clone());
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = Command::new(&rustc);
    cmd.arg("-vV")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let out =
        run_listed(&mut cmd).with_context(|| format!("cannot run {}", rustc.to_string_lossy()))?;
    let host = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .context("`rustc -vV` names no host target")?;
    Ok(HOST.get_or_init(|| host).clone())
}

/// Runs `cmd` to its end as a listed child of the grader, so that the
/// clean-up after a check that another thread grades meanwhile (the mutant
/// suite builds one mutant while it grades others) does not take it for an
/// orphan and kill it.
fn run_listed(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    let (child, listing) = check_harness::cleanup::spawn_listed(false, || cmd.spawn())?;
    let out = child.wait_with_output();
    drop(listing);
    out
}

/// Whether the grader's own package is in the workspace that holds `root`
/// (the course's, or a fixture's inside it), so that a build may name it.
fn grader_in_workspace(root: &Path) -> bool {
    root.ancestors()
        .any(|dir| dir.join("xtask").join("Cargo.toml").is_file())
}

/// `cargo clean --package <package>` with the build's own target directory
/// and profile: the way to force a rebuild when modification times cannot be
/// changed.
fn clean_package(repo: &Repo, build: &Command, package: &str) {
    let mut clean = Command::new(build.get_program());
    clean
        .current_dir(&repo.root)
        .args(["clean", "--quiet", "--package", package])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if build.get_args().any(|a| a == "--release") {
        clean.arg("--release");
    }
    let mut args = build.get_args();
    while let Some(arg) = args.next() {
        if arg == "--target" {
            clean.arg("--target").args(args.next());
        }
    }
    for (k, v) in build.get_envs() {
        match v {
            Some(v) => clean.env(k, v),
            None => clean.env_remove(k),
        };
    }
    let _ = run_listed(&mut clean);
}

/// The `[package] name` in `<dir>/Cargo.toml`.
fn package_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    Some(manifest.get("package")?.get("name")?.as_str()?.to_string())
}
