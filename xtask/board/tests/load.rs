//! The board under a room's load, and killed in the middle of it.
//!
//! - 60 simulated attendees post bursts of real check posts for
//!   `BOARD_LOAD_SECS` seconds (60 in CI; 5 otherwise, two or three bursts
//!   from each attendee, so that `cargo test` is not held up): every post the
//!   board acknowledged is in its SQLite file and reached a page following
//!   the live stream; the test prints how long that took (median, 99th
//!   percentile) and the server's peak memory.
//! - A board killed (SIGKILL) while attendees post, and reopened with
//!   `--room`, has every post it acknowledged before the kill, and shows
//!   every attendee again.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{post_of, real_post, At, Board};
use serde_json::Value;

/// A simulated attendee: works through the steps, a check at a time.
struct Attendee {
    key: String,
    name: String,
    seq: u64,
    step: usize,
    passed: usize,
}

impl Attendee {
    fn new(i: usize) -> Attendee {
        Attendee {
            key: format!("{:016x}", 0xa11c_e000_0000_0000_u64 + i as u64),
            name: format!("attendee-{i:02}"),
            seq: 0,
            step: i % 3,
            passed: 0,
        }
    }

    /// The next check's post: one more check passes every other post.
    fn next_post(&mut self, course: &course::Course, template: &Value) -> Value {
        self.seq += 1;
        let step = &course.steps[self.step % course.steps.len()];
        if self.seq.is_multiple_of(2) {
            self.passed += 1;
        }
        if self.passed > step.checks.len() {
            self.step += 1;
            self.passed = 0;
        }
        let step = &course.steps[self.step % course.steps.len()];
        let failing: Vec<&str> = step
            .checks
            .iter()
            .skip(self.passed)
            .map(|c| c.id.as_str())
            .collect();
        let cause = step.causes.get(self.seq as usize % (step.causes.len() + 1));
        post_of(
            template,
            &self.key,
            &self.name,
            self.seq,
            &At {
                step: &step.id,
                failing: &failing,
                cause: cause.map(|c| c.id.as_str()),
                hint: self.seq % 4,
            },
        )
    }
}

fn load_secs() -> u64 {
    match std::env::var("BOARD_LOAD_SECS") {
        Ok(s) => s.parse().expect("BOARD_LOAD_SECS is a number of seconds"),
        Err(_) => 5,
    }
}

struct Sent {
    /// Post id -> when it was sent, for each post the board acknowledged.
    acked: Mutex<HashMap<String, Instant>>,
    /// Posts answered 429 and sent again (as the grader's outbox would).
    retried: std::sync::atomic::AtomicUsize,
}

/// Attendee `i`'s loop: a burst of 1 to 6 checks, a pause of 1 to 3 s
/// (the pace of people editing), until `stop`. Every post is sent until the
/// board takes it; each 429 is counted.
fn attend(i: usize, board_port: u16, code: &str, stop: &AtomicBool, sent: &Sent) {
    let course = course::Course::load(&common::course_root()).unwrap();
    let template = real_post();
    let mut me = Attendee::new(i);
    let mut round = i;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        for _ in 0..(1 + round % 6) {
            let post = me.next_post(&course, &template);
            let id = post["id"].as_str().unwrap().to_string();
            let body = serde_json::to_vec(&post).unwrap();
            loop {
                let at = Instant::now();
                let (status, said) = common::request(
                    board_port,
                    "POST",
                    &format!("/api/room/{code}/posts"),
                    &body,
                );
                match status {
                    201 => {
                        sent.acked.lock().unwrap().insert(id.clone(), at);
                        break;
                    }
                    429 => {
                        sent.retried.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(250));
                    }
                    _ => panic!("post {id}: {status} {said}"),
                }
            }
        }
        // The pace of a room, not a synchronisation: nothing waits on it.
        std::thread::sleep(Duration::from_millis(1000 + (round as u64 * 397) % 2000));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[cfg(target_os = "linux")]
fn peak_memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    format!("peak RSS {} (now {})", field("VmHWM:"), field("VmRSS:"))
}

#[cfg(not(target_os = "linux"))]
fn peak_memory(_pid: u32) -> String {
    "peak memory: not measured on this system".into()
}

