//! A child process's events, carried back to the check that traces it.
//!
//! A check's trace (see [`crate::trace`]) lives in the check's process, but
//! some of what it should show happens in other processes: the workers the
//! learner's code starts. Their pipes belong to the learner's code, so the
//! events travel on a line of their own: the check listens on a loopback
//! socket ([`Inbox::listen`]) and names its address in an environment
//! variable, which the workers inherit like the rest of the environment;
//! a worker's [`tell`] connects on first use and writes one line per event,
//! stamped with the system clock, the one clock both processes share. The
//! check moves each stamp onto its own clock ([`Event::at_us`]).
//!
//! The end of a connection is the end of the process (the system closes a
//! process's sockets however it ends), so a worker that is killed still
//! says when, by going quiet.
//!
//! Recording only: nothing that travels here may decide a verdict. With
//! tracing off ([`crate::trace::enabled`]) the check opens no socket and the
//! workers, finding no address, send nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::trace;

/// The system clock in µs since 1970.
pub fn wall_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

// ----------------------------------------------------------------- worker side

/// This process's line to the check: made on the first [`tell`], for the
/// variable named then (a process reports to one check).
static LINE: OnceLock<Option<Mutex<TcpStream>>> = OnceLock::new();

fn line(env: &str) -> Option<MutexGuard<'static, TcpStream>> {
    let stream = LINE.get_or_init(|| {
        let addr = std::env::var(env).ok().filter(|a| !a.is_empty())?;
        let mut stream = TcpStream::connect(addr).ok()?;
        // Each event is one small write: send it now, not with the next.
        let _ = stream.set_nodelay(true);
        writeln!(stream, "{} pid {}", wall_us(), std::process::id()).ok()?;
        Some(Mutex::new(stream))
    });
    stream
        .as_ref()
        .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Whether this process has a check to tell (the variable `env` names one
/// and it could be reached), so a worker can skip work done only for it.
pub fn listening(env: &str) -> bool {
    line(env).is_some()
}

/// Worker side: tells the check listening at the address in `env` about
/// `event` (a word, then what goes with it), stamped with the system clock.
/// Nothing happens when no check listens.
pub fn tell(env: &str, event: &str) {
    if let Some(mut stream) = line(env) {
        let _ = stream.write_all(format!("{} {event}\n", wall_us()).as_bytes());
    }
}

// ------------------------------------------------------------------ check side

/// Maps a worker's system-clock stamps onto the check's trace clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The system clock (µs) when the trace clock read `mono_base`.
    wall_base: u64,
    mono_base: u64,
}

impl Clock {
    /// Both clocks read now.
    pub fn now() -> Clock {
        Clock {
            wall_base: wall_us(),
            mono_base: trace::now_us(),
        }
    }

    /// A system-clock stamp on the trace clock.
    pub fn at(&self, wall: u64) -> u64 {
        if wall >= self.wall_base {
            self.mono_base + (wall - self.wall_base)
        } else {
            self.mono_base.saturating_sub(self.wall_base - wall)
        }
    }
}

/// One event a worker told, on the check's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at_us: u64,
    /// The first word of what the worker told.
    pub what: String,
    /// The rest (may be empty).
    pub arg: String,
}

/// One worker's connection: its process id, when it connected, and its
/// events as they come (the iterator ends when the worker is gone).
pub struct Connection {
    pub pid: u32,
    pub since_us: u64,
    pub events: Box<dyn Iterator<Item = Event> + Send>,
}

/// The check's side: listens while it lives, and hands each worker's
/// connection to a function of the check's on a thread of its own.
pub struct Inbox {
    env: &'static str,
    addr: String,
    stop: Arc<AtomicBool>,
}

impl Inbox {
    /// Listens on a loopback port and sets `env` to its address (for the
    /// workers started from now on); `None` when tracing is off or no
    /// socket can be had (then there is no picture, and nothing else
    /// changes).
    pub fn listen(
        env: &'static str,
        serve: impl Fn(Connection) + Send + Sync + 'static,
    ) -> Option<Inbox> {
        if !trace::enabled() {
            return None;
        }
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let addr = listener.local_addr().ok()?.to_string();
        let clock = Clock::now();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let serve = Arc::new(serve);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let serve = Arc::clone(&serve);
                std::thread::spawn(move || {
                    if let Some(connection) = connection(stream, clock) {
                        serve(connection);
                    }
                });
            }
        });
        std::env::set_var(env, &addr);
        Some(Inbox { env, addr, stop })
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        std::env::remove_var(self.env);
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees `stop`.
        let _ = TcpStream::connect(&self.addr);
    }
}

/// A line a worker told: its stamp, the word and the rest.
fn parse(line: &str) -> Option<(u64, &str, &str)> {
    let (wall, rest) = line.split_once(' ')?;
    let (what, arg) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((wall.parse().ok()?, what, arg))
}

fn connection(stream: TcpStream, clock: Clock) -> Option<Connection> {
    let mut lines = BufReader::new(stream).lines();
    let first = lines.next()?.ok()?;
    let (wall, "pid", pid) = parse(&first)? else {
        return None;
    };
    let events = lines.map_while(Result::ok).filter_map(move |line| {
        let (wall, what, arg) = parse(&line)?;
        Some(Event {
            at_us: clock.at(wall),
            what: what.to_string(),
            arg: arg.to_string(),
        })
    });
    Some(Connection {
        pid: pid.parse().ok()?,
        since_us: clock.at(wall),
        events: Box::new(events),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_moves_onto_the_trace_clock() {
        let clock = Clock {
            wall_base: 1_000_000,
            mono_base: 500,
        };
        assert_eq!(clock.at(1_000_250), 750);
        assert_eq!(clock.at(999_900), 400);
        // Before the trace began: time zero, not a wrap-around.
        assert_eq!(clock.at(1), 0);
    }

    #[test]
    fn a_line_is_a_stamp_a_word_and_the_rest() {
        assert_eq!(parse("12 in 3 4096"), Some((12, "in", "3 4096")));
        assert_eq!(parse("12 exit"), Some((12, "exit", "")));
        assert_eq!(parse("soon exit"), None);
    }

    #[test]
    fn a_workers_events_reach_the_check_in_order() {
        let clock = Clock::now();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let worker = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let now = wall_us();
            write!(s, "{now} pid 42\n{now} in 0 10\n{now} exit\n").unwrap();
        });
        let (stream, _) = listener.accept().unwrap();
        worker.join().unwrap();
        let c = connection(stream, clock).unwrap();
        assert_eq!(c.pid, 42);
        let got: Vec<(String, String)> = c.events.map(|e| (e.what, e.arg)).collect();
        assert_eq!(
            got,
            [("in".into(), "0 10".into()), ("exit".into(), String::new())]
        );
    }
}
