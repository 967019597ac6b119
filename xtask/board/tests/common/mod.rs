//! A board started on loopback for a test, and the least HTTP a test needs
//! to talk to it.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The course the board reads its steps from: this repository.
pub fn course_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A real post the grader sent after `check step2` on the untouched
/// exercise (xtask's board test keeps it in step with what the grader sends).
pub fn real_post() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/post-step2.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub struct Board {
    pub child: Child,
    pub port: u16,
    pub code: String,
    /// The rest of what the board prints (drained by a thread).
    pub out: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Board {
    /// Starts a board with its rooms in `data`; `room` reopens one.
    pub fn start(data: &Path, room: Option<&str>) -> Board {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_course-board"));
        cmd.arg("--root")
            .arg(course_root())
            .arg("--data")
            .arg(data)
            .args(["--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(room) = room {
            cmd.args(["--room", room]);
        }
        let mut child = cmd.spawn().expect("the board starts");
        let stdout = child.stdout.take().unwrap();
        let (port, code, out) = read_banner(stdout);
        Board {
            child,
            port,
            code,
            out,
        }
    }

    pub fn post(&self, body: &[u8]) -> (u16, String) {
        request(
            self.port,
            "POST",
            &format!("/api/room/{}/posts", self.code),
            body,
        )
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.port, "GET", path, b"")
    }

    pub fn state(&self) -> Value {
        let (status, body) = self.get("/state.json");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Kills the board at once (SIGKILL on Unix): no chance to tidy up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_banner(
    stdout: ChildStdout,
) -> (u16, String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut lines = BufReader::new(stdout).lines();
    let mut code = None;
    let mut port = None;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("Room ") {
            code = rest.split(',').next().map(String::from);
        }
        if let Some(rest) = line.strip_prefix("Listening on ") {
            port = rest.rsplit(':').next().and_then(|p| p.parse().ok());
            break;
        }
    }
    let out = std::sync::Arc::new(std::sync::Mutex::new(seen.clone()));
    let sink = out.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (
        port.unwrap_or_else(|| panic!("the board printed no port: {seen:?}")),
        code.unwrap_or_else(|| panic!("the board printed no room: {seen:?}")),
        out,
    )
}

/// One request; the status and body of the answer.
pub fn request(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    try_request(port, method, path, body).unwrap()
}

/// One request, or why there was no answer (a board that was killed).
pub fn try_request(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    // The board may answer (413) before the whole body is sent, and close.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))?;
    Ok((status, body.to_string()))
}

/// Where a simulated attendee stands after a check.
pub struct At<'a> {
    pub step: &'a str,
    /// The checks failing (the first one names `cause`).
    pub failing: &'a [&'a str],
    pub cause: Option<&'a str>,
    /// The deepest hint tier unfolded on the step.
    pub hint: u64,
}

/// A post of attendee `key` (16 hex digits), number `seq`, standing `at`:
/// the real post with those fields changed.
pub fn post_of(template: &Value, key: &str, name: &str, seq: u64, at: &At) -> Value {
    let At {
        step,
        failing,
        cause,
        hint,
    } = *at;
    let mut post = template.clone();
    post["id"] = Value::from(format!("{key}-{seq:x}"));
    post["attendee"] = Value::from(key);
    post["report"]["name"] = Value::from(name);
    post["check"]["step"] = Value::from(step);
    let steps = post["report"]["steps"].as_array_mut().unwrap();
    for entry in steps.iter_mut() {
        if entry["id"] == step {
            let total = entry["checks_total"].as_u64().unwrap();
            entry["status"] = Value::from(if failing.is_empty() {
                "done"
            } else {
                "in-progress"
            });
            entry["checks_passed"] = Value::from(total.saturating_sub(failing.len() as u64));
            entry["failing"] = Value::from(failing.to_vec());
            entry["compile_error"] = Value::from(false);
            entry["deepest_hint"] = Value::from(hint);
            let mut causes = serde_json::Map::new();
            if let (Some(cause), Some(first)) = (cause, failing.first()) {
                causes.insert(first.to_string(), Value::from(cause));
            }
            entry["failing_causes"] = Value::Object(causes);
        }
    }
    post
}

/// A reader of the board's live stream: every `attendee` event's post id,
/// with the moment it arrived, sent down `tx`. Returns once the stream's
/// first event (the whole state) came: from then on no post is missed.
pub fn follow_events(
    port: u16,
    tx: std::sync::mpsc::Sender<(String, std::time::Instant)>,
) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let reader = stream.try_clone().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(data) = line.strip_prefix("data: ") {
                if event == "state" {
                    let _ = ready_tx.send(());
                } else if event == "attendee" {
                    let at = std::time::Instant::now();
                    let v: Value = serde_json::from_str(data).unwrap();
                    let id = v["post"].as_str().unwrap().to_string();
                    if tx.send((id, at)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    ready
        .recv_timeout(Duration::from_secs(30))
        .expect("the stream sends the state first");
    stream
}

/// The ids of every post in a room's SQLite file.
pub fn stored_ids(data: &Path, code: &str) -> std::collections::HashSet<String> {
    let conn = rusqlite::Connection::open(data.join(format!("{code}.sqlite"))).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM posts").unwrap();
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids
}
