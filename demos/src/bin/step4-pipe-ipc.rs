//! Chapter "How child processes work".
//!
//! 1. Separate memory: a thread changes a static and the parent sees it; a
//!    child process changes "the same" static and the parent does not.
//!    Two different PIDs.
//! 2. Talking through pipes: JSON lines to a worker child, compared with raw
//!    bytes through a `cat`-like child, in the same run.
//!
//! Run it: `cargo run --release -p demos --bin step4-pipe-ipc`
//! (release, so the throughput numbers mean something).

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

// ANCHOR: static
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn child_changes_the_static() {
    // This runs in the child, a separate process started from the same file.
    let before = COUNTER.load(Ordering::SeqCst);
    COUNTER.store(99, Ordering::SeqCst);
    println!(
        "  child  (pid {}): COUNTER was {before}, set it to {}",
        std::process::id(),
        COUNTER.load(Ordering::SeqCst)
    );
}

fn separate_memory() {
    COUNTER.store(1, Ordering::SeqCst);
    println!("  parent (pid {}): COUNTER = 1", std::process::id());

    thread::spawn(|| {
        COUNTER.store(2, Ordering::SeqCst);
        println!("  thread (pid {}): set COUNTER to 2", std::process::id());
    })
    .join()
    .unwrap();
    println!(
        "  parent sees COUNTER = {} (the thread's write)",
        COUNTER.load(Ordering::SeqCst)
    );

    let exe = std::env::current_exe().unwrap();
    let status = Command::new(exe)
        .args(["--role", "change-static"])
        .status()
        .unwrap();
    println!(
        "  parent sees COUNTER = {} after the child exited ({status})",
        COUNTER.load(Ordering::SeqCst)
    );
}
// ANCHOR_END: static

#[derive(Serialize, Deserialize)]
struct Message {
    id: u64,
    text: String,
}

// ANCHOR: json_worker
/// The worker role: one JSON message per line in, the same message out.
fn json_worker() -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for line in io::stdin().lock().lines() {
        let message: Message = serde_json::from_str(&line?)?;
        serde_json::to_writer(&mut out, &message)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
// ANCHOR_END: json_worker

/// The `cat` role: bytes in, the same bytes out, no framing at all.
fn cat() -> io::Result<()> {
    io::copy(&mut io::stdin().lock(), &mut io::stdout().lock())?;
    Ok(())
}

const TOTAL: usize = 64 << 20;

/// Sends `TOTAL` bytes of text through a `cat` child and reads them back.
fn raw_pipe() -> f64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--role", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let start = Instant::now();
    let writer = thread::spawn(move || {
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..TOTAL / chunk.len() {
            stdin.write_all(&chunk).unwrap();
        }
        // stdin is dropped here: the child sees end-of-file.
    });
    let mut buf = vec![0; 64 * 1024];
    let mut received = 0;
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        received += n;
    }
    let seconds = start.elapsed().as_secs_f64();
    writer.join().unwrap();
    child.wait().unwrap();
    assert_eq!(received, TOTAL);
    TOTAL as f64 / seconds / 1e6
}

// ANCHOR: framed
/// Sends `TOTAL` bytes of text as JSON lines of `size` bytes each, through
/// the worker child, and parses every answer.
fn json_lines(size: usize) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--role", "json-worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let count = TOTAL / size;
    let start = Instant::now();
    // Write on one thread...
    let writer = thread::spawn(move || {
        let mut out = BufWriter::new(stdin);
        let text = "a".repeat(size);
        for id in 0..count as u64 {
            let message = Message {
                id,
                text: text.clone(),
            };
            serde_json::to_writer(&mut out, &message).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
    });
    // ...and read on this one, at the same time.
    let mut received = 0;
    for line in BufReader::new(stdout).lines() {
        let message: Message = serde_json::from_str(&line.unwrap()).unwrap();
        received += message.text.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    writer.join().unwrap();
    child.wait().unwrap();
    assert_eq!(received, count * size);
    TOTAL as f64 / seconds / 1e6
}
// ANCHOR_END: framed

fn main() {
    // `<this program> --role <name>` plays a child's part.
    match std::env::args()
        .skip_while(|a| a != "--role")
        .nth(1)
        .as_deref()
    {
        Some("change-static") => return child_changes_the_static(),
        Some("json-worker") => return json_worker().unwrap(),
        Some("cat") => return cat().unwrap(),
        _ => {}
    }
    println!("1. separate memory");
    separate_memory();

    println!("\n2. 64 MiB through a child process and back, {ROUNDS} times each way");
    println!("   (MB/s: median, and the slowest to the fastest round)");
    let sizes = [16 * 1024, 1024, 100];
    // The ways take turns, so a busy moment of the machine hits them all.
    let mut raw = Vec::new();
    let mut json = vec![Vec::new(); sizes.len()];
    for _ in 0..ROUNDS {
        raw.push(raw_pipe());
        for (i, &size) in sizes.iter().enumerate() {
            json[i].push(json_lines(size));
        }
    }
    println!("  raw bytes through a cat-like child:  {}", spread(&raw));
    demos::figure_spread("raw_mbps", &raw);
    for (size, rates) in sizes.iter().zip(&json) {
        demos::figure_spread(&format!("json_{size}_mbps"), rates);
        println!(
            "  JSON lines of {size:>5} bytes of text:   {}",
            spread(rates)
        );
    }
    let slower: Vec<f64> = raw.iter().zip(&json[0]).map(|(r, j)| r / j).collect();
    let (median, low, high) = stats(&slower);
    demos::figure_spread("raw_over_json", &slower);
    println!(
        "  -> raw bytes were {median:.1} times as fast as JSON lines of {} bytes\n     \
         (from {low:.1} to {high:.1} times, round by round)",
        sizes[0]
    );
}

/// How many times each way runs.
const ROUNDS: usize = 5;

/// The median, the lowest and the highest of `values`.
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn spread(rates: &[f64]) -> String {
    let (median, low, high) = stats(rates);
    format!("{median:>6.0} MB/s  ({low:.0} to {high:.0})")
}
