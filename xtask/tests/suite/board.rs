//! The attendee's side of the workshop board: `join`, `leave`, `list`, and
//! what `check` sends. The board here is the test's own listener, so that
//! the test decides when (and whether) it answers.
//!
//! - after `join`, each check posts the step's statuses, causes, hint tiers
//!   and times, and nothing the learner's code printed; `leave` stops it;
//! - a board that refuses connections, or accepts and never answers, leaves
//!   the verdict as it is without the board, and the check ends while the
//!   silent board still holds the post unanswered (a gate the test holds,
//!   not a time); what waited is sent, oldest first, once the board answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

struct Request {
    method: String,
    path: String,
    body: String,
}

/// Reads one request (headers and a Content-Length body).
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        body: String::from_utf8(body).ok()?,
    })
}

fn answer(stream: &mut TcpStream, status: u16) {
    let body = "{\"ok\":true}";
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A board that answers everything at once and hands each post to `tx`.
fn answering_board(tx: mpsc::Sender<Request>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            let status = if request.path.eq_ignore_ascii_case("/api/room/ROOM1")
                || request.path.eq_ignore_ascii_case("/api/room/ROOM1/posts")
            {
                if request.method == "POST" {
                    201
                } else {
                    200
                }
            } else {
                404
            };
            answer(&mut stream, status);
            if request.method == "POST" && tx.send(request).is_err() {
                break;
            }
        }
    });
    port
}

/// A post the board received, within a limit that only catches a hang.
fn next_post(rx: &mpsc::Receiver<Request>) -> Value {
    let request = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the board got a post");
    assert_eq!(request.path, "/api/room/ROOM1/posts");
    serde_json::from_str(&request.body).unwrap()
}

fn stdout(cmd: &mut assert_cmd::Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The verdict lines of a check's output (✓ and ✗ with the check's title),
/// without the times a slow check shows.
fn verdicts(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.trim_start().starts_with('✓') || l.trim_start().starts_with('✗'))
        .map(|l| l.split(" (").next().unwrap().trim_end().to_string())
        .collect()
}