#[test]
fn sixty_attendees_posting_for_a_minute_lose_nothing() {
    let secs = load_secs();
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let (tx, rx) = mpsc::channel();
    let _stream = common::follow_events(board.port, tx);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Sent {
        acked: Mutex::new(HashMap::new()),
        retried: Default::default(),
    });
    let started = Instant::now();
    let threads: Vec<_> = (0..60)
        .map(|i| {
            let (stop, sent, code) = (stop.clone(), sent.clone(), board.code.clone());
            let port = board.port;
            std::thread::spawn(move || attend(i, port, &code, &stop, &sent))
        })
        .collect();
    let deadline = started + Duration::from_secs(secs);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let acked = std::mem::take(&mut *sent.acked.lock().unwrap());

    // Every acknowledged post reached the page's stream (a limit only
    // against a hang).
    let mut latencies = Vec::new();
    let mut seen = HashSet::new();
    let limit = Instant::now() + Duration::from_secs(60);
    while seen.len() < acked.len() {
        let left = limit.saturating_duration_since(Instant::now());
        let (id, at) = rx.recv_timeout(left).unwrap_or_else(|_| {
            panic!("{} of {} posts reached the stream", seen.len(), acked.len())
        });
        if let Some(sent_at) = acked.get(&id) {
            if seen.insert(id) {
                latencies.push(at.saturating_duration_since(*sent_at));
            }
        }
    }
    let memory = peak_memory(board.child.id());
    let state = board.state();
    let code = board.code.clone();
    drop(board);

    let stored = common::stored_ids(data.path(), &code);
    let missing: Vec<_> = acked.keys().filter(|id| !stored.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    assert_eq!(state["attendees"].as_array().unwrap().len(), 60);
    latencies.sort();
    println!(
        "board load: 60 attendees, {secs} s: {} posts acknowledged and stored ({:.0}/s), {} sent again after a 429; \
         post to page: median {} ms, 99th percentile {} ms, max {} ms; {memory}",
        acked.len(),
        acked.len() as f64 / secs as f64,
        sent.retried.load(Ordering::SeqCst),
        percentile(&latencies, 0.5).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        latencies.last().unwrap().as_millis(),
    );
}

#[test]
fn a_board_killed_under_load_keeps_every_post_it_acknowledged() {
    let data = tempfile::tempdir().unwrap();
    let mut board = Board::start(data.path(), None);
    let code = board.code.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Sent {
        acked: Mutex::new(HashMap::new()),
        retried: Default::default(),
    });
    let port = board.port;
    // Attendees that stop at the first failed connection: the kill.
    let (ack_tx, acks) = mpsc::channel();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let (stop, sent, code) = (stop.clone(), sent.clone(), code.clone());
            let ack = ack_tx.clone();
            std::thread::spawn(move || {
                let course = course::Course::load(&common::course_root()).unwrap();
                let template = real_post();
                let mut me = Attendee::new(i);
                while !stop.load(Ordering::SeqCst) {
                    let post = me.next_post(&course, &template);
                    let id = post["id"].as_str().unwrap().to_string();
                    let body = serde_json::to_vec(&post).unwrap();
                    let at = Instant::now();
                    let answer = common::try_request(
                        port,
                        "POST",
                        &format!("/api/room/{code}/posts"),
                        &body,
                    );
                    match answer {
                        Ok((201, _)) => {
                            sent.acked.lock().unwrap().insert(id, at);
                            let _ = ack.send(());
                        }
                        Ok((429, _)) => std::thread::sleep(Duration::from_millis(250)),
                        _ => break,
                    }
                }
            })
        })
        .collect();
    // Kill once a few hundred posts are in: counted, not timed.
    for _ in 0..300 {
        acks.recv_timeout(Duration::from_secs(60))
            .expect("the attendees post until the kill");
    }
    board.kill();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let acked: HashSet<String> = sent.acked.lock().unwrap().keys().cloned().collect();
    let stored = common::stored_ids(data.path(), &code);
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged posts lost: {lost:?}",
        lost.len()
    );

    let reopened = Board::start(data.path(), Some(&code));
    assert_eq!(reopened.code, code);
    let state = reopened.state();
    let names: HashSet<&str> = state["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20, "attendees after the restart: {names:?}");
    let banner = reopened.out.lock().unwrap().join("\n");
    assert!(banner.contains("reopened"), "{banner}");
    println!(
        "board kill: {} posts acknowledged before SIGKILL, all {} in the file after it ({} stored in all)",
        acked.len(),
        acked.len(),
        stored.len()
    );
}
