//! Pitfall: children nobody waits for.
//!
//! Run: `cargo run -p demos --bin zombie-children`
//!
//! A child that has exited but has not been waited for stays in the process
//! table as a "zombie": its exit status is kept for a parent that never asks.
//! On Linux this demo shows the zombie's state in /proc, then reaps it.

use std::process::Command;
use std::time::Duration;

use demos::role;

fn main() -> std::io::Result<()> {
    if role().as_deref() == Some("exit-at-once") {
        return Ok(()); // the child's whole life
    }
    let me = std::env::current_exe()?;
    let mut child = Command::new(&me).args(["--role", "exit-at-once"]).spawn()?;
    let pid = child.id();
    println!("started child {pid}; it exits at once");

    // (Not waiting yet. On Linux, look at the child's state meanwhile.)
    show_state_until_zombie(pid);

    let status = child.wait()?; // reaps the child: the OS can forget it now
    println!("wait() returned {status}");
    show_state_after_wait(pid);
    Ok(())
}

/// Polls /proc/<pid>/stat until the child shows state `Z` (zombie).
#[cfg(target_os = "linux")]
fn show_state_until_zombie(pid: u32) {
    use std::time::Instant;

    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(state) = linux_state(pid) {
            if state == 'Z' {
                println!("/proc says child {pid} is in state Z: a zombie, exited but not reaped");
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("child {pid} did not become a zombie within 5 s (a very busy machine?)");
}

#[cfg(target_os = "linux")]
fn show_state_after_wait(pid: u32) {
    match linux_state(pid) {
        None => println!("/proc/{pid} is gone: nothing left of the child"),
        Some(state) => println!("/proc/{pid} still there, state {state} (pid reused?)"),
    }
}

/// The one-letter state from /proc/<pid>/stat, or None if there is no such process.
#[cfg(target_os = "linux")]
fn linux_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Format: "<pid> (<name>) <state> ..."; the name may contain spaces.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(not(target_os = "linux"))]
fn show_state_until_zombie(_pid: u32) {
    // No /proc here; give the child time to exit so it really is a zombie.
    std::thread::sleep(Duration::from_millis(300));
    println!("(on Linux this demo reads the zombie state from /proc; on macOS `ps` shows Z)");
    println!(
        "(on Windows an exited process lingers while a handle to it is open; Child holds one)"
    );
}

#[cfg(not(target_os = "linux"))]
fn show_state_after_wait(_pid: u32) {}
