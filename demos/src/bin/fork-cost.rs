//! Does starting a child get slower as the parent grows?
//!
//! Run: `cargo run --release -p demos --bin fork-cost`
//!
//! The parent grows its own memory in steps (allocating and touching every
//! page), and at each size measures two ways of starting a child:
//!
//! * `Command::spawn` + `wait`, which is how Rust starts programs. On Linux and
//!   macOS the standard library uses `posix_spawn` when it can, which does not
//!   copy the parent's page tables: its cost should stay flat.
//! * (Unix only) a raw `fork()` whose child exits at once. `fork` must copy
//!   the parent's page tables (the pages themselves are shared copy-on-write),
//!   so its cost grows with the parent's size.

use std::process::Command;
use std::time::{Duration, Instant};

use demos::{role, us};

const ROUNDS: u32 = 20;

fn time_command_spawn(me: &std::path::Path) -> Duration {
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let status = Command::new(me)
            .args(["--role", "exit"])
            .status()
            .expect("spawn failed");
        assert!(status.success());
    }
    start.elapsed() / ROUNDS
}

#[cfg(unix)]
fn time_raw_fork() -> Option<Duration> {
    let start = Instant::now();
    for _ in 0..ROUNDS {
        // SAFETY: this program has a single thread at this point, and the
        // child calls only `_exit`, which is async-signal-safe. The parent
        // waits for (reaps) the child before going on.
        unsafe {
            match libc::fork() {
                -1 => return None,
                0 => libc::_exit(0),
                pid => {
                    let mut status = 0;
                    libc::waitpid(pid, &mut status, 0);
                }
            }
        }
    }
    Some(start.elapsed() / ROUNDS)
}

#[cfg(not(unix))]
fn time_raw_fork() -> Option<Duration> {
    None // Windows has no fork: every process starts from an executable.
}

fn main() {
    if role().as_deref() == Some("exit") {
        return;
    }
    let me = std::env::current_exe().expect("where is my own executable?");
    println!(
        "{:>12}  {:>22}  {:>16}",
        "parent size", "Command spawn + wait", "raw fork + wait"
    );

    let mut ballast: Vec<Vec<u8>> = Vec::new();
    let (mut first, mut last) = (None, None);
    for target_mib in [0usize, 256, 512, 1024] {
        while ballast.len() < target_mib / 64 {
            ballast.push(vec![1u8; 64 << 20]); // 64 MiB, every page written
        }
        let spawn = time_command_spawn(&me);
        let raw = time_raw_fork();
        demos::figure_us(&format!("at_{target_mib}_mib.command_us"), spawn);
        if let Some(raw) = raw {
            demos::figure_us(&format!("at_{target_mib}_mib.fork_us"), raw);
        }
        first.get_or_insert((spawn, raw));
        last = Some((spawn, raw));
        let fork = raw.map_or("(no fork here)".to_string(), us);
        println!("{:>8} MiB  {:>22}  {:>16}", target_mib, us(spawn), fork);
    }
    // How many times longer each took at 1 GiB than at 0.
    if let (Some((spawn0, raw0)), Some((spawn1, raw1))) = (first, last) {
        demos::figure(
            "command_growth",
            spawn1.as_secs_f64() / spawn0.as_secs_f64(),
        );
        if let (Some(raw0), Some(raw1)) = (raw0, raw1) {
            demos::figure("fork_growth", raw1.as_secs_f64() / raw0.as_secs_f64());
        }
    }
    std::hint::black_box(&ballast);
}
