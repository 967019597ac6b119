//! The memory of a check's whole process tree (Linux).
//!
//! `RLIMIT_DATA` (see [`crate::containment`]) stops one process's private
//! allocations, but not a shared mapping (`MAP_SHARED`), and each child of a
//! check has a limit of its own: four children under the limit can use four
//! times it together. While a check runs, a thread of the grader adds up the
//! proportional set size (`Pss` in `/proc/<pid>/smaps_rollup`: each page
//! divided among the processes that share it, so a shared mapping counts
//! once) of every process in the check's process group, and kills the group
//! when the sum passes the limit.
//!
//! The sum is sampled, so a spike shorter than the interval between samples
//! can go unseen; what is seen is real use. A kill only ever turns a run
//! into "used more than N MiB", and only after that much was in use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// How often the tree's memory is added up.
const EVERY: Duration = Duration::from_millis(20);

/// Watches the tree of the check led by `pid` until dropped.
pub struct Watch {
    stop: Option<mpsc::Sender<()>>,
    over: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    /// Starts watching (Linux, where `/proc` tells; elsewhere it watches
    /// nothing and never reports).
    pub fn start(pid: u32, limit_bytes: u64) -> Watch {
        let over = Arc::new(AtomicBool::new(false));
        if !cfg!(target_os = "linux") {
            return Watch {
                stop: None,
                over,
                thread: None,
            };
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let flag = over.clone();
        let thread = std::thread::Builder::new()
            .name("tree-memory".into())
            .spawn(move || {
                // Ends when the sender is dropped (the check ended).
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    if group_pss_bytes(pid) > limit_bytes {
                        flag.store(true, Ordering::SeqCst);
                        kill_group(pid);
                        break;
                    }
                }
            })
            .ok();
        Watch {
            stop: Some(stop),
            over,
            thread,
        }
    }

    /// Stops watching; whether the tree went over the limit.
    pub fn finish(mut self) -> bool {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.over.load(Ordering::SeqCst)
    }
}

#[cfg(target_os = "linux")]
fn kill_group(pid: u32) {
    // SAFETY: kill(2) on a process group; no memory is touched.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_group(_pid: u32) {}

/// The summed PSS of every process in process group `pgid`, in bytes.
#[cfg(target_os = "linux")]
fn group_pss_bytes(pgid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| process_group(pid) == Some(pgid))
        .map(pss_bytes)
        .sum()
}

#[cfg(not(target_os = "linux"))]
fn group_pss_bytes(_pgid: u32) -> u64 {
    0
}

/// The fifth field of /proc/<pid>/stat (after the command name, which may
/// hold spaces and parentheses).
#[cfg(target_os = "linux")]
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(target_os = "linux")]
fn pss_bytes(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_group_and_a_pss() {
        let me = std::process::id();
        assert!(process_group(me).is_some());
        assert!(pss_bytes(me) > 0);
    }
}
