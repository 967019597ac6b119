//! Benchmark 3: the same messages moved four ways: through a channel to a
//! thread, through a shared slot guarded by a `Mutex`, down a pipe to a child
//! process as JSON lines (the course's framing), and down a pipe as raw
//! length-prefixed bytes (the floor any pipe protocol stands on).
//!
//! Throughput: one side sends `n` messages, the other consumes them; the
//! clock stops when the consumer has confirmed the last one. Latency: one
//! message goes there and comes back, timed one round trip at a time.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::child::{read_frame, write_frame, Worker};
use crate::plan::Plan;
use crate::stats::Stats;

/// A message: the same type for every method.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    pub id: u64,
    pub body: String,
}

pub const SMALL_BYTES: usize = 64;
pub const LARGE_BYTES: usize = 64 * 1024;

/// The methods, in report order: (id, label).
pub const METHODS: [(&str, &str); 4] = [
    ("channel", "crossbeam channel (thread)"),
    ("shared", "Mutex + Condvar slot (thread)"),
    ("json-pipe", "JSON lines on a pipe (process)"),
    ("raw-pipe", "raw bytes on a pipe (process)"),
];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommResult {
    pub method: String,
    pub label: String,
    /// Body size of one message in bytes (64 or 65536).
    pub message_bytes: usize,
    /// Messages per throughput round.
    pub messages: usize,
    pub messages_per_s: Stats,
    /// Body bytes per second (`messages_per_s` x `message_bytes`).
    pub bytes_per_s: Stats,
    /// Time for one message to go and come back, in microseconds.
    pub round_trip_us: Stats,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommReport {
    pub results: Vec<CommResult>,
}

fn template(bytes: usize) -> Message {
    let body = (b'a'..=b'z').cycle().take(bytes).map(char::from).collect();
    Message { id: 0, body }
}

/// Makes message number `id`: every method pays for building its messages.
fn make(template: &Message, id: u64) -> Message {
    Message {
        id,
        body: template.body.clone(),
    }
}

fn check_total(what: &str, got: u64, expected: u64) -> io::Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{what}: {got} bytes arrived, expected {expected}"
        )))
    }
}

// --- channel -----------------------------------------------------------

fn channel_throughput(t: &Message, n: usize) -> io::Result<f64> {
    let (tx, rx) = crossbeam_channel::bounded::<Message>(256);
    let consumer = thread::spawn(move || rx.iter().map(|m| m.body.len() as u64).sum::<u64>());
    let start = Instant::now();
    for id in 0..n as u64 {
        tx.send(make(t, id)).expect("consumer alive");
    }
    drop(tx);
    let total = consumer.join().expect("consumer thread");
    let secs = start.elapsed().as_secs_f64();
    check_total("channel", total, (n * t.body.len()) as u64)?;
    Ok(secs)
}

fn channel_round_trips(t: &Message, n: usize) -> Vec<f64> {
    let (to_echo, echo_in) = crossbeam_channel::bounded::<Message>(1);
    let (echo_out, back) = crossbeam_channel::bounded::<Message>(1);
    let echo = thread::spawn(move || {
        for m in echo_in {
            if echo_out.send(m).is_err() {
                break;
            }
        }
    });
    let times = (0..n as u64)
        .map(|id| {
            let start = Instant::now();
            to_echo.send(make(t, id)).expect("echo alive");
            let m = back.recv().expect("echo alive");
            let us = start.elapsed().as_secs_f64() * 1e6;
            assert_eq!(m.id, id);
            us
        })
        .collect();
    drop(to_echo);
    echo.join().expect("echo thread");
    times
}

// --- shared slot (Mutex + Condvar) ---------------------------------------

/// One message-sized buffer in shared memory. The writer copies a message in,
/// the reader reads it where it lies; the state says whose turn it is.
struct Slot {
    state: Mutex<SlotState>,
    turn: Condvar,
}

struct SlotState {
    turn: Turn,
    id: u64,
    body: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    Empty,
    Full,
    Reply,
    Closed,
}

impl Slot {
    fn new(bytes: usize) -> Arc<Slot> {
        Arc::new(Slot {
            state: Mutex::new(SlotState {
                turn: Turn::Empty,
                id: 0,
                body: String::with_capacity(bytes),
            }),
            turn: Condvar::new(),
        })
    }

