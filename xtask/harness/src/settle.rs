//! "Nothing more will happen": proven by looking, not by waiting.
//!
//! Some checks must show that something does *not* happen: a pool of three
//! workers never starts a fourth job while three are held, a full queue
//! keeps `submit` waiting, `shutdown` does not return while jobs still run.
//! Waiting a while and seeing nothing proves little: a wrong answer that is
//! slow to misbehave (a busy machine, one CPU) passes.
//!
//! [`settled`] proves it instead. On Linux it reads the scheduler's view of
//! every thread of this process (except the caller) and of the given child
//! processes: their state and their context-switch counts, from
//! `/proc/<pid>/task/<tid>/status`. When every thread is asleep (blocked on
//! a lock, a channel, a pipe, a join) in two readings in a row and no
//! thread's counts changed between them, no thread ran in between, and none
//! is about to: a woken thread is runnable, not asleep. From then on nothing
//! changes until the check itself lets something go, so what the check
//! sees now (how many jobs started, whether `submit` returned) is final.
//!
//! The one thing that can still wake a sleeping thread is a timer (a
//! `sleep`, a `recv_timeout`), so code that polls on a timer can look
//! settled between two polls. That only lets a wrong answer that polls go
//! unnoticed; a right answer is never failed by it.
//!
//! Elsewhere (macOS, Windows) there is no such view without more
//! dependencies, and [`settled`] says [`Settled::Unknown`] after a short
//! pause: the check then decides on what it saw by the end of that pause,
//! which is what every platform did before.

use std::time::Duration;

/// What [`settled`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Every thread was asleep and stayed asleep: nothing more will happen
    /// until the check acts.
    Yes,
    /// Still busy when `limit` ran out (something kept running).
    Busy,
    /// This platform cannot tell; the caller waited `fallback` instead.
    Unknown,
}

/// How long callers on other platforms wait before deciding.
pub const FALLBACK: Duration = Duration::from_millis(200);

/// Waits until every thread of this process except the calling one, and
/// every thread of the child processes `children()` lists, is asleep and
/// stays so (see the module's documentation), or `limit` passes.
///
/// `children()` is asked at every reading. It returns `None` while the
/// check knows of something in flight that the readings cannot see: a
/// child being started, say (the parent thread sleeps while the new
/// process, whose id the check does not know yet, runs).
pub fn settled(children: &dyn Fn() -> Option<Vec<u32>>, limit: Duration) -> Settled {
    #[cfg(target_os = "linux")]
    {
        linux::settled(children, HOLD, limit)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (children, limit);
        std::thread::sleep(FALLBACK);
        Settled::Unknown
    }
}

/// How long the readings must stay the same before [`settled`] believes
/// them. One reading cannot tell a thread that sleeps from one whose wake-up
/// the kernel has queued but not yet carried out (a wake-up sent to another
/// CPU waits for that CPU, and a virtual machine's CPU can be paused by its
/// host for milliseconds); that state does not last. Requiring the same
/// picture over this span keeps such a moment from counting as settled.
pub const HOLD: Duration = Duration::from_millis(20);

/// Every process this one started, and every process those started, that
/// is still there (running, or a zombie not yet waited for): the
/// `children` to pass to [`settled`] when the code under test starts
/// processes the check does not know of. On Linux from `/proc`; elsewhere
/// empty (there [`settled`] does not look at processes).
pub fn descendants() -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        linux::descendants(std::process::id())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Vec::new()
    }
}

/// Watches for stillness across calls, for a caller that waits for
/// something else at the same time (a channel, say): each
/// [`Stillness::still_for`] takes one reading and says for how long every
/// reading has been the same, with every thread asleep.
pub struct Stillness<'a> {
    children: &'a dyn Fn() -> Option<Vec<u32>>,
    #[cfg(target_os = "linux")]
    first: Option<(Vec<linux::Seen>, std::time::Instant)>,
}

