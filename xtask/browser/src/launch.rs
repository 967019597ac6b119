//! Starting Chromium headless with a profile of its own, and stopping it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::connection::Connection;
use crate::tab::Tab;
use crate::TIMEOUT;

/// A running headless Chromium. Dropping it (also while a test panics)
/// closes the browser, kills it if it does not go, and removes its profile.
pub struct Browser {
    connection: Arc<Connection>,
    process: Process,
}

/// The browser's process and its temporary folder (the profile and the
/// browser's output).
struct Process {
    child: Child,
    dir: Option<tempfile::TempDir>,
}

/// How long Chromium may take to shut down after `Browser.close` before it
/// is killed.
const CLOSING: Duration = Duration::from_secs(10);

/// Starts `chrome` headless with a window of `width` × `height`.
pub fn launch(chrome: PathBuf, (width, height): (u32, u32)) -> Browser {
    let dir = tempfile::Builder::new()
        .prefix("course-browser-")
        .tempdir()
        .expect("a temporary folder for Chromium's profile");
    let profile = dir.path().join("profile");
    let output = dir.path().join("chromium-output.txt");
    let log = File::create(&output).expect("a file for Chromium's output");
    let child = Command::new(&chrome)
        .args([
            "--headless",
            "--no-sandbox", // CI runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("Chromium's output file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("Chromium did not start ({}): {e}", chrome.display()));
    // From here on a panic drops `process`, which kills the browser.
    let mut process = Process {
        child,
        dir: Some(dir),
    };
    let (port, path) = process.devtools_address(&profile, &output);
    let connection = Connection::open(port, &path)
        .unwrap_or_else(|e| panic!("connecting to Chromium's DevTools on port {port}: {e}"));
    Browser {
        connection: Arc::new(connection),
        process,
    }
}

impl Browser {
    /// A new page (`about:blank`), attached as a session of its own.
    pub fn new_tab(&self) -> Tab {
        let call = |method: &str, params: Value| {
            self.connection
                .call(None, method, params)
                .unwrap_or_else(|e| panic!("opening a page: {e}"))
        };
        let target = call("Target.createTarget", json!({ "url": "about:blank" }));
        let target = target["targetId"]
            .as_str()
            .expect("Target.createTarget gave no targetId");
        let session = call(
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
        );
        let session = session["sessionId"]
            .as_str()
            .expect("Target.attachToTarget gave no sessionId");
        Tab::new(Arc::clone(&self.connection), session.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium stops its own child processes (renderers, GPU) when it
        // is closed; a kill would leave them to exit on their own.
        self.connection.send_and_forget("Browser.close");
        self.process.wait_for_exit(CLOSING);
        // Then `process` is dropped: it kills what is left and removes the
        // profile.
    }
}

impl Process {
    /// The port and path of the browser's DevTools websocket, from the
    /// `DevToolsActivePort` file Chromium writes into its profile once it
    /// listens (it picks the port itself: `--remote-debugging-port=0`).
    fn devtools_address(&mut self, profile: &Path, output: &Path) -> (u16, String) {
        let file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            // Line 1 is the port, line 2 the browser's path; a file still
            // being written has fewer lines and is read again.
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(Ok(port)), Some(path)) =
                    (lines.next().map(str::parse::<u16>), lines.next())
                {
                    if path.starts_with("/devtools/browser/") {
                        return (port, path.to_string());
                    }
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Chromium exited ({status}) before it listened for DevTools; its output:\n{}",
                    tail(output)
                );
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not write {} within {TIMEOUT:?}; its output:\n{}",
                file.display(),
                tail(output)
            );
            // Polling for a file only Chromium writes; the bound above turns
            // a browser that never listens into a message.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for the browser to exit by itself. The standard
    /// library cannot wait for a process with a time limit, so this polls;
    /// a browser still running afterwards is killed by `Drop`.
    fn wait_for_exit(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if dir.close().is_err() {
                // Windows refuses to remove a file that an exiting process
                // still has open: try once more after a moment.
                std::thread::sleep(Duration::from_millis(500));
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

/// The last lines of Chromium's output, for a message about why it failed.
fn tail(output: &Path) -> String {
    let text = std::fs::read_to_string(output).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
