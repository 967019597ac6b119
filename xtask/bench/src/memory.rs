//! Benchmark 2: resident memory added by an idle thread and by an idle child
//! process. Read from `/proc` on Linux; elsewhere it reports "not measured"
//! instead of guessing.

use std::io;

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::stats::Stats;

/// KiB per idle thread or child. Every field is `None` where not measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryReport {
    pub measured: bool,
    /// Where the numbers come from, or why there are none.
    pub source: String,
    pub idle_threads: usize,
    pub idle_children: usize,
    /// Growth of this process's resident set (Rss) per idle thread.
    pub per_thread_resident_kib: Option<Stats>,
    /// Growth of this process's address space (VmSize) per idle thread:
    /// reserved, mostly never touched (the stack reservation).
    pub per_thread_reserved_kib: Option<Stats>,
    /// An idle child's whole resident set (Rss), shared library pages
    /// included: what `top` shows as RES.
    pub per_process_resident_kib: Option<Stats>,
    /// An idle child's private pages only (Private_Clean + Private_Dirty in
    /// smaps_rollup): memory that exists because the child exists.
    pub per_process_private_kib: Option<Stats>,
}

#[cfg(target_os = "linux")]
pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<MemoryReport> {
    linux::run(plan, tick)
}

#[cfg(not(target_os = "linux"))]
pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<MemoryReport> {
    tick("memory: threads (not measured here)");
    tick("memory: processes (not measured here)");
    Ok(MemoryReport {
        measured: false,
        source: "not measured: the bench reads resident memory from /proc, which only Linux has"
            .into(),
        idle_threads: plan.idle_threads,
        idle_children: plan.idle_children,
        per_thread_resident_kib: None,
        per_thread_reserved_kib: None,
        per_process_resident_kib: None,
        per_process_private_kib: None,
    })
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{self, BufRead, BufReader};
    use std::sync::{Arc, Barrier};
    use std::thread;

    use super::MemoryReport;
    use crate::child::Worker;
    use crate::plan::Plan;
    use crate::stats::Stats;

    /// The value in KiB of the line `key:  1234 kB` in a /proc file.
    fn kib(text: &str, key: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    }

    fn status(pid: &str) -> io::Result<String> {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
    }

    fn field(text: &str, key: &str) -> io::Result<f64> {
        kib(text, key).ok_or_else(|| io::Error::other(format!("no {key} in /proc status")))
    }

    /// Resident KiB of a process: `Rss` in smaps_rollup (counted page by
    /// page, exact) or, on kernels before 4.14, VmRSS in status (which the
    /// kernel may update lazily, a little behind).
    fn self_resident() -> io::Result<f64> {
        resident("self")
    }

    fn resident(pid: &str) -> io::Result<f64> {
        match std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            Ok(text) => field(&text, "Rss"),
            Err(_) => field(&status(pid)?, "VmRSS"),
        }
    }

    /// Idle threads that stay alive until the value is dropped.
    struct IdleThreads {
        stops: Vec<crossbeam_channel::Sender<()>>,
        threads: Vec<thread::JoinHandle<()>>,
    }

    impl IdleThreads {
        fn new() -> IdleThreads {
            IdleThreads {
                stops: Vec::new(),
                threads: Vec::new(),
            }
        }

        /// Starts `n` more threads and returns once all of them are running.
        fn add(&mut self, n: usize) {
            let started = Arc::new(Barrier::new(n + 1));
            let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
            for _ in 0..n {
                let started = Arc::clone(&started);
                let stopped = stopped.clone();
                self.threads.push(thread::spawn(move || {
                    started.wait();
                    // Idle until the sender is dropped.
                    let _ = stopped.recv();
                }));
            }
            started.wait();
            // Dropping a batch's sender ends that batch: keep it.
            self.stops.push(stop);
        }
    }

    impl Drop for IdleThreads {
        fn drop(&mut self) {
            self.stops.clear();
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }

    /// Starts `n` idle children; returns each one's resident and private KiB.
    fn process_round(n: usize) -> io::Result<Vec<(f64, Option<f64>)>> {
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            let mut child = Worker::spawn("idle", &[], true)?;
            let mut ready = String::new();
            BufReader::new(child.take_stdout()).read_line(&mut ready)?;
            if ready.trim() != "ready" {
                return Err(io::Error::other("idle child did not start"));
            }
            children.push(child);
        }
        let mut sizes = Vec::with_capacity(n);
        for child in &children {
            let pid = child.id().to_string();
            let resident = resident(&pid)?;
            // smaps_rollup exists since Linux 4.14; without it, no private size.
            let private = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .ok()
                .and_then(|t| Some(kib(&t, "Private_Clean")? + kib(&t, "Private_Dirty")?));
            sizes.push((resident, private));
        }
        for child in children {
            child.finish()?;
        }
        Ok(sizes)
    }

    pub fn run(plan: &Plan, tick: &mut dyn FnMut(&str)) -> io::Result<MemoryReport> {
        tick("memory: idle threads");
        // Threads stay alive across rounds: the C library keeps the stacks
        // of finished threads for reuse, and a reused stack would hide the
        // cost of a new one. The first batch uses up any such cached stacks.
        let mut idle = IdleThreads::new();
        idle.add(plan.idle_threads);
        let mut resident = Vec::new();
        let mut reserved = Vec::new();
        let per = |after: f64, before: f64| (after - before) / plan.idle_threads as f64;
        for _ in 0..plan.memory_rounds {
            let (rss, size) = (self_resident()?, field(&status("self")?, "VmSize")?);
            idle.add(plan.idle_threads);
            resident.push(per(self_resident()?, rss));
            reserved.push(per(field(&status("self")?, "VmSize")?, size));
        }
        drop(idle);
        tick("memory: idle child processes");
        let mut child_resident = Vec::new();
        let mut child_private = Vec::new();
        for _ in 0..plan.memory_rounds {
            for (r, p) in process_round(plan.idle_children)? {
                child_resident.push(r);
                child_private.extend(p);
            }
        }
        let private_measured = child_private.len() == child_resident.len();
        Ok(MemoryReport {
            measured: true,
            source: "Linux /proc: Rss, Private_Clean and Private_Dirty in \
                     /proc/PID/smaps_rollup, VmSize in /proc/PID/status"
                .into(),
            idle_threads: plan.idle_threads,
            idle_children: plan.idle_children,
            per_thread_resident_kib: Some(Stats::of(resident)),
            per_thread_reserved_kib: Some(Stats::of(reserved)),
            per_process_resident_kib: Some(Stats::of(child_resident)),
            per_process_private_kib: private_measured.then(|| Stats::of(child_private)),
        })
    }
}