impl<'a> Stillness<'a> {
    pub fn new(children: &'a dyn Fn() -> Option<Vec<u32>>) -> Stillness<'a> {
        Stillness {
            children,
            #[cfg(target_os = "linux")]
            first: None,
        }
    }

    /// How long everything has been asleep and unchanged, from the first
    /// reading of this picture to this one; `None` when it is not (or on a
    /// platform that cannot tell). Call it from the thread that waits: that
    /// thread is left out of the readings.
    pub fn still_for(&mut self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: gettid has no preconditions.
            let me = unsafe { libc::gettid() } as u32;
            let now = linux::snapshot(self.children, me).filter(|n| n.iter().all(linux::asleep));
            match (now, &self.first) {
                (Some(now), Some((first, since))) if &now == first => Some(since.elapsed()),
                (Some(now), _) => {
                    self.first = Some((now, std::time::Instant::now()));
                    Some(Duration::ZERO)
                }
                (None, _) => {
                    self.first = None;
                    None
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = self.children;
            None
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::time::Instant;

    /// The children of `pid`, from `/proc/<pid>/task/*/children`; `None`
    /// where the kernel does not offer that file.
    fn children_of(pid: u32) -> Option<Vec<u32>> {
        let mut found = Vec::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()?
            .flatten()
        {
            match std::fs::read_to_string(task.path().join("children")) {
                Ok(text) => found.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                ),
                // A thread that ended since the listing has no children.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && task.path().exists() => {
                    return None
                }
                Err(_) => {}
            }
        }
        Some(found)
    }

    /// Every process's parent, read from `/proc/<pid>/stat`.
    fn parents() -> Vec<(u32, u32)> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                // `pid (name) state ppid ...`; the name may hold spaces.
                let after = &stat[stat.rfind(')')? + 1..];
                let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, ppid))
            })
            .collect()
    }

    pub fn descendants(root: u32) -> Vec<u32> {
        let mut found = Vec::new();
        let mut todo = vec![root];
        let mut table: Option<Vec<(u32, u32)>> = None;
        while let Some(pid) = todo.pop() {
            let children = children_of(pid).unwrap_or_else(|| {
                table
                    .get_or_insert_with(parents)
                    .iter()
                    .filter(|(_, parent)| *parent == pid)
                    .map(|(child, _)| *child)
                    .collect()
            });
            for child in children {
                if !found.contains(&child) {
                    found.push(child);
                    todo.push(child);
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// One thread as the scheduler sees it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Seen {
        pid: u32,
        tid: u32,
        state: char,
        switches: (u64, u64),
    }

    fn read_thread(pid: u32, tid: u32) -> Option<Seen> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
        let mut state = None;
        let (mut voluntary, mut involuntary) = (None, None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "State" => state = value.chars().next(),
                "voluntary_ctxt_switches" => voluntary = value.parse().ok(),
                "nonvoluntary_ctxt_switches" => involuntary = value.parse().ok(),
                _ => {}
            }
        }
        Some(Seen {
            pid,
            tid,
            state: state?,
            switches: (voluntary?, involuntary?),
        })
    }

    /// Every thread of `pid`, sorted; `None` if the process is gone.
    fn read_process(pid: u32) -> Option<Vec<Seen>> {
        let mut tids: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        tids.sort_unstable();
        // A thread that ended between the listing and the reading is simply
        // not there: the next reading differs, so it is read again.
        Some(
            tids.into_iter()
                .filter_map(|t| read_thread(pid, t))
                .collect(),
        )
    }

    /// `None` while `children()` says something is in flight.
    pub fn snapshot(children: &dyn Fn() -> Option<Vec<u32>>, me: u32) -> Option<Vec<Seen>> {
        let children = children()?;
        let mut all = Vec::new();
        let own = std::process::id();
        for pid in std::iter::once(own).chain(children.iter().copied()) {
            for seen in read_process(pid).unwrap_or_default() {
                if !(seen.pid == own && seen.tid == me) {
                    all.push(seen);
                }
            }
        }
        Some(all)
    }

    /// Asleep, waiting for something: `S`. A zombie (`Z`) or a dead task
    /// (`X`) will not run again either. Anything else (running, runnable,
    /// in uninterruptible I/O, stopped) is not settled.
    pub fn asleep(seen: &Seen) -> bool {
        matches!(seen.state, 'S' | 'Z' | 'X')
    }

    pub fn settled(
        children: &dyn Fn() -> Option<Vec<u32>>,
        hold: Duration,
        limit: Duration,
    ) -> Settled {
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() } as u32;
        let started = Instant::now();
        // The first reading of the picture that has not changed since, and
        // when it was taken.
        let mut first = (snapshot(children, me), Instant::now());
        loop {
            // The pause paces the readings; it proves nothing by itself.
            std::thread::sleep(Duration::from_millis(2));
            let now = snapshot(children, me);
            let same = matches!((&now, &first.0), (Some(now), Some(before)) if now == before && now.iter().all(asleep));
            if same && first.1.elapsed() >= hold {
                return Settled::Yes;
            }
            if started.elapsed() >= limit {
                return Settled::Busy;
            }
            if !same {
                first = (now, Instant::now());
            }
        }
    }
}
