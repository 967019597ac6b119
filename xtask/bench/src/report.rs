//! The whole run as one JSON document, and the table printed for people.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::blocking::BlockingReport;
use crate::comm::{size_name, CommReport};
use crate::memory::MemoryReport;
use crate::scaling::ScalingReport;
use crate::spawn::SpawnReport;
use crate::stats::Stats;

/// Changes whenever a field changes meaning or disappears.
pub const SCHEMA: &str = "course-bench/1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub machine: Machine,
    /// "quick", "full" or "tiny" (tests only).
    pub plan: String,
    /// Wall time of the whole run, in seconds.
    pub duration_s: f64,
    pub spawn: SpawnReport,
    pub memory: MemoryReport,
    pub communication: CommReport,
    pub scaling: ScalingReport,
    pub blocking: BlockingReport,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub os: String,
    pub os_version: Option<String>,
    pub arch: String,
    pub cpu: Option<String>,
    /// What `std::thread::available_parallelism` says.
    pub cores: usize,
    pub rustc: String,
    /// "release" or "debug": only release numbers are worth comparing.
    pub profile: String,
    /// When the run started, UTC, e.g. "2026-11-26T14:05Z".
    pub date: String,
}

impl Machine {
    pub fn describe() -> Machine {
        Machine {
            os: std::env::consts::OS.into(),
            os_version: os_version(),
            arch: std::env::consts::ARCH.into(),
            cpu: cpu_name(),
            cores: crate::scaling::cores(),
            rustc: env!("BENCH_RUSTC_VERSION").into(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
            date: utc_now(),
        }
    }
}

#[cfg(target_os = "linux")]
fn os_version() -> Option<String> {
    let release = std::fs::read_to_string("/etc/os-release").ok();
    let name = release.as_deref().and_then(|r| {
        r.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|n| n.trim_matches('"').to_string())
    });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
    match (name, kernel) {
        (Some(n), Some(k)) => Some(format!("{n}, kernel {}", k.trim())),
        (n, k) => n.or(k.map(|k| format!("kernel {}", k.trim()))),
    }
}

#[cfg(not(target_os = "linux"))]
fn os_version() -> Option<String> {
    None
}

#[cfg(target_os = "linux")]
fn cpu_name() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
}

#[cfg(not(target_os = "linux"))]
fn cpu_name() -> Option<String> {
    None
}

/// The current UTC time as "YYYY-MM-DDTHH:MMZ", from the system clock.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar
    // repeats every 400 years = 146 097 days; eras start on 1 March).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// A number with three significant digits and a thousands separator.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.digits$}");
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

/// "median (q1-q3)".
fn spread(s: &Stats) -> String {
    format!("{} ({}-{})", num(s.median), num(s.q1), num(s.q3))
}

impl Report {
    /// The table printed at the end of a run.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let m = &self.machine;
        let _ = writeln!(
            t,
            "Machine: {} cores, {} {}, {} build, {} run, {}\n\
             Compiler: {}\n\
             Cells: median (quartiles: the middle half of the samples lay in between)",
            m.cores, m.os, m.arch, m.profile, self.plan, m.date, m.rustc
        );
        if m.profile != "release" {
            let _ = writeln!(
                t,
                "NOTE: a debug build; these numbers are not representative."
            );
        }

        let s = &self.spawn;
        let _ = writeln!(t, "\n1. Spawn cost (microseconds per operation)");
        let _ = writeln!(
            t,
            "   thread::spawn + join        {:>24}",
            spread(&s.thread_us)
        );
        let _ = writeln!(
            t,
            "   thread::scope, one thread   {:>24}",
            spread(&s.scoped_us)
        );
        let _ = writeln!(
            t,
            "   child process spawn + wait  {:>24}",
            spread(&s.process_us)
        );
        let _ = writeln!(
            t,
            "   => a process costs {}x a thread",
            num(s.process_per_thread)
        );

        let mem = &self.memory;
        let _ = writeln!(t, "\n2. Memory of an idle worker (KiB)");
        if !mem.measured {
            let _ = writeln!(t, "   not measured: {}", mem.source);
        }
        let row = |name: &str, value: &Option<Stats>| match value {
            Some(v) => format!("   {name:<40} {:>24}\n", spread(v)),
            None => format!("   {name:<40} {:>24}\n", "not measured"),
        };
        t += &row(
            "per thread, resident (RSS growth)",
            &mem.per_thread_resident_kib,
        );
        t += &row(
            "per thread, reserved (address space)",
            &mem.per_thread_reserved_kib,
        );
        t += &row(
            "per child process, resident (its RSS)",
            &mem.per_process_resident_kib,
        );
        t += &row(
            "per child process, private pages only",
            &mem.per_process_private_kib,
        );

        let _ = writeln!(t, "\n3. Communication");
        let _ = writeln!(
            t,
            "   {:<19} {:>7} {:>11} {:>9} {:>20}",
            "method", "size", "messages/s", "MB/s", "round trip (us)"
        );
        for r in &self.communication.results {
            let _ = writeln!(
                t,
                "   {:<19} {:>7} {:>11} {:>9} {:>20}",
                crate::comm::short_label(&r.method),
                size_name(r.message_bytes),
                num(r.messages_per_s.median),
                num(r.bytes_per_s.median / 1e6),
                spread(&r.round_trip_us)
            );
        }

        let sc = &self.scaling;
        let _ = writeln!(t, "\n4. Scaling: {} ({} primes)", sc.job, sc.primes);
        let _ = writeln!(
            t,
            "   {:>7} {:>19} {:>7} {:>19} {:>7} {:>5}",
            "workers", "threads (ms)", "speed", "processes (ms)", "speed", "ideal"
        );
        for p in &sc.points {
            let _ = writeln!(
                t,
                "   {:>7} {:>19} {:>6}x {:>19} {:>6}x {:>4}x",
                p.workers,
                spread(&p.threads_ms),
                num(p.threads_speedup),
                spread(&p.processes_ms),
                num(p.processes_speedup),
                p.workers
            );
        }

        let b = &self.blocking;
        let _ = writeln!(
            t,
            "\n5. Blocking: worst tick delay of an event loop ticking every {} ms\n   \
             while a {} ms job runs (ms)",
            num(b.tick_ms),
            num(b.job_ms.median)
        );
        for r in &b.results {
            let _ = writeln!(t, "   {:<40} {:>24}", r.label, spread(&r.worst_delay_ms));
        }
        let _ = writeln!(t, "\nWhole run: {} s", num(self.duration_s));
        t
    }
}