/// The sorted keys of a JSON object, and of its objects, as paths.
fn shape(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{at}.{k}");
                out.push(path.clone());
                shape(v, &path, out);
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                shape(first, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn each_check_tells_a_joined_board_and_leave_stops_it() {
    let state = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let port = answering_board(tx);
    let url = format!("http://127.0.0.1:{port}/room1");

    // A wrong room code is refused, and nothing is joined.
    let wrong = format!("http://127.0.0.1:{port}/NOPE");
    let (code, _) = stdout(common::fixture(state.path()).args(["join", &wrong, "--name", "ana"]));
    assert_eq!(code, 2);
    assert!(!state.path().join("board.toml").exists());

    let (code, out) = stdout(common::fixture(state.path()).args(["join", &url, "--name", "ana"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Joined the board at"), "{out}");
    assert!(out.contains("never your code"), "{out}");
    // Joining says hello at once: the attendee shows on the board.
    let hello = next_post(&rx);
    assert_eq!(hello["report"]["name"], "ana");
    assert!(hello["check"].is_null());

    let (code, out) = stdout(common::fixture(state.path()).args(["check", "step1-fixture"]));
    assert_ne!(code, 0, "the untouched fixture fails: {out}");
    let post = next_post(&rx);
    assert_eq!(post["attendee"], hello["attendee"]);
    assert_eq!(post["check"]["step"], "step1-fixture");
    let checks = post["check"]["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    // Statuses, causes, hint tiers and times; no message, no output.
    let mut keys = Vec::new();
    shape(&post, "", &mut keys);
    for key in &keys {
        assert!(
            !key.ends_with(".message")
                && !key.ends_with(".trace")
                && !key.contains("compile_errors"),
            "the post carries {key}"
        );
    }
    let json = common::fixture(state.path())
        .args(["check", "step1-fixture", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let _ = next_post(&rx);
    for check in report["steps"][0]["checks"].as_array().unwrap() {
        if let Some(message) = check["message"].as_str() {
            assert!(
                !post.to_string().contains(message),
                "the post holds the check's message {message:?}"
            );
        }
    }
    // The board crate's load test posts this shape: it is what the grader sends.
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("board/tests/fixtures/post-step2.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (mut sent, mut kept) = (Vec::new(), Vec::new());
    shape(&post, "", &mut sent);
    shape(&fixture, "", &mut kept);
    sent.retain(|k| {
        !k.starts_with(".report.steps[].failing_causes.")
            && !k.starts_with(".report.steps[].cause_hints.")
    });
    kept.retain(|k| {
        !k.starts_with(".report.steps[].failing_causes.")
            && !k.starts_with(".report.steps[].cause_hints.")
    });
    sent.sort();
    kept.sort();
    assert_eq!(
        sent, kept,
        "xtask/board/tests/fixtures/post-step2.json is not what the grader sends"
    );

    // The sender that delivered the last post holds its lock until it has
    // deleted the post and written how the send went: wait for that.
    let send_lock = std::fs::OpenOptions::new()
        .write(true)
        .open(state.path().join("board/send.lock"))
        .unwrap();
    send_lock.lock().unwrap();
    send_lock.unlock().unwrap();
    let (_, out) = stdout(common::fixture(state.path()).arg("list"));
    assert!(
        out.contains(&format!(
            "Joined: the board at http://127.0.0.1:{port} (room ROOM1) as ana"
        )),
        "{out}"
    );
    assert!(out.contains("Last sent at"), "{out}");
    assert!(
        !out.contains("Not sent") && !out.contains("newer post"),
        "{out}"
    );
    // A post queued while a sender is at work (the test holds the sender's
    // lock, as one at work does) is on its way, not "not sent".
    send_lock.lock().unwrap();
    let _ = stdout(common::fixture(state.path()).args(["check", "step1-fixture"]));
    let (_, out) = stdout(common::fixture(state.path()).arg("list"));
    send_lock.unlock().unwrap();
    assert!(
        out.contains("Last sent at") && out.contains("1 newer post(s) on the way"),
        "{out}"
    );
    assert!(!out.contains("Not sent"), "{out}");

    let (code, out) = stdout(common::fixture(state.path()).arg("leave"));
    assert_eq!(code, 0);
    assert!(out.contains("Left the board"), "{out}");
    let _ = stdout(common::fixture(state.path()).args(["check", "step1-fixture"]));
    assert!(!state.path().join("board.toml").exists());
    assert!(
        !state.path().join("board/outbox").exists(),
        "a check after leave queued a post"
    );
    let (_, out) = stdout(common::fixture(state.path()).arg("list"));
    assert!(!out.contains("Joined:"), "{out}");
    let (_, out) = stdout(common::fixture(state.path()).arg("leave"));
    assert!(out.contains("nothing to leave"), "{out}");
}

#[test]
fn a_board_that_is_down_or_silent_never_holds_up_a_verdict() {
    // Without a board.
    let state = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (alone_code, alone) =
        stdout(common::fixture(state.path()).args(["check", "step1-fixture"]));
    let alone_time = started.elapsed();
    assert!(!verdicts(&alone).is_empty(), "{alone}");

    // A board that refuses connections (a port nobody listens on).
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{closed}/ROOM1");
    let (code, out) = stdout(common::fixture(down.path()).args(["join", &url, "--name", "bo"]));
    assert_eq!(code, 0, "{out}");
    let started = Instant::now();
    let (down_code, down_out) =
        stdout(common::fixture(down.path()).args(["check", "step1-fixture"]));
    let down_time = started.elapsed();
    assert_eq!(
        (down_code, verdicts(&down_out)),
        (alone_code, verdicts(&alone))
    );

    // A board that accepts and never answers: the test does not even accept
    // until the check has ended.
    let silent = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::fs::write(
        silent.path().join("board.toml"),
        format!(
            "board = \"http://127.0.0.1:{port}\"\nroom = \"ROOM1\"\nname = \"cy\"\n\
             attendee = \"00000000c0c0c0c0\"\njoined_at = \"2026-12-07T00:00:00Z\"\n"
        ),
    )
    .unwrap();
    let started = Instant::now();
    let (silent_code, silent_out) = stdout(
        common::fixture(silent.path())
            .env("COURSE_TEST_BOARD_LIMIT_MS", "120000")
            .args(["check", "step1-fixture"]),
    );
    let silent_time = started.elapsed();
    assert_eq!(
        (silent_code, verdicts(&silent_out)),
        (alone_code, verdicts(&alone))
    );
    // The check is over; its post is still in the board's hands, unanswered:
    // the sender is still connected and waiting.
    let (mut held, _) = listener.accept().unwrap();
    let request = read_request(&mut held).expect("the post arrived");
    assert_eq!(request.path, "/api/room/ROOM1/posts");
    held.set_nonblocking(true).unwrap();
    let mut probe = [0u8; 1];
    let still_waiting =
        matches!(held.read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(
        still_waiting,
        "the sender gave up before the check ended: the check waited for it"
    );
    held.set_nonblocking(false).unwrap();
    answer(&mut held, 201);
    drop(held);
    drop(listener);

    // What waited for the board that was down is sent once it answers,
    // oldest first, with the new check's post last.
    let waiting = std::fs::read_dir(down.path().join("board/outbox"))
        .unwrap()
        .count();
    assert_eq!(waiting, 2, "the join's hello and the check's post wait");
    // A sender that tried writes how it went before it lets go of its lock
    // (the join's started long ago; the wait only catches a hang).
    let status = down.path().join("board/status.toml");
    let tried = Instant::now();
    while !status.exists() {
        assert!(
            tried.elapsed() < Duration::from_secs(60),
            "no sender ever tried"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (list_code, list) = stdout(common::fixture(down.path()).arg("list"));
    assert_eq!(list_code, 0);
    assert!(list.contains("Not sent"), "{list}");
    let (tx, rx) = mpsc::channel();
    let back = TcpListener::bind(("127.0.0.1", closed));
    let Ok(back) = back else {
        // Someone else took the port meanwhile: the rest cannot be shown.
        return;
    };
    std::thread::spawn(move || {
        for stream in back.incoming() {
            let Ok(mut stream) = stream else { continue };
            if let Some(request) = read_request(&mut stream) {
                answer(&mut stream, 201);
                if tx.send(request).is_err() {
                    break;
                }
            }
        }
    });
    let _ = stdout(common::fixture(down.path()).args(["check", "step1-fixture"]));
    let posts: Vec<Value> = (0..3).map(|_| next_post(&rx)).collect();
    assert!(posts[0]["check"].is_null(), "the hello comes first");
    assert_eq!(posts[1]["check"]["step"], "step1-fixture");
    assert_eq!(posts[2]["check"]["step"], "step1-fixture");
    assert_ne!(posts[1]["id"], posts[2]["id"]);
    println!(
        "check step1-fixture: {:.0} ms without a board, {:.0} ms with it down, {:.0} ms with it silent",
        alone_time.as_secs_f64() * 1000.0,
        down_time.as_secs_f64() * 1000.0,
        silent_time.as_secs_f64() * 1000.0
    );
}
