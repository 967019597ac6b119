//! Which Chromium or Chrome to start: the same order as `.ci/run`'s
//! `find_chrome`, then the places the installers put Chrome on macOS and
//! Windows.

use std::path::{Path, PathBuf};

/// The names looked up on `PATH`, in this order.
const NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
];

/// Chromium or Chrome (`CHROME` names one), or `None` after saying on
/// stderr that `test` is skipped. With `CI` set a missing browser panics:
/// CI installs one, and a skip there would go unnoticed.
pub fn find_chromium(test: &str) -> Option<PathBuf> {
    match locate() {
        Ok(path) => Some(path),
        Err(e) if std::env::var_os("CI").is_some() => panic!(
            "CI is set but no Chromium was found ({e}): install Debian's `chromium` \
             (apt-get install -y chromium) or point CHROME at a Chrome binary"
        ),
        Err(e) => {
            // Written to the real stderr, not eprintln!: the test harness would
            // swallow that for a passing test and the skip would go unnoticed.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nSKIPPED {test}: no Chromium found ({e}). Install `chromium` \
                 or set CHROME=/path/to/chrome to run it (it never skips when CI is set).\n"
            );
            None
        }
    }
}

/// The browser's path, or what was looked for.
fn locate() -> Result<PathBuf, String> {
    let mut reason = String::new();
    if let Some(chrome) = std::env::var_os("CHROME").filter(|c| !c.is_empty()) {
        let chrome = PathBuf::from(chrome);
        if is_executable(&chrome) {
            return Ok(chrome);
        }
        reason = format!("CHROME={} is not an executable file; ", chrome.display());
    }
    if let Some(found) = NAMES.iter().find_map(|name| on_path(name)) {
        return Ok(found);
    }
    if let Some(found) = installed().into_iter().find(|p| is_executable(p)) {
        return Ok(found);
    }
    Err(format!(
        "{reason}none of {} on PATH, nor Chrome where its installer puts it",
        NAMES.join(", ")
    ))
}

/// `name` in a folder of `PATH` (with `.exe` on Windows).
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| {
            dir.join(name)
                .with_extension(std::env::consts::EXE_EXTENSION)
        })
        .find(|candidate| is_executable(candidate))
}

/// Where Chrome's and Chromium's installers put the browser on this
/// system (none on Linux, where it is on `PATH`).
fn installed() -> Vec<PathBuf> {
    let mut places = Vec::new();
    if cfg!(target_os = "macos") {
        places.push(PathBuf::from(
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        ));
        places.push(PathBuf::from(
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
        ));
    }
    if cfg!(windows) {
        for root in ["ProgramFiles", "ProgramFiles(x86)", "LocalAppData"] {
            if let Some(root) = std::env::var_os(root).filter(|r| !r.is_empty()) {
                places.push(
                    Path::new(&root)
                        .join("Google")
                        .join("Chrome")
                        .join("Application")
                        .join("chrome.exe"),
                );
            }
        }
    }
    places
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Windows has no executable bit: a file is enough.
#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
