//! What the board takes and refuses: posts need the room code, bodies are
//! bounded, malformed and repeated posts are told apart, each attendee is
//! rate-limited, names are shown safely, the page is read-only, and
//! `--export` writes reports `class-report` reads.

mod common;

use std::time::Instant;

use common::{post_of, real_post, At, Board};
use serde_json::Value;

fn one_post(key: &str, name: &str, seq: u64) -> Value {
    post_of(
        &real_post(),
        key,
        name,
        seq,
        &At {
            step: "step2-offloading",
            failing: &["stays-responsive", "result-once"],
            cause: Some("job-on-the-loop"),
            hint: 2,
        },
    )
}

#[test]
fn posting_needs_the_room_code_and_the_page_is_read_only() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let body = serde_json::to_vec(&one_post("00000000aaaaaaaa", "ana", 1)).unwrap();
    let wrong = if board.code == "AAAAAA" {
        "BBBBBB"
    } else {
        "AAAAAA"
    };
    let (status, _) = common::request(
        board.port,
        "POST",
        &format!("/api/room/{wrong}/posts"),
        &body,
    );
    assert_eq!(status, 404);
    assert_eq!(
        common::request(board.port, "GET", &format!("/api/room/{wrong}"), b"").0,
        404
    );
    assert_eq!(board.state()["attendees"].as_array().unwrap().len(), 0);
    // The code is not case-sensitive (typed from a projector).
    let lower = board.code.to_lowercase();
    assert_eq!(
        common::request(board.port, "GET", &format!("/api/room/{lower}"), b"").0,
        200
    );
    assert_eq!(board.post(&body).0, 201);
    // Anything but reading the page, its state and its stream is refused.
    assert_eq!(common::request(board.port, "POST", "/", b"x").0, 405);
    assert_eq!(
        common::request(board.port, "PUT", "/state.json", b"{}").0,
        405
    );
    assert_eq!(
        common::request(
            board.port,
            "DELETE",
            &format!("/api/room/{}", board.code),
            b""
        )
        .0,
        405
    );
    assert_eq!(board.get("/nothing-here").0, 404);
}

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let raw = raw_get(board.port, "/");
    let (head, page) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Security-Policy: default-src 'none'"),
        "{head}"
    );
    for attr in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
        "url(http",
    ] {
        assert!(!page.contains(attr), "the page loads {attr}…");
    }
}

fn raw_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn bodies_are_bounded_and_bad_posts_refused() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let big = vec![b' '; 64 * 1024 + 1];
    assert_eq!(board.post(&big).0, 413);
    let (status, said) = board.post(b"{\"not\": \"a post\"}");
    assert_eq!(status, 400, "{said}");
    let mut post = one_post("00000000aaaaaaaa", "ana", 1);
    post["schema_version"] = Value::from(99);
    let (status, said) = board.post(&serde_json::to_vec(&post).unwrap());
    assert_eq!(status, 400);
    assert!(said.contains("version"), "{said}");
    let mut post = one_post("00000000aaaaaaaa", "ana", 1);
    post["attendee"] = Value::from("../../etc");
    assert_eq!(board.post(&serde_json::to_vec(&post).unwrap()).0, 400);
    // Exactly 64 KiB is still taken (padded with JSON whitespace).
    let mut body = serde_json::to_vec(&one_post("00000000aaaaaaaa", "ana", 2)).unwrap();
    body.resize(64 * 1024, b' ');
    assert_eq!(board.post(&body).0, 201);
}

#[test]
fn a_post_sent_twice_is_stored_once() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let body = serde_json::to_vec(&one_post("00000000bbbbbbbb", "bo", 7)).unwrap();
    assert_eq!(board.post(&body).0, 201);
    let (status, said) = board.post(&body);
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("already stored"), "{said}");
    assert_eq!(common::stored_ids(data.path(), &board.code).len(), 1);
}

