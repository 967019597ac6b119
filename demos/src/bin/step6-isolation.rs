//! Step 6 demo: what a failure takes down. A panic on a thread comes back
//! through `join`; a hang on a thread cannot be stopped; an abort, a stack
//! overflow or a failed allocation kills the whole process, so we let them
//! happen in child processes, where the parent survives, sees how the child
//! ended, and can kill it when it hangs.
//!
//! Run it with: cargo run -p demos --bin step6-isolation

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The argument that makes this program a child that misbehaves.
const ROLE: &str = "--misbehave";

/// What the child does when started as `<exe> --misbehave <how>`.
fn misbehave(how: &str) {
    match how {
        "abort" => std::process::abort(),
        "overflow" => {
            // The overflow happens on a thread, but it kills the process.
            let t = std::thread::spawn(|| recurse(0));
            let _ = t.join();
            println!("unreachable: the process is gone");
        }
        "oom" => {
            // Far more than any machine has: the allocation fails, and Rust's
            // default reaction to that is to abort the process.
            let huge = vec![0u8; 1 << 62];
            println!("unreachable: {}", huge.len());
        }
        "hang" => loop {
            std::thread::park();
        },
        _ => println!("fine"),
    }
}

fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let local = [depth; 64];
    std::hint::black_box(&local);
    recurse(depth + 1) + local[0]
}

// ANCHOR: thread-panic
fn panic_on_a_thread() {
    let handle = std::thread::spawn(|| -> u32 { panic!("a job went wrong") });
    match handle.join() {
        Ok(value) => println!("  the thread returned {value}"),
        Err(_) => println!("  join() returned Err: the panic stayed on its thread, we carry on"),
    }
}
// ANCHOR_END: thread-panic

// ANCHOR: thread-hang
fn hang_on_a_thread() {
    let (never_tx, never_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        // Waits for a message that never comes (we keep the sender).
        let _ = never_rx.recv();
        let _ = done_tx.send(());
    });
    // We can stop *waiting* for it...
    let limit = Duration::from_millis(500);
    let gave_up = done_rx.recv_timeout(limit).is_err();
    // ...but there is no `handle.kill()`: std has no way to stop a thread
    // from outside. It runs on until the whole process exits.
    println!(
        "  gave up waiting after {} ms: {gave_up}; the thread has finished: {}",
        limit.as_millis(),
        handle.is_finished()
    );
    std::mem::forget(never_tx); // keep it blocked; the process exit ends it
}
// ANCHOR_END: thread-hang

// ANCHOR: child
/// Starts this program as a child that misbehaves in the way `how` says, and
/// waits at most `limit` for it to end; a child still running then is killed.
fn in_a_child(how: &str, limit: Duration) -> String {
    let exe = std::env::current_exe().expect("the path of this program");
    let mut child = Command::new(exe)
        .args([ROLE, how])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let started = Instant::now();
    // The child's stdout closes when it ends: a reader thread tells us when.
    let done = ends_within(&mut child, limit);
    let killed = if done {
        false
    } else {
        child.kill().expect("kill the child");
        true
    };
    let status = child.wait().expect("wait for the child");
    format!(
        "{}{} after {} ms",
        if killed { "killed, " } else { "" },
        describe(status),
        started.elapsed().as_millis()
    )
}

fn ends_within(child: &mut Child, limit: Duration) -> bool {
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = stdout.read_to_end(&mut sink);
        let _ = tx.send(());
    });
    rx.recv_timeout(limit).is_ok()
}
// ANCHOR_END: child

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("ended by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code} ({code:#x})"),
        None => "ended without an exit code".to_string(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(ROLE) {
        misbehave(args.get(2).map(String::as_str).unwrap_or(""));
        return;
    }
    // Keep the demo's own output readable: the thread's panic message would
    // otherwise be printed in the middle of it.
    std::panic::set_hook(Box::new(|_| {}));

    println!("On a thread, in this process:");
    panic_on_a_thread();
    hang_on_a_thread();

    let limit = Duration::from_secs(1);
    println!("\nIn a child process, with a {} s limit:", limit.as_secs());
    for how in ["fine", "abort", "overflow", "oom", "hang"] {
        println!("  {how:<9} {}", in_a_child(how, limit));
    }
    println!("\nThe parent is still here, after all of that.");
}
