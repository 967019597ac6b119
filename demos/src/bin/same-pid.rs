//! Myth: "every thread is a little process of its own."
//!
//! Run: `cargo run -p demos --bin same-pid`
//!
//! Four threads report their process id and their thread id. The process id
//! is the same for all of them; only the thread id differs.

fn main() {
    show_ids();
    linux_task_count();
}

// ANCHOR: ids
use std::sync::mpsc;

fn show_ids() {
    use std::thread;
    let main_pid = std::process::id();
    println!(
        "main thread:   pid {main_pid}, {:?}",
        thread::current().id()
    );

    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (1..=4)
        .map(|n| {
            let tx = tx.clone();
            thread::spawn(move || {
                // Each thread asks the OS-independent std API who it is.
                let report = (n, std::process::id(), thread::current().id());
                tx.send(report).unwrap();
            })
        })
        .collect();
    drop(tx); // keep only the workers' senders, so `rx` ends when they do

    for (n, pid, tid) in rx {
        let same = if pid == main_pid { "same" } else { "DIFFERENT" };
        println!("worker {n}:      pid {pid} ({same} process), {tid:?}");
    }
    for w in workers {
        w.join().unwrap();
    }
}
// ANCHOR_END: ids

/// On Linux every thread is a "task" listed under /proc/<pid>/task; they all
/// live under the one process id.
#[cfg(target_os = "linux")]
fn linux_task_count() {
    use std::thread;
    let barrier = std::sync::Barrier::new(4);
    let threads = thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                barrier.wait(); // everyone is alive now
                barrier.wait(); // ...until main has counted
            });
        }
        barrier.wait();
        let count = std::fs::read_dir("/proc/self/task").map(|d| d.count());
        barrier.wait();
        count
    });
    match threads {
        Ok(n) => println!("\n/proc/self/task lists {n} threads (main + 3 scoped) under one pid"),
        Err(e) => println!("\ncould not read /proc/self/task: {e}"),
    }
}

#[cfg(not(target_os = "linux"))]
fn linux_task_count() {
    println!("\n(On Linux this demo also counts the threads under /proc/self/task.)");
}