    /// Waits until `ready(turn)`, then runs `act` on the state and wakes the
    /// other side.
    fn when<R>(&self, ready: impl Fn(Turn) -> bool, act: impl FnOnce(&mut SlotState) -> R) -> R {
        let guard = self.state.lock().expect("slot lock");
        let mut state = self
            .turn
            .wait_while(guard, |s| !ready(s.turn))
            .expect("slot lock");
        let result = act(&mut state);
        drop(state);
        self.turn.notify_all();
        result
    }
}

fn shared_throughput(t: &Message, n: usize) -> io::Result<f64> {
    let slot = Slot::new(t.body.len());
    let reader = {
        let slot = Arc::clone(&slot);
        thread::spawn(move || {
            let mut total = 0u64;
            loop {
                let closed = slot.when(
                    |turn| turn == Turn::Full || turn == Turn::Closed,
                    |s| {
                        if s.turn == Turn::Closed {
                            return true;
                        }
                        total += s.body.len() as u64;
                        s.turn = Turn::Empty;
                        false
                    },
                );
                if closed {
                    return total;
                }
            }
        })
    };
    let start = Instant::now();
    for id in 0..n as u64 {
        slot.when(
            |turn| turn == Turn::Empty,
            |s| {
                s.id = id;
                s.body.clear();
                s.body.push_str(&t.body);
                s.turn = Turn::Full;
            },
        );
    }
    slot.when(|turn| turn == Turn::Empty, |s| s.turn = Turn::Closed);
    let total = reader.join().expect("reader thread");
    let secs = start.elapsed().as_secs_f64();
    check_total("shared slot", total, (n * t.body.len()) as u64)?;
    Ok(secs)
}

fn shared_round_trips(t: &Message, n: usize) -> Vec<f64> {
    let slot = Slot::new(t.body.len());
    let echo = {
        let slot = Arc::clone(&slot);
        thread::spawn(move || loop {
            // The echo reads the message in place and hands the slot back.
            let closed = slot.when(
                |turn| turn == Turn::Full || turn == Turn::Closed,
                |s| {
                    if s.turn == Turn::Full {
                        std::hint::black_box(s.body.len());
                        s.turn = Turn::Reply;
                    }
                    s.turn == Turn::Closed
                },
            );
            if closed {
                return;
            }
        })
    };
    let times = (0..n as u64)
        .map(|id| {
            let start = Instant::now();
            slot.when(
                |turn| turn == Turn::Empty,
                |s| {
                    s.id = id;
                    s.body.clear();
                    s.body.push_str(&t.body);
                    s.turn = Turn::Full;
                },
            );
            let back = slot.when(
                |turn| turn == Turn::Reply,
                |s| {
                    s.turn = Turn::Empty;
                    s.id
                },
            );
            let us = start.elapsed().as_secs_f64() * 1e6;
            assert_eq!(back, id);
            us
        })
        .collect();
    slot.when(|turn| turn == Turn::Empty, |s| s.turn = Turn::Closed);
    echo.join().expect("echo thread");
    times
}

// --- pipes to a child process --------------------------------------------

/// Reads the sink's "count bytes" answer.
fn sink_total(out: impl io::Read) -> io::Result<u64> {
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    line.split_whitespace()
        .nth(1)
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad answer from the sink child: {line:?}")))
}

fn json_throughput(t: &Message, n: usize) -> io::Result<f64> {
    let mut child = Worker::spawn("json-sink", &[], true)?;
    let out = child.take_stdout();
    let mut input = BufWriter::with_capacity(64 * 1024, child.take_stdin());
    let start = Instant::now();
    for id in 0..n as u64 {
        serde_json::to_writer(&mut input, &make(t, id))?;
        input.write_all(b"\n")?;
    }
    input.flush()?;
    drop(input); // end of input: the sink answers with its totals
    let total = sink_total(out)?;
    let secs = start.elapsed().as_secs_f64();
    child.finish()?;
    check_total("JSON pipe", total, (n * t.body.len()) as u64)?;
    Ok(secs)
}

fn json_round_trips(t: &Message, n: usize) -> io::Result<Vec<f64>> {
    let mut child = Worker::spawn("json-echo", &[], true)?;
    let mut out = BufReader::new(child.take_stdout());
    let mut input = BufWriter::with_capacity(64 * 1024, child.take_stdin());
    let mut line = String::new();
    let mut times = Vec::with_capacity(n);
    for id in 0..n as u64 {
        let start = Instant::now();
        serde_json::to_writer(&mut input, &make(t, id))?;
        input.write_all(b"\n")?;
        input.flush()?;
        line.clear();
        out.read_line(&mut line)?;
        let back: Message = serde_json::from_str(&line)?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        assert_eq!(back.id, id);
    }
    drop(input);
    child.finish()?;
    Ok(times)
}

