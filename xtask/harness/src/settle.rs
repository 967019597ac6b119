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
        linux::settled(children, limit)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (children, limit);
        std::thread::sleep(FALLBACK);
        Settled::Unknown
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::time::Instant;

    /// One thread as the scheduler sees it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Seen {
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
    fn snapshot(children: &dyn Fn() -> Option<Vec<u32>>, me: u32) -> Option<Vec<Seen>> {
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
    fn asleep(seen: &Seen) -> bool {
        matches!(seen.state, 'S' | 'Z' | 'X')
    }

    pub fn settled(children: &dyn Fn() -> Option<Vec<u32>>, limit: Duration) -> Settled {
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() } as u32;
        let started = Instant::now();
        let mut before = snapshot(children, me);
        loop {
            // The pause paces the readings; it proves nothing by itself.
            std::thread::sleep(Duration::from_millis(2));
            let now = snapshot(children, me);
            if let (Some(now), Some(before)) = (&now, &before) {
                if now == before && now.iter().all(asleep) {
                    return Settled::Yes;
                }
            }
            if started.elapsed() >= limit {
                return Settled::Busy;
            }
            before = now;
        }
    }
}