#[test]
fn each_attendee_is_rate_limited_and_others_are_not() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let started = Instant::now();
    let mut taken = 0;
    let mut refused = 0;
    for seq in 0..60 {
        let body = serde_json::to_vec(&one_post("00000000cccccccc", "cy", seq)).unwrap();
        match board.post(&body) {
            (201, _) => taken += 1,
            (429, said) => {
                refused += 1;
                assert!(said.contains("next check"), "{said}");
            }
            other => panic!("{other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // A burst of 20, then 4 a second: whatever the machine's speed.
    let allowed = 20.0 + 4.0 * elapsed + 1.0;
    assert!(
        (taken as f64) <= allowed && refused > 0,
        "{taken} taken, {refused} refused in {elapsed:.2} s"
    );
    // Someone else posting at the same moment is not held back.
    let body = serde_json::to_vec(&one_post("00000000dddddddd", "di", 1)).unwrap();
    assert_eq!(board.post(&body).0, 201);
}

#[test]
fn names_are_shown_escaped_and_cut() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let hostile = format!(
        "\u{1b}[2J<script>alert(1)</script>\u{202e}{}",
        "x".repeat(60)
    );
    let body = serde_json::to_vec(&one_post("00000000eeeeeeee", &hostile, 1)).unwrap();
    assert_eq!(board.post(&body).0, 201);
    let state = board.state();
    let name = state["attendees"][0]["name"].as_str().unwrap();
    assert!(
        !name.contains('\u{1b}') && !name.contains('\u{202e}'),
        "{name:?}"
    );
    assert!(name.starts_with("\\x1b[2J<script>"), "{name:?}");
    assert_eq!(name.chars().count(), course::text::NAME_MAX);
    assert!(name.ends_with('…'));
}

#[test]
fn the_state_says_what_each_attendee_is_on() {
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let body = serde_json::to_vec(&one_post("00000000ffffffff", "fay", 1)).unwrap();
    assert_eq!(board.post(&body).0, 201);
    let first = board.state();
    let on = &first["attendees"][0]["on"];
    assert_eq!(on["step"], "step2-offloading");
    // The first failing check in the course's order, and the cause it named.
    assert_eq!(on["check"], "stays-responsive");
    assert_eq!(on["cause"], "job-on-the-loop");
    assert_eq!(first["attendees"][0]["hint"], 2);
    let cell = &first["attendees"][0]["steps"]["step2-offloading"];
    assert_eq!(cell["status"], "in-progress");
    assert_eq!(cell["total"], 7);
    assert_eq!(cell["passed"], 5);
    // The same check failing again keeps its start; another check starts anew.
    let since = on["since_ms"].as_i64().unwrap();
    let again = serde_json::to_vec(&one_post("00000000ffffffff", "fay", 2)).unwrap();
    assert_eq!(board.post(&again).0, 201);
    assert_eq!(
        board.state()["attendees"][0]["on"]["since_ms"]
            .as_i64()
            .unwrap(),
        since
    );
    let moved = post_of(
        &real_post(),
        "00000000ffffffff",
        "fay",
        3,
        &At {
            step: "step2-offloading",
            failing: &["result-once"],
            cause: None,
            hint: 2,
        },
    );
    assert_eq!(board.post(&serde_json::to_vec(&moved).unwrap()).0, 201);
    let on = &board.state()["attendees"][0]["on"];
    assert_eq!(on["check"], "result-once");
    assert!(on["cause"].is_null());
    let done = post_of(
        &real_post(),
        "00000000ffffffff",
        "fay",
        4,
        &At {
            step: "step2-offloading",
            failing: &[],
            cause: None,
            hint: 2,
        },
    );
    assert_eq!(board.post(&serde_json::to_vec(&done).unwrap()).0, 201);
    let after = board.state();
    assert!(after["attendees"][0]["on"]["check"].is_null());
    assert_eq!(
        after["attendees"][0]["steps"]["step2-offloading"]["status"],
        "done"
    );
    // The course's steps and causes come with the state, for the page.
    assert_eq!(after["steps"].as_array().unwrap().len(), 7);
    assert!(after["causes"]["job-on-the-loop"].is_string());
}

#[test]
fn export_writes_the_reports_class_report_reads() {
    const LONG: &str = "a name as long as class-report shows: 40";
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    // Two people who picked the same name are two rows on the board, and
    // stay two in the export: class-report merges reports by name.
    for (key, name) in [
        ("0000000011111111", "gus"),
        ("0000000022222222", "hal"),
        ("0000000033333333", "Gus"),
        ("0000000044444444", LONG),
        ("0000000055555555", LONG),
    ] {
        let body = serde_json::to_vec(&one_post(key, name, 1)).unwrap();
        assert_eq!(board.post(&body).0, 201);
    }
    let code = board.code.clone();
    drop(board);
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_course-board"))
        .arg("--root")
        .arg(common::course_root())
        .arg("--data")
        .arg(data.path())
        .args(["--room", &code, "--export"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let report: course::attendee::AttendeeReport = serde_json::from_str(&text).unwrap();
        assert_eq!(report.schema, course::attendee::SCHEMA);
        names.push(report.name);
    }
    names.sort();
    // Cut so that the key still shows where class-report cuts a name.
    let long: String = LONG.chars().take(24).collect();
    assert_eq!(
        names,
        [
            "Gus (000000003333)".to_string(),
            format!("{long}… (000000004444)"),
            format!("{long}… (000000005555)"),
            "gus (000000001111)".to_string(),
            "hal".to_string(),
        ]
    );
    for name in &names {
        assert!(name.chars().count() <= course::text::NAME_MAX, "{name}");
    }
}

#[test]
fn a_room_that_is_not_there_is_not_made_up() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_course-board"))
        .arg("--root")
        .arg(common::course_root())
        .arg("--data")
        .arg(data.path())
        .args(["--room", "ZZZZZZ", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("there is no room ZZZZZZ"), "{said}");
    assert!(!data.path().join("ZZZZZZ.sqlite").exists());
}