fn raw_throughput(t: &Message, n: usize) -> io::Result<f64> {
    let mut child = Worker::spawn("raw-sink", &[], true)?;
    let out = child.take_stdout();
    let mut input = BufWriter::with_capacity(64 * 1024, child.take_stdin());
    let start = Instant::now();
    for id in 0..n as u64 {
        // No encoding: the body's bytes go to the pipe as they are.
        let m = make(t, id);
        write_frame(&mut input, m.id, m.body.as_bytes())?;
    }
    input.flush()?;
    drop(input);
    let total = sink_total(out)?;
    let secs = start.elapsed().as_secs_f64();
    child.finish()?;
    check_total("raw pipe", total, (n * t.body.len()) as u64)?;
    Ok(secs)
}

fn raw_round_trips(t: &Message, n: usize) -> io::Result<Vec<f64>> {
    let mut child = Worker::spawn("raw-echo", &[], true)?;
    let mut out = BufReader::new(child.take_stdout());
    let mut input = BufWriter::with_capacity(64 * 1024, child.take_stdin());
    let mut body = Vec::with_capacity(t.body.len());
    let mut times = Vec::with_capacity(n);
    for id in 0..n as u64 {
        let start = Instant::now();
        let m = make(t, id);
        write_frame(&mut input, m.id, m.body.as_bytes())?;
        input.flush()?;
        let back = read_frame(&mut out, &mut body)?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        assert_eq!(back, Some(id));
    }
    drop(input);
    child.finish()?;
    Ok(times)
}

// --- driver --------------------------------------------------------------

fn throughput(method: &str, t: &Message, n: usize) -> io::Result<f64> {
    match method {
        "channel" => channel_throughput(t, n),
        "shared" => shared_throughput(t, n),
        "json-pipe" => json_throughput(t, n),
        _ => raw_throughput(t, n),
    }
}

fn round_trips(method: &str, t: &Message, n: usize) -> io::Result<Vec<f64>> {
    // The first few round trips warm caches and the child up: not counted.
    let warm = (n / 10).max(1);
    let times = match method {
        "channel" => channel_round_trips(t, n + warm),
        "shared" => shared_round_trips(t, n + warm),
        "json-pipe" => json_round_trips(t, n + warm)?,
        _ => raw_round_trips(t, n + warm)?,
    };
    Ok(times[warm..].to_vec())
}

pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<CommReport> {
    let mut results = Vec::new();
    for (bytes, messages, trips) in [
        (SMALL_BYTES, plan.small_messages, plan.small_round_trips),
        (LARGE_BYTES, plan.large_messages, plan.large_round_trips),
    ] {
        let t = template(bytes);
        let size = size_name(bytes);
        tick(&format!("communication: throughput, {size}"));
        let mut rates = vec![Vec::new(); METHODS.len()];
        for (method, _) in METHODS {
            throughput(method, &t, messages.div_ceil(10).max(1))?; // warm-up
        }
        // Each round runs every method in turn (see scaling.rs for why).
        for _ in 0..plan.comm_rounds {
            for (i, (method, _)) in METHODS.iter().enumerate() {
                rates[i].push(messages as f64 / throughput(method, &t, messages)?);
            }
        }
        for ((method, label), rates) in METHODS.into_iter().zip(rates) {
            tick(&format!("communication: round trips, {label}, {size}"));
            let messages_per_s = Stats::of(rates);
            results.push(CommResult {
                method: method.into(),
                label: label.into(),
                message_bytes: bytes,
                messages,
                bytes_per_s: messages_per_s.scaled(bytes as f64),
                messages_per_s,
                round_trip_us: Stats::of(round_trips(method, &t, trips)?),
            });
        }
    }
    Ok(CommReport { results })
}

/// The method's name in the table (the charts use the longer label).
pub fn short_label(method: &str) -> &'static str {
    match method {
        "channel" => "channel (thread)",
        "shared" => "Mutex slot (thread)",
        "json-pipe" => "JSON pipe (process)",
        _ => "raw pipe (process)",
    }
}

/// "64 B" or "64 KiB".
pub fn size_name(bytes: usize) -> String {
    if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}
